//! The Okta Access Gateway flavour: `POST /api/v2/oauth/token` (assertion `aud` = the base URL, a `scope`
//! claim, `okta.oag.*` scopes, 300 s tokens) and `GET /api/v2/apps[/{id}]`.
use crate::harness::*;
use serde_json::{Value, json};
use tollgate_jose::{Jwks, PrivateKey, jws};

const OAG_TOKEN: &str = "/api/v2/oauth/token";
const APP_READ: &str = "okta.oag.app.read";

/// Claims of an OAG assertion: `aud` = the base URL, a `scope` claim, no `jti` (as OAG's support script).
fn oag_claims(client_id: &str, aud: &str, scope: &str) -> Value {
    let now = now();
    json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 300, "scope": scope })
}

fn form<'a>(assertion: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("scope", scope),
    ]
}

/// Asks the gateway's token endpoint for `scope` with an assertion signed over `claims`.
async fn oag_token(server: &TestServer, key: &PrivateKey, claims: &Value, scope: &str) -> (u16, Value) {
    let assertion = sign(key, claims);
    server.post_form(OAG_TOKEN, &form(&assertion, scope)).await
}

/// A fresh app granted `scopes`, and a gateway token for `scopes`.
async fn oag_access_token(server: &TestServer, scopes: &[&str]) -> (String, String) {
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], scopes).await;
    let scope = scopes.join(" ");
    let (status, body) = oag_token(server, key, &oag_claims(&client_id, &server.issuer, &scope), &scope).await;
    assert_eq!(status, 200, "{body}");
    (client_id, body["access_token"].as_str().unwrap().to_string())
}

fn assert_refused(got: (u16, Value), status: u16, error: &str, description: &str) {
    let (s, body) = got;
    assert_eq!((s, body["error"].as_str().unwrap_or("")), (status, error), "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

/// The seed's recipe, by hand: openssl writes the key and signs the assertion (`aud` = base URL, a `scope`
/// claim, no `jti`), curl gets the token, lists the apps and reads one.
#[tokio::test]
async fn openssl_and_curl_recipe_gets_a_token_and_reads_apps() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("key.pem");
    let out = tokio::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
        .arg(&pem)
        .output()
        .await
        .expect("the openssl CLI is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = PrivateKey::parse(&std::fs::read_to_string(&pem).unwrap()).unwrap();
    let client_id = server.register_jwt_app(&[&key], &[APP_READ, "okta.oag.idp.read"]).await;

    let script = r#"
set -euo pipefail
base=$1 client_id=$2 key=$3 out=$4
b64url() { openssl base64 -e -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d,"scope":"%s"}' \
  "$client_id" "$client_id" "$base" "$now" $((now + 300)) "okta.oag.app.read okta.oag.idp.read" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$key" -binary | b64url)
curl -sS -o "$out/token.json" -w '%{http_code}' -X POST "$base/api/v2/oauth/token" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion=$header.$payload.$signature" \
  --data-urlencode "scope=okta.oag.app.read okta.oag.idp.read" > "$out/token.status"
token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$out/token.json")
curl -sS -o "$out/apps.json" -w '%{http_code}' "$base/api/v2/apps" \
  -H "Authorization: Bearer $token" > "$out/apps.status"
curl -sS -o "$out/app.json" -w '%{http_code}' "$base/api/v2/apps/$client_id" \
  -H "Authorization: Bearer $token" > "$out/app.status"
"#;
    let out = tokio::process::Command::new("bash")
        .args(["-c", script, "recipe"])
        .arg(&server.issuer)
        .arg(&client_id)
        .arg(&pem)
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let json = |name: &str| serde_json::from_str::<Value>(&read(name)).unwrap();

    assert_eq!(read("token.status"), "200", "{}", read("token.json"));
    let token = json("token.json");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 300);
    assert_eq!(token["scope"], "okta.oag.app.read okta.oag.idp.read");

    assert_eq!(read("apps.status"), "200", "{}", read("apps.json"));
    let apps = json("apps.json");
    let mine = apps.as_array().unwrap().iter().find(|a| a["id"] == client_id.as_str()).expect("the app is listed");
    assert_eq!(mine["type"], "OAG_OIDC");
    assert_eq!(mine["oidc"]["clientId"], client_id.as_str());

    assert_eq!(read("app.status"), "200", "{}", read("app.json"));
    let app = json("app.json");
    assert_eq!(app["id"], client_id.as_str());
    assert_eq!(app["label"], "test service");
    assert_eq!(app["status"], "ACTIVE");
    assert_eq!(app["oidc"]["tokenEndpointAuthMethod"], "private_key_jwt");
    assert_eq!(app["oidc"]["grantTypes"], json!(["client_credentials"]));
    assert_eq!(app["oidc"]["clientCredentialsEnabled"], true);
    assert_eq!(app["oidc"]["applicationType"], "service");
    assert_eq!(app["_embedded"], json!({}));
    server.stop().await;
}

#[tokio::test]
async fn gateway_tokens_last_300_seconds_and_verify_with_the_org_keys() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ]).await;
    let resp = server
        .http
        .post(server.url(OAG_TOKEN))
        .form(&form(&sign(key, &oag_claims(&client_id, &server.issuer, APP_READ)), APP_READ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], APP_READ);
    let token = body["access_token"].as_str().unwrap();
    let claims = payload(token);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert_eq!(claims["iss"], server.issuer.as_str());
    assert_eq!(claims["aud"], server.issuer.as_str());
    assert_eq!(claims["cid"], client_id.as_str());
    assert_eq!(claims["scp"], json!([APP_READ]));
    // Signed by the org server's published keys.
    let jwks = server.http.get(server.url("/oauth2/v1/keys")).send().await.unwrap().text().await.unwrap();
    let jwks = Jwks::from_json(&jwks).unwrap();
    let parsed = jws::decode(token).unwrap();
    let kid = parsed.header().kid.clone().unwrap();
    let jwk = jwks.keys.iter().find(|k| k.kid.as_deref() == Some(&kid)).expect("kid is published");
    parsed.verify(&tollgate_jose::PublicKey::from_jwk(jwk).unwrap()).unwrap();
    server.stop().await;
}

#[tokio::test]
async fn scope_claim_and_form_scope_must_name_the_same_set() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ, "okta.oag.idp.read"]).await;
    let both = "okta.oag.app.read okta.oag.idp.read";
    // Order and repeats do not matter.
    let (status, body) =
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, "okta.oag.idp.read okta.oag.app.read"), both)
            .await;
    assert_eq!(status, 200, "{body}");
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, APP_READ), both).await,
        400,
        "invalid_request",
        "The 'scope' claim of the client_assertion does not match the 'scope' parameter.",
    );
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, both), APP_READ).await,
        400,
        "invalid_request",
        "The 'scope' claim of the client_assertion does not match the 'scope' parameter.",
    );
    let mut no_claim = oag_claims(&client_id, &server.issuer, "");
    no_claim.as_object_mut().unwrap().remove("scope");
    assert_refused(
        oag_token(&server, key, &no_claim, APP_READ).await,
        400,
        "invalid_client",
        "The client_assertion must contain the 'scope' claim.",
    );
    let mut array_claim = oag_claims(&client_id, &server.issuer, "");
    array_claim["scope"] = json!([APP_READ]);
    assert_refused(
        oag_token(&server, key, &array_claim, APP_READ).await,
        400,
        "invalid_client",
        "The 'scope' claim of the client_assertion must be a space-separated string.",
    );
    server.stop().await;
}

#[tokio::test]
async fn ungranted_scopes_are_narrowed_and_none_granted_is_consent_required() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ]).await;
    let both = "okta.oag.app.read okta.oag.idp.read";
    let (status, body) = oag_token(&server, key, &oag_claims(&client_id, &server.issuer, both), both).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], APP_READ);
    assert_eq!(payload(body["access_token"].as_str().unwrap())["scp"], json!([APP_READ]));
    let idp = "okta.oag.idp.read";
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, idp), idp).await,
        400,
        "consent_required",
        "You are not allowed any of the requested scopes.",
    );
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, ""), "").await,
        400,
        "invalid_scope",
        "No scopes were requested.",
    );
    server.stop().await;
}

#[tokio::test]
async fn only_gateway_scopes_at_the_gateway_and_none_at_the_org_server() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ, "okta.users.read"]).await;
    let mixed = "okta.oag.app.read okta.users.read";
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, mixed), mixed).await,
        400,
        "invalid_scope",
        "The following scopes are not Access Gateway scopes: [okta.users.read].",
    );
    let unknown = "okta.oag.nothing.read";
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, unknown), unknown).await,
        400,
        "invalid_scope",
        "The following scopes are not Access Gateway scopes: [okta.oag.nothing.read].",
    );
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer, "api.read"), "api.read").await,
        400,
        "invalid_scope",
        "Custom scopes are not allowed for this request.",
    );
    // The org server does not issue gateway scopes, even granted ones.
    let org_assertion = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/token")));
    assert_refused(
        server.token_with(&org_assertion, mixed).await,
        400,
        "invalid_scope",
        "Access Gateway scopes are issued only by /api/v2/oauth/token: [okta.oag.app.read].",
    );
    server.stop().await;
}

#[tokio::test]
async fn org_assertions_are_refused_at_the_gateway_and_gateway_assertions_at_the_org_server() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ, "okta.users.read"]).await;
    let org_token_url = server.issuer_url("/oauth2/v1/token");

    // An org assertion (aud = the org token URL) at the gateway, even with a scope claim.
    let mut org_claims = assertion_claims(&client_id, &org_token_url);
    org_claims["scope"] = json!(APP_READ);
    assert_refused(
        oag_token(&server, key, &org_claims, APP_READ).await,
        400,
        "invalid_client",
        "The audience claim for client_assertion must be the Access Gateway's base URL.",
    );
    // aud = the gateway's own token URL is not the base URL either.
    assert_refused(
        oag_token(&server, key, &oag_claims(&client_id, &server.issuer_url(OAG_TOKEN), APP_READ), APP_READ).await,
        400,
        "invalid_client",
        "The audience claim for client_assertion must be the Access Gateway's base URL.",
    );
    // An RFC 7523bis-style org assertion (aud = issuer = the base URL) has no scope claim: refused.
    assert_refused(
        oag_token(&server, key, &assertion_claims(&client_id, &server.issuer), APP_READ).await,
        400,
        "invalid_client",
        "The client_assertion must contain the 'scope' claim.",
    );
    // ...while the org server still takes it.
    let (status, body) =
        server.token_with(&sign(key, &assertion_claims(&client_id, &server.issuer)), "okta.users.read").await;
    assert_eq!(status, 200, "{body}");

    // A gateway assertion (aud = base URL + scope claim) at the org server: refused, at 401 as Okta does there.
    let gateway = sign(key, &oag_claims(&client_id, &server.issuer, "okta.users.read"));
    assert_refused(
        server.token_with(&gateway, "okta.users.read").await,
        401,
        "invalid_client",
        "The audience claim for client_assertion must be the endpoint invoked for the request.",
    );
    // One assertion may not serve both: a list naming the base URL and the org token URL is refused here.
    let mut both = oag_claims(&client_id, &server.issuer, APP_READ);
    both["aud"] = json!([server.issuer.clone(), org_token_url.clone()]);
    assert_refused(
        oag_token(&server, key, &both, APP_READ).await,
        400,
        "invalid_client",
        "The audience claim for client_assertion must be the Access Gateway's base URL.",
    );
    // A scope claim does not matter to the org server when aud names its token endpoint.
    let mut named = assertion_claims(&client_id, &org_token_url);
    named["scope"] = json!("okta.users.read");
    let (status, body) = server.token_with(&sign(key, &named), "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn gateway_refusals_are_400_and_jti_is_single_use_when_present() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &[APP_READ]).await;
    // A bad signature: 401 at the org server, 400 here.
    let forged = sign_with(
        rsa_key_2(),
        tollgate_jose::Algorithm::Rs256,
        Some(key.kid()),
        &oag_claims(&client_id, &server.issuer, APP_READ),
    );
    assert_refused(
        server.post_form(OAG_TOKEN, &form(&forged, APP_READ)).await,
        400,
        "invalid_client",
        "The client_assertion signature is invalid.",
    );
    // Client secrets are not a way in.
    let (secret_id, secret) = server.register_secret_app().await;
    let resp = server
        .http
        .post(server.url(OAG_TOKEN))
        .basic_auth(&secret_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", APP_READ)])
        .send()
        .await
        .unwrap();
    assert_refused(
        (resp.status().as_u16(), resp.json().await.unwrap()),
        400,
        "invalid_client",
        "Access Gateway token requests must authenticate with a signed JWT in the client_assertion parameter.",
    );
    assert_refused(
        server.post_form(OAG_TOKEN, &[("scope", APP_READ)]).await,
        400,
        "invalid_request",
        "The token request must specify a 'grant_type'. Valid values: [client_credentials]",
    );
    // No jti (the support script's assertion): accepted, and may be sent again.
    let no_jti = sign(key, &oag_claims(&client_id, &server.issuer, APP_READ));
    for _ in 0..2 {
        let (status, body) = server.post_form(OAG_TOKEN, &form(&no_jti, APP_READ)).await;
        assert_eq!(status, 200, "{body}");
    }
    // A jti is single use, as everywhere else.
    let mut with_jti = oag_claims(&client_id, &server.issuer, APP_READ);
    with_jti["jti"] = json!(uuid::Uuid::new_v4().to_string());
    let once = sign(key, &with_jti);
    let (status, body) = server.post_form(OAG_TOKEN, &form(&once, APP_READ)).await;
    assert_eq!(status, 200, "{body}");
    assert_refused(
        server.post_form(OAG_TOKEN, &form(&once, APP_READ)).await,
        400,
        "invalid_client",
        "The client_assertion token has already been used.",
    );
    server.stop().await;
}

#[tokio::test]
async fn gateway_apps_need_a_gateway_token_with_the_read_scope() {
    let server = TestServer::start().await;
    // No read scope: 403 insufficient_scope, no body.
    let (_, idp_only) = oag_access_token(&server, &["okta.oag.idp.read"]).await;
    let (status, headers, _) = server.call(reqwest::Method::GET, "/api/v2/apps", None, Auth::Bearer(&idp_only)).await;
    assert_eq!(status, 403);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"insufficient_scope\"") && challenge.contains(APP_READ), "{challenge}");
    // An org token, however powerful, holds no gateway scope.
    let org = server.org_access_token(&["okta.apps.read", "okta.apps.manage"]).await;
    let (status, _, _) = server.call(reqwest::Method::GET, "/api/v2/apps", None, Auth::Bearer(&org)).await;
    assert_eq!(status, 403);
    // A gateway token is no good at the org's management API.
    let (client_id, gateway) = oag_access_token(&server, &[APP_READ, "okta.oag.app.manage"]).await;
    let (status, _, _) = server.call(reqwest::Method::GET, "/api/v1/apps", None, Auth::Bearer(&gateway)).await;
    assert_eq!(status, 403);
    // The gateway API takes no SSWS token.
    let (status, _, body) = server.call(reqwest::Method::GET, "/api/v2/apps", None, Auth::Ssws).await;
    assert_eq!((status, body["errorCode"].as_str()), (403, Some("E0000005")), "{body}");
    // A bad token: 401.
    let (status, _, body) = server.call(reqwest::Method::GET, "/api/v2/apps", None, Auth::Bearer("nope")).await;
    assert_eq!((status, body["errorCode"].as_str()), (401, Some("E0000011")), "{body}");
    // The manage scope reads too; an unknown id is 404.
    let (status, _, body) =
        server.call(reqwest::Method::GET, &format!("/api/v2/apps/{client_id}"), None, Auth::Bearer(&gateway)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["oidc"]["clientId"], client_id.as_str());
    let (status, _, body) =
        server.call(reqwest::Method::GET, "/api/v2/apps/0oanothere", None, Auth::Bearer(&gateway)).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errorCode"], "E0000007");
    assert_eq!(body["errorSummary"], "Not found: Resource not found: 0oanothere (App)");
    server.stop().await;
}

#[tokio::test]
async fn gateway_app_list_pages_with_link_headers() {
    let server = TestServer::start().await;
    let (_, token) = oag_access_token(&server, &[APP_READ]).await;
    for label in ["second", "third"] {
        let (status, body) = server.admin_post("/api/v1/apps", &jwt_app_body(label, &[rsa_key()])).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut seen = Vec::new();
    let mut url = server.url("/api/v2/apps?limit=2");
    loop {
        let (status, headers, body) = server.call(reqwest::Method::GET, &url, None, Auth::Bearer(&token)).await;
        assert_eq!(status, 200, "{body}");
        let page = body.as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|a| a["label"].as_str().unwrap().to_string()));
        match next_link(&headers) {
            Some(next) => url = next,
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, vec!["second", "test service", "third"]);
    server.stop().await;
}
