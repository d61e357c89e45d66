//! A small resource server protected by `tollgate-verify`.
//!
//! ```text
//! TOLLGATE_ADMIN_TOKEN=admin tollgate serve --listen 127.0.0.1:8080 &
//! ISSUER=http://127.0.0.1:8080/oauth2/default AUDIENCE=api://default \
//!   cargo run -p tollgate-verify --example resource_server
//! curl -H "Authorization: Bearer $(tollgate token --auth-server default --scopes api.read ...)" \
//!   http://127.0.0.1:3000/api/hello
//! ```
//! `GET /api/hello` needs the `api.read` scope; `GET /healthz` is open.
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Json, Router};
use tollgate_verify::{VerifiedToken, Verifier, VerifierConfig, VerifyLayer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let issuer = std::env::var("ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080/oauth2/default".into());
    let audience = std::env::var("AUDIENCE").unwrap_or_else(|_| "api://default".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());

    let verifier = Arc::new(Verifier::new(VerifierConfig::new(issuer.clone()).audience(audience))?);
    let api = Router::new()
        .route("/api/hello", get(hello))
        .layer(VerifyLayer::new(verifier).require_scopes(["api.read"]).realm("example"));
    let app = api.route("/healthz", get(|| async { "ok" }));

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("resource server on http://{} trusting {issuer}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn hello(Extension(token): Extension<VerifiedToken>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "hello": token.claims.sub,
        "scopes": token.scopes,
        "expires": token.claims.exp,
    }))
}
