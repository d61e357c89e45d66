//! The token tester on an app's page: paste a client assertion (or let the page sign one with a key
//! made in this browser by WebCrypto, which never leaves it) and see every check the token endpoint
//! applies, in its order, with the answer it would give: `tollgate explain`'s checks
//! ([`tollgate_jose::explain`]), against the app's registered keys. Nothing is sent to the token endpoint
//! and no `jti` is used up.
use super::Flash;
use super::apps::{AppView, tester_tab};
use crate::console::csrf::Form;
use crate::console::mgmt::{Mgmt, seg};
use crate::console::session::Signed;
use crate::console::view::{Chrome, render};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;
use tollgate_jose::explain::{Check, Verdict};
use tollgate_jose::{Jwk, Jwks};

#[derive(askama::Template)]
#[template(path = "console/tester_result.html")]
struct ResultPage {
    chrome: Chrome,
    app: AppView,
    endpoint: String,
    checks: Vec<Check>,
    failed: usize,
    assertion: String,
}

impl ResultPage {
    fn verdict(c: &Check) -> &'static str {
        match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    tester_tab(&state, &api, &who, &id, f).await
}

/// `POST /admin/apps/{id}/tester`: explain `assertion` for the org token endpoint (or `server`'s).
async fn run(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let answer = api.get(&who, &format!("/api/v1/apps/{}", seg(&id))).await;
    let app = match answer.into_result() {
        Ok(v) => AppView::from_json(&v),
        Err(e) => return crate::console::view::back_error(&format!("/admin/apps/{}/tester", seg(&id)), &e),
    };
    let keys = api.get(&who, &format!("/api/v1/apps/{}/credentials/jwks", seg(&app.id))).await;
    let jwks = keys.json.pointer("/jwks/keys").and_then(Value::as_array).map(|keys| Jwks {
        keys: keys
            .iter()
            .filter(|k| k.get("status").and_then(Value::as_str) == Some("ACTIVE"))
            .filter_map(|k| Jwk::from_json(&k.to_string()).ok())
            .collect(),
    });
    let server = form.get("server");
    let endpoint = if server.is_empty() || server == "org" {
        format!("{}/oauth2/v1/token", state.issuer)
    } else {
        format!("{}/oauth2/{}/v1/token", state.issuer, server)
    };
    let assertion = form.get("assertion").to_string();
    let now = crate::clock::now_millis() / 1000;
    let checks =
        tollgate_jose::explain::explain(&assertion, &state.issuer, &endpoint, Some(&app.client_id), jwks.as_ref(), now);
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    render(&ResultPage { chrome: Chrome::new(&who, "apps"), app, endpoint, checks, failed, assertion })
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/apps/{id}/tester", get(page).post(run))
}
