//! Workload identity federation end to end: local issuers started on 127.0.0.1 (through the outbound
//! policy's development opt-out) shaped like GitHub Actions (discovery + JWKS, GitHub's documented claims),
//! a Kubernetes cluster (`kubernetes.io` claims, no discovery, a configured `jwks_uri`) and a SPIFFE
//! deployment (JWT-SVIDs with the `jwt-spiffe` assertion type); every grant and refusal of issue 19.
use crate::harness::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tollgate_jose::dpop::{ProofRequest, sign_proof};
use tollgate_jose::{Curve, KeySpec, PrivateKey};

const SPIFFE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/// An external issuer: its signing key (changeable: rotation), the JWKS it publishes, and how often its
/// discovery document and JWKS were fetched.
struct Issuer {
    /// Its base URL (`http://127.0.0.1:port`), the `iss` of its tokens unless a test says otherwise.
    url: String,
    signing: Arc<Mutex<Arc<PrivateKey>>>,
    published: Arc<Mutex<Vec<Arc<PrivateKey>>>>,
    discoveries: Arc<AtomicUsize>,
    jwks_fetches: Arc<AtomicUsize>,
}

fn ec() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap())
}

/// An RSA key for the GitHub-shaped issuer (GitHub signs with RS256), generated once per test binary.
fn rsa() -> Arc<PrivateKey> {
    static KEY: std::sync::OnceLock<Arc<PrivateKey>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| Arc::new(PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap())).clone()
}

impl Issuer {
    /// Starts an issuer signing with `key`; with `discovery`, it serves `/.well-known/openid-configuration`.
    async fn start(key: Arc<PrivateKey>, discovery: bool) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let signing = Arc::new(Mutex::new(key.clone()));
        let published = Arc::new(Mutex::new(vec![key]));
        let (discoveries, jwks_fetches) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (p, d, j, u) = (published.clone(), discoveries.clone(), jwks_fetches.clone(), url.clone());
        let mut app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let (p, j) = (p.clone(), j.clone());
                async move {
                    j.fetch_add(1, Ordering::SeqCst);
                    let keys: Vec<Value> = p.lock().unwrap().iter().map(|k| public_jwk(k)).collect();
                    axum::Json(json!({ "keys": keys }))
                }
            }),
        );
        if discovery {
            app = app.route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let (d, u) = (d.clone(), u.clone());
                    async move {
                        d.fetch_add(1, Ordering::SeqCst);
                        axum::Json(json!({
                            "issuer": u, "jwks_uri": format!("{u}/jwks"),
                            "subject_types_supported": ["public", "pairwise"],
                            "response_types_supported": ["id_token"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                        }))
                    }
                }),
            );
        }
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer { url, signing, published, discoveries, jwks_fetches }
    }

    fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.url)
    }

    /// A token with `claims`, signed with the current key (and its kid).
    fn sign(&self, claims: &Value) -> String {
        sign(&self.signing.lock().unwrap(), claims)
    }

    /// Rotates: signs with `next` and publishes it; `keep_old` keeps the previous key published.
    fn rotate(&self, next: Arc<PrivateKey>, keep_old: bool) {
        let mut published = self.published.lock().unwrap();
        if !keep_old {
            published.clear();
        }
        published.push(next.clone());
        *self.signing.lock().unwrap() = next;
    }
}

/// A GitHub Actions OIDC token's claims, as GitHub documents them, for a push to `ref` of acme/`repo`.
fn github_claims(issuer: &str, aud: &str, repo: &str, git_ref: &str, environment: Option<&str>) -> Value {
    let now = now();
    let sub = match environment {
        Some(env) => format!("repo:acme/{repo}:environment:{env}"),
        None => format!("repo:acme/{repo}:ref:{git_ref}"),
    };
    let mut claims = json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "sub": sub,
        "aud": aud,
        "ref": git_ref,
        "sha": "example-sha",
        "repository": format!("acme/{repo}"),
        "repository_owner": "acme",
        "repository_owner_id": "1234",
        "repository_id": "5678",
        "repository_visibility": "private",
        "actor": "octocat",
        "actor_id": "42",
        "workflow": "deploy",
        "workflow_ref": format!("acme/{repo}/.github/workflows/deploy.yml@{git_ref}"),
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "run_id": "99",
        "run_number": "7",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "iss": issuer,
        "nbf": now - 5,
        "iat": now - 5,
        "exp": now + 300,
    });
    if let Some(env) = environment {
        claims["environment"] = json!(env);
    }
    claims
}

/// A Kubernetes projected service-account token's claims.
fn kubernetes_claims(issuer: &str, aud: &str, namespace: &str, account: &str) -> Value {
    let now = now();
    json!({
        "aud": [aud],
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "iss": issuer,
        "jti": uuid::Uuid::new_v4().to_string(),
        "kubernetes.io": {
            "namespace": namespace,
            "node": { "name": "node-1", "uid": "2f1c" },
            "pod": { "name": format!("{account}-7d9f"), "uid": "9a7b" },
            "serviceaccount": { "name": account, "uid": "5e1d" },
        },
        "sub": format!("system:serviceaccount:{namespace}:{account}"),
    })
}

/// A JWT-SVID's claims (sub is the SPIFFE ID; `iat` optional, here absent).
fn svid_claims(issuer: &str, aud: &str, spiffe_id: &str, ttl: i64) -> Value {
    json!({ "iss": issuer, "sub": spiffe_id, "aud": [aud], "exp": now() + ttl })
}

async fn add_credential(server: &TestServer, app: &str, body: Value) -> Value {
    let (status, created) = server.admin_post(&format!("/api/v1/apps/{app}/credentials/federated"), &body).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// A token request with an external token for `client_id` at `path`.
async fn federated_token(
    server: &TestServer,
    path: &str,
    client_id: Option<&str>,
    assertion_type: &str,
    token: &str,
    scope: &str,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_assertion_type", assertion_type),
        ("client_assertion", token),
    ];
    if let Some(id) = client_id {
        form.push(("client_id", id));
    }
    server.post_form(path, &form).await
}

fn assert_refused(got: (u16, Value), description_contains: &[&str]) {
    let (status, body) = got;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    let description = body["error_description"].as_str().unwrap_or("");
    for part in description_contains {
        assert!(description.contains(part), "{description:?} should contain {part:?}");
    }
}

const ORG_TOKEN: &str = "/oauth2/v1/token";
const NO_MATCH: &str = "The client_assertion does not match any federated credential of the client.";

#[tokio::test]
async fn github_actions_tokens_by_exact_and_wildcard_subjects_and_claim_conditions() {
    let gha = Issuer::start(rsa(), true).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let app = server.register_jwt_app(&[rsa_key()], &["okta.users.read", "okta.apps.read"]).await;
    let exact = add_credential(
        &server,
        &app,
        json!({ "name": "api main", "issuer": gha.url, "subject": "repo:acme/api:ref:refs/heads/main",
                "claims": { "repository_owner": "acme" } }),
    )
    .await;
    assert_eq!(exact["audiences"], json!([]), "default: the token endpoint's issuer");
    assert_eq!(exact["max_token_age"], 3600);
    assert_eq!(exact["status"], "ACTIVE");
    add_credential(
        &server,
        &app,
        json!({ "name": "releases to prod", "issuer": gha.url, "subject": "repo:acme/*:environment:prod",
                "claims": { "ref": "refs/heads/release/*", "environment": "prod", "repository_owner": "acme" } }),
    )
    .await;

    // The exact subject, with the default audience (the org issuer).
    let external = gha.sign(&github_claims(&gha.url, &server.issuer, "api", "refs/heads/main", None));
    let external_exp = payload(&external)["exp"].as_i64().unwrap();
    let (status, body) =
        federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &external, "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "okta.users.read", "okta.* scopes from the app's grants");
    let access = payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["cid"], app.as_str());
    assert!(access["exp"].as_i64().unwrap() <= external_exp, "the token may not outlive the external one");
    assert!(body["expires_in"].as_i64().unwrap() <= 300, "{body}");
    // Platforms reuse their tokens for minutes: the same external token works again (jti not single use).
    let (status, body) = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &external, "okta.apps.read").await;
    assert_eq!(status, 200, "the same external token twice: {body}");
    assert_eq!(gha.discoveries.load(Ordering::SeqCst), 1, "discovery is cached");
    assert_eq!(gha.jwks_fetches.load(Ordering::SeqCst), 1, "the JWKS is cached");

    // A wildcard subject with claim conditions.
    let release = gha.sign(&github_claims(&gha.url, &server.issuer, "web", "refs/heads/release/2.1", Some("prod")));
    let (status, body) = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &release, "okta.users.read").await;
    assert_eq!(status, 200, "{body}");

    // A claim condition that fails: the closest credential and the claim are named.
    let staging = gha.sign(&github_claims(&gha.url, &server.issuer, "web", "refs/heads/release/2.1", Some("staging")));
    let got = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &staging, "okta.users.read").await;
    assert_refused(got, &[NO_MATCH, "Closest: federated credential 'releases to prod'", "'sub'", "'environment'"]);
    let wrong_ref = gha.sign(&github_claims(&gha.url, &server.issuer, "web", "refs/heads/feature", Some("prod")));
    let got = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &wrong_ref, "okta.users.read").await;
    assert_refused(got, &["'releases to prod'", "claim 'ref' (\"refs/heads/feature\") does not match"]);
    // Another repository of another owner: the subject and the owner claim.
    let mut other = github_claims(&gha.url, &server.issuer, "api", "refs/heads/main", None);
    other["sub"] = json!("repo:evil/api:ref:refs/heads/main");
    other["repository_owner"] = json!("evil");
    let got = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &gha.sign(&other), "okta.users.read").await;
    assert_refused(got, &[NO_MATCH, "'api main'", "claim 'sub' (\"repo:evil/api:ref:refs/heads/main\")"]);
    // A token for another audience (GitHub's default is the owner's URL).
    let wrong_aud = gha.sign(&github_claims(&gha.url, "https://github.com/acme", "api", "refs/heads/main", None));
    let got = federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &wrong_aud, "okta.users.read").await;
    assert_refused(got, &["'api main'", "claim 'aud' (https://github.com/acme)"]);
    server.stop().await;
}

#[tokio::test]
async fn wrong_issuer_expired_too_old_unknown_kid_and_a_deactivated_credential_are_refused() {
    let gha = Issuer::start(ec(), true).await;
    let stranger = Issuer::start(ec(), true).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let app = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let credential = add_credential(
        &server,
        &app,
        json!({ "name": "ci", "issuer": gha.url, "subject": "repo:acme/api:*", "max_token_age": 600,
                "audiences": ["https://tollgate.example/ci"] }),
    )
    .await;
    let aud = "https://tollgate.example/ci";
    let good = || github_claims(&gha.url, aud, "api", "refs/heads/main", None);
    let ask = |token: String| {
        let (server, app) = (&server, app.clone());
        async move { federated_token(server, ORG_TOKEN, Some(&app), JWT_BEARER, &token, "okta.users.read").await }
    };
    assert_eq!(ask(gha.sign(&good())).await.0, 200, "an audience from the credential's list");

    // Another issuer (even signing its own valid token) is not trusted.
    let mut foreign = good();
    foreign["iss"] = json!(stranger.url);
    let got = ask(stranger.sign(&foreign)).await;
    assert_refused(got, &["The issuer of the client_assertion is not trusted by any active federated credential"]);
    // A token that claims the trusted issuer but is signed by another key: its kid is unknown there.
    assert_refused(ask(stranger.sign(&good())).await, &["The client_assertion JWT kid is invalid."]);
    // Expired, and exp missing.
    let mut expired = good();
    expired["exp"] = json!(now() - 120);
    assert_refused(ask(gha.sign(&expired)).await, &["The client_assertion token is expired."]);
    let mut no_exp = good();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_refused(
        ask(gha.sign(&no_exp)).await,
        &["The client_assertion must contain the 'exp' claim as seconds since epoch."],
    );
    // Issued longer ago than max_token_age (600 s), though not expired.
    let mut old = good();
    old["iat"] = json!(now() - 900);
    old["nbf"] = json!(now() - 900);
    assert_refused(ask(gha.sign(&old)).await, &[NO_MATCH, "claim 'iat' is", "max_token_age 600"]);
    // A bad signature (the payload changed after signing).
    let signed = gha.sign(&good());
    let mut parts: Vec<&str> = signed.split('.').collect();
    let mut tampered_claims = good();
    tampered_claims["sub"] = json!("repo:acme/api:ref:refs/heads/evil");
    let tampered = tollgate_jose::b64url_encode(tampered_claims.to_string().as_bytes());
    parts[1] = tampered.as_str();
    assert_refused(ask(parts.join(".")).await, &["The client_assertion signature is invalid."]);
    // Without client_id the assertion is read as the app's own: its iss is no client.
    let (status, body) =
        federated_token(&server, ORG_TOKEN, None, JWT_BEARER, &gha.sign(&good()), "okta.users.read").await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (401, Some("The issuer claim for client_assertion is not a valid client_id."))
    );

    // Deactivated: refused at once (the cache is reloaded), and says so; reactivated: accepted again.
    let base = format!("/api/v1/apps/{app}/credentials/federated/{}", credential["id"].as_str().unwrap());
    let (status, body) = server.admin_post(&format!("{base}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("INACTIVE")), "{body}");
    assert_refused(
        ask(gha.sign(&good())).await,
        &["not trusted by any active", "'ci' trusts this issuer but is INACTIVE"],
    );
    let (status, _) = server.admin_post(&format!("{base}/lifecycle/activate"), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(ask(gha.sign(&good())).await.0, 200);
    // Deleted: gone.
    let (status, _) = server.admin_delete(&base).await;
    assert_eq!(status, 204);
    let (status, _) = server.admin_get(&base).await;
    assert_eq!(status, 404);
    let (status, body) = ask(gha.sign(&good())).await;
    assert_eq!(status, 401, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn kubernetes_tokens_from_a_configured_jwks_uri_at_a_custom_server_and_issuer_key_rotation() {
    // A cluster's issuer is an in-cluster name nobody can fetch; its keys are exposed separately.
    let cluster = Issuer::start(ec(), false).await;
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let server = TestServer::start_configured(|c| {
        c.allow_private_fetch = true;
        c.jwks_uri_refetch_seconds = 0;
    })
    .await;
    server.create_scope("default", "orders.read").await;
    let app = server.register_jwt_app(&[rsa_key()], &[]).await;
    let custom_issuer = server.issuer_url("/oauth2/default");
    add_credential(
        &server,
        &app,
        json!({ "name": "prod pods", "issuer": issuer, "jwks_uri": cluster.jwks_uri(),
                "subject": "system:serviceaccount:prod:*", "claims": { "kubernetes.io/namespace": "prod" } }),
    )
    .await;
    let path = "/oauth2/default/v1/token";
    let ask = |token: String| {
        let (server, app) = (&server, app.clone());
        async move { federated_token(server, path, Some(&app), JWT_BEARER, &token, "orders.read").await }
    };
    let token = cluster.sign(&kubernetes_claims(issuer, &custom_issuer, "prod", "api"));
    let (status, body) = ask(token.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "orders.read");
    assert_eq!(payload(body["access_token"].as_str().unwrap())["iss"], custom_issuer);
    assert_eq!(cluster.discoveries.load(Ordering::SeqCst), 0, "no discovery when a jwks_uri is configured");
    // The org issuer is not the custom server's: the default audience is per server.
    let org_aud = cluster.sign(&kubernetes_claims(issuer, &server.issuer, "prod", "api"));
    assert_refused(ask(org_aud).await, &[NO_MATCH, "'aud'"]);
    // Another namespace fails the subject and the nested claim.
    let dev = cluster.sign(&kubernetes_claims(issuer, &custom_issuer, "dev", "api"));
    assert_refused(
        ask(dev).await,
        &["'prod pods'", "claim 'sub' (\"system:serviceaccount:dev:api\")", "'kubernetes.io/namespace' (\"dev\")"],
    );

    // The cluster rotates its signing key, keeping the old one published for a while: both verify, the new
    // kid found by a refetch.
    let fetched = cluster.jwks_fetches.load(Ordering::SeqCst);
    cluster.rotate(ec(), true);
    let (status, body) = ask(cluster.sign(&kubernetes_claims(issuer, &custom_issuer, "prod", "api"))).await;
    assert_eq!(status, 200, "the new key: {body}");
    assert_eq!(cluster.jwks_fetches.load(Ordering::SeqCst), fetched + 1, "one refetch for the unknown kid");
    assert_eq!(ask(token.clone()).await.0, 200, "the old key is still published");
    // The old key is withdrawn: a token it signed is refused once the set is refetched.
    cluster.rotate(ec(), false);
    let (status, _) = ask(cluster.sign(&kubernetes_claims(issuer, &custom_issuer, "prod", "api"))).await;
    assert_eq!(status, 200, "the newest key");
    assert_refused(ask(token).await, &["The client_assertion JWT kid is invalid."]);
    server.stop().await;
}

#[tokio::test]
async fn spiffe_jwt_svids_with_the_spiffe_assertion_type_and_dpop() {
    let spire = Issuer::start(ec(), true).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    // A DPoP-bound app.
    let (status, body) = server
        .admin_post(
            "/oauth2/v1/clients",
            &json!({ "client_name": "svid service", "application_type": "service", "grant_types": ["client_credentials"],
                     "token_endpoint_auth_method": "private_key_jwt", "dpop_bound_access_tokens": true,
                     "jwks": { "keys": [public_jwk(rsa_key())] } }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let app = body["client_id"].as_str().unwrap().to_string();
    server.grant(&app, &["okta.users.read"]).await;
    add_credential(
        &server,
        &app,
        json!({ "name": "payments", "issuer": spire.url, "subject": "spiffe://example.org/ns/payments/sa/*",
                "max_token_age": 600 }),
    )
    .await;
    let svid = spire.sign(&svid_claims(&spire.url, &server.issuer, "spiffe://example.org/ns/payments/sa/api", 300));
    let token_url = server.url(ORG_TOKEN);
    let dpop_key = ec();
    let request = |svid: String, nonce: Option<String>, client_id: Option<String>| {
        let (server, dpop_key, token_url) = (&server, &dpop_key, token_url.clone());
        async move {
            let proof = sign_proof(
                dpop_key,
                &ProofRequest { htm: "POST", htu: &token_url, iat: now(), nonce: nonce.as_deref(), access_token: None },
            )
            .unwrap();
            let mut form = vec![
                ("grant_type", "client_credentials".to_string()),
                ("scope", "okta.users.read".to_string()),
                ("client_assertion_type", SPIFFE.to_string()),
                ("client_assertion", svid),
            ];
            if let Some(id) = client_id {
                form.push(("client_id", id));
            }
            let r = server.http.post(&token_url).header("DPoP", proof).form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            let nonce = r.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_string());
            (status, nonce, r.json::<Value>().await.unwrap())
        }
    };
    let (status, nonce, body) = request(svid.clone(), None, Some(app.clone())).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("use_dpop_nonce")), "{body}");
    let (status, _, body) = request(svid.clone(), nonce.clone(), Some(app.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let access = payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["cnf"]["jkt"], dpop_key.public_key().thumbprint());
    // The same SVID again with a fresh proof: fine (the SVID's jti is not single use; the proof's is).
    let (status, _, body) = request(svid.clone(), nonce.clone(), Some(app.clone())).await;
    assert_eq!(status, 200, "{body}");
    // The SPIFFE type needs client_id.
    let (status, _, body) = request(svid.clone(), nonce.clone(), None).await;
    assert_eq!(
        (status, body["error"].as_str(), body["error_description"].as_str()),
        (
            400,
            Some("invalid_request"),
            Some("A federated client_assertion requires the 'client_id' parameter naming the app.")
        ),
    );
    // Another workload's SVID.
    let other = spire.sign(&svid_claims(&spire.url, &server.issuer, "spiffe://example.org/ns/billing/sa/api", 300));
    let (status, _, body) = request(other, nonce.clone(), Some(app.clone())).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("claim 'sub' (\"spiffe://example.org/ns/billing/sa/api\")")
    );
    // Without iat, max_token_age bounds exp instead: an SVID valid for two hours is refused.
    let long = spire.sign(&svid_claims(&spire.url, &server.issuer, "spiffe://example.org/ns/payments/sa/api", 7200));
    let (status, _, body) = request(long, nonce.clone(), Some(app.clone())).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("no 'iat', and claim 'exp' is"), "{body}");
    // The Access Gateway takes no federated assertion.
    let (status, body) =
        federated_token(&server, "/api/v2/oauth/token", Some(&app), SPIFFE, &svid, "okta.oag.app.read").await;
    assert_eq!((status, body["error_description"].as_str()), (400, Some("The client_assertion_type is invalid.")));
    server.stop().await;
}

#[tokio::test]
async fn the_management_api_validates_lists_replaces_and_guards_federated_credentials() {
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let app = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let base = format!("/api/v1/apps/{app}/credentials/federated");
    for (body, cause) in [
        (json!({ "issuer": "https://i.example", "subject": "s" }), "name: is required"),
        (json!({ "name": "n", "subject": "s" }), "issuer: is required"),
        (json!({ "name": "n", "issuer": "https://i.example" }), "subject: is required"),
        (json!({ "name": "n", "issuer": "ftp://i.example", "subject": "s" }), "issuer: must be an https URL"),
        (
            json!({ "name": "n", "issuer": "https://i.example", "subject": "s", "audiences": "x" }),
            "audiences: must be an array",
        ),
        (
            json!({ "name": "n", "issuer": "https://i.example", "subject": "s", "claims": { "ref": 1 } }),
            "claims: the condition on 'ref'",
        ),
        (
            json!({ "name": "n", "issuer": "https://i.example", "subject": "s", "claims": { "exp": "1" } }),
            "claims: 'exp' cannot be a condition",
        ),
        (
            json!({ "name": "n", "issuer": "https://i.example", "subject": "s", "max_token_age": 5 }),
            "max_token_age: must be",
        ),
        (
            json!({ "name": "n", "issuer": "https://i.example", "subject": "s", "subjet": "typo" }),
            "subjet: is not a property",
        ),
        (
            json!({ "name": "n", "issuer": "k8s", "subject": "s", "jwks_uri": "ftp://x" }),
            "jwks_uri: must be an https URL",
        ),
    ] {
        let (status, err) = server.admin_post(&base, &body).await;
        assert_eq!((status, err["errorCode"].as_str()), (400, Some("E0000001")), "{body} → {err}");
        let causes = err["errorCauses"].to_string();
        assert!(causes.contains(cause), "{body}: {causes} should contain {cause:?}");
    }
    let created = add_credential(
        &server,
        &app,
        json!({ "name": "k8s", "issuer": "https://kubernetes.default.svc", "subject": "system:serviceaccount:a:b",
                "jwks_uri": "https://cluster.example/openid/v1/jwks", "audiences": ["tollgate"], "status": "INACTIVE" }),
    )
    .await;
    assert_eq!(created["status"], "INACTIVE");
    assert!(created["id"].as_str().unwrap().starts_with("fdc"));
    let one = format!("{base}/{}", created["id"].as_str().unwrap());
    let (status, listed) = server.admin_get(&base).await;
    assert_eq!((status, listed.as_array().unwrap().len()), (200, 1));
    assert_eq!(listed[0]["jwks_uri"], "https://cluster.example/openid/v1/jwks");
    // Replace: every setting anew, the status kept unless given.
    let (status, replaced) = server
        .admin_put(&one, &json!({ "name": "k8s prod", "issuer": "https://kubernetes.default.svc", "subject": "system:serviceaccount:prod:*", "jwks_uri": "https://cluster.example/jwks" }))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!((replaced["name"].as_str(), replaced["status"].as_str()), (Some("k8s prod"), Some("INACTIVE")));
    assert_eq!(replaced["audiences"], json!([]));
    let (_, got) = server.admin_get(&one).await;
    assert_eq!(got["subject"], "system:serviceaccount:prod:*");
    let (status, _) = server.admin_get(&format!("{base}/fdcnope")).await;
    assert_eq!(status, 404);
    let (status, _) = server.admin_get("/api/v1/apps/0oanope/credentials/federated").await;
    assert_eq!(status, 404);

    // The app holds okta.* grants: only a super admin may change its credentials, whatever the scopes.
    let manager = server.org_access_token(&["okta.apps.manage", "okta.apps.read"]).await;
    let body = json!({ "name": "mine", "issuer": "https://evil.example", "subject": "*" });
    let (status, _, _) = server.call(reqwest::Method::POST, &base, Some(&body), Auth::Bearer(&manager)).await;
    assert_eq!(status, 403, "adding a federated credential to an app with okta.* grants");
    let (status, _, _) = server.call(reqwest::Method::DELETE, &one, None, Auth::Bearer(&manager)).await;
    assert_eq!(status, 403);
    let (status, _, _) = server.call(reqwest::Method::GET, &base, None, Auth::Bearer(&manager)).await;
    assert_eq!(status, 200, "reading is apps.read");
    // Changes are in the System Log with Okta-style event types and the credential as target.
    let (status, _) = server.admin_delete(&one).await;
    assert_eq!(status, 204);
    server.stop().await;
}

#[tokio::test]
async fn system_log_events_of_federated_grants_and_refusals_carry_the_external_identity() {
    let gha = Issuer::start(ec(), true).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let app = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let credential = add_credential(
        &server,
        &app,
        json!({ "name": "ci", "issuer": gha.url, "subject": "repo:acme/api:ref:refs/heads/main" }),
    )
    .await;
    let good = gha.sign(&github_claims(&gha.url, &server.issuer, "api", "refs/heads/main", None));
    assert_eq!(federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &good, "okta.users.read").await.0, 200);
    let bad = gha.sign(&github_claims(&gha.url, &server.issuer, "api", "refs/heads/dev", None));
    assert_eq!(federated_token(&server, ORG_TOKEN, Some(&app), JWT_BEARER, &bad, "okta.users.read").await.0, 401);
    let mut found = Vec::new();
    for _ in 0..50 {
        let r = server
            .http
            .get(server.url("/api/v1/logs?filter=eventType%20sw%20%22app.oauth2.token.grant%22&limit=100"))
            .header("Authorization", format!("SSWS {ADMIN}"))
            .send()
            .await
            .unwrap();
        found = r.json::<Value>().await.unwrap().as_array().cloned().unwrap_or_default();
        if found.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let data = |e: &Value| e["debugContext"]["debugData"].clone();
    let grant = found.iter().find(|e| e["outcome"]["result"] == "SUCCESS").expect("a grant event");
    assert_eq!(data(grant)["federatedIssuer"], gha.url);
    assert_eq!(data(grant)["federatedSubject"], "repo:acme/api:ref:refs/heads/main");
    assert_eq!(data(grant)["federatedCredential"], credential["id"]);
    assert_eq!(data(grant)["clientAuthMethod"], "federated_jwt");
    assert_eq!(grant["actor"]["id"], app.as_str());
    let refusal = found.iter().find(|e| e["outcome"]["result"] == "FAILURE").expect("a refusal event");
    assert_eq!(data(refusal)["federatedSubject"], "repo:acme/api:ref:refs/heads/dev");
    assert_eq!(data(refusal)["federatedIssuer"], gha.url);
    let text = serde_json::to_string(&found).unwrap();
    assert!(!text.contains(&good) && !text.contains(&bad), "no external token in the log");
    server.stop().await;
}
