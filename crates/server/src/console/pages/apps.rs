//! Applications > Applications: the list, Create App Integration (API Services), and an app's tabs:
//! General (Client Credentials, public keys, client secrets), Okta API Scopes, Admin roles.
use super::Flash;
use crate::console::csrf::Form;
use crate::console::mgmt::{Mgmt, seg};
use crate::console::session::Signed;
use crate::console::view::{Chrome, back, back_error, render, render_status, when_iso};
use crate::mgmt::authz::{Permission, Role};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Value, json};
use tollgate_jose::{KeySpec, PrivateKey, PublicKey};

/// One app as the list and the tabs show it.
pub(crate) struct AppView {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) status: String,
    pub(crate) client_id: String,
    pub(crate) auth_method: String,
    pub(crate) uses_keys: bool,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) created: String,
}

impl AppView {
    pub(crate) fn from_json(v: &Value) -> Self {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let auth_method = s("/credentials/oauthClient/token_endpoint_auth_method");
        AppView {
            id: s("/id"),
            label: s("/label"),
            status: s("/status"),
            client_id: s("/credentials/oauthClient/client_id"),
            uses_keys: auth_method == "private_key_jwt",
            auth_method,
            jwks_uri: v.pointer("/settings/oauthClient/jwks_uri").and_then(Value::as_str).map(str::to_string),
            created: when_iso(&s("/created")),
        }
    }

    /// Okta's words for the client authentication method.
    pub(crate) fn auth_label(&self) -> &'static str {
        match self.auth_method.as_str() {
            "private_key_jwt" => "Public key / Private key",
            "client_secret_post" => "Client secret (client_secret_post)",
            _ => "Client secret",
        }
    }
}

/// A public key or a client secret row.
struct Credential {
    id: String,
    kid: String,
    status: String,
    created: String,
}

/// Okta API scopes tab row.
struct ScopeRow {
    scope: &'static str,
    grant_id: Option<String>,
}

struct RoleRow {
    id: String,
    label: String,
    role_type: String,
}

#[derive(askama::Template)]
#[template(path = "console/apps.html")]
struct ListPage {
    chrome: Chrome,
    apps: Vec<AppView>,
    can_create: bool,
}

#[derive(askama::Template)]
#[template(path = "console/app_new.html")]
struct NewPage {
    chrome: Chrome,
    step_name: bool,
    label: String,
}

/// Which tab of the app page.
#[derive(PartialEq, Eq)]
enum Tab {
    General,
    Scopes,
    Roles,
    Tester,
}

#[derive(askama::Template)]
#[template(path = "console/app.html")]
struct AppPage {
    chrome: Chrome,
    app: AppView,
    tab: Tab,
    keys: Vec<Credential>,
    secrets: Vec<Credential>,
    new_secret: Option<String>,
    scopes: Vec<ScopeRow>,
    roles: Vec<RoleRow>,
    assignable: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    can_credentials: bool,
    can_grant: bool,
    can_roles: bool,
    issuer: String,
    token_url: String,
}

#[derive(askama::Template)]
#[template(path = "console/app_credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    app: AppView,
    keys_selected: bool,
    url_selected: bool,
    jwks_uri: String,
    key_count: usize,
    secret_count: usize,
    confirm: bool,
}

#[derive(askama::Template)]
#[template(path = "console/key_new.html")]
struct KeyNewPage {
    chrome: Chrome,
    app: AppView,
    pasted: String,
}

#[derive(askama::Template)]
#[template(path = "console/key_generated.html")]
struct KeyGeneratedPage {
    chrome: Chrome,
    app: AppView,
    kid: String,
    private_jwk: String,
    private_pem: String,
}

async fn load_app(api: &Mgmt, who: &Signed, id: &str) -> Result<(AppView, Value), Response> {
    let answer = api.get(who, &format!("/api/v1/apps/{}", seg(id))).await;
    let status = answer.status;
    match answer.into_result() {
        Ok(v) => Ok((AppView::from_json(&v), v)),
        Err(e) => Err(crate::console::view::plain_error_status(status, &e)),
    }
}

async fn list(
    State(_): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Query(f): Query<Flash>,
) -> Response {
    let answer = api.get(&who, "/api/v1/apps?limit=200").await;
    let (apps, error) = match answer.into_result() {
        Ok(Value::Array(items)) => (items.iter().map(AppView::from_json).collect(), f.error),
        Ok(_) => (Vec::new(), f.error),
        Err(e) => (Vec::new(), Some(e)),
    };
    let chrome = Chrome::new(&who, "apps").notice(f.notice).error(error);
    render(&ListPage { chrome, apps, can_create: who.can(Permission::AppsManage) })
}

#[derive(serde::Deserialize)]
struct NewQuery {
    #[serde(default)]
    signon: Option<String>,
}

/// `GET /admin/apps/new`: Create a new app integration; with `signon=api_services` (Next), the name step.
async fn new_page(who: Signed, Query(q): Query<NewQuery>) -> Response {
    let step_name = q.signon.as_deref() == Some("api_services");
    render(&NewPage { chrome: Chrome::new(&who, "apps"), step_name, label: String::new() })
}

/// `POST /admin/apps`: Save a new API Services app (client credentials, client secret at first, as Okta).
async fn create(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let label = form.get("label").to_string();
    let body = json!({
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic" } },
        "settings": { "oauthClient": {
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
        } },
    });
    let answer = api.post(&who, "/api/v1/apps", &body).await;
    match answer.into_result() {
        Ok(v) => {
            let secret =
                v.pointer("/credentials/oauthClient/client_secret").and_then(Value::as_str).map(str::to_string);
            let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_string();
            app_page(
                &state,
                &api,
                &who,
                &id,
                Tab::General,
                Flash { notice: Some("App integration created.".into()), error: None },
                secret,
            )
            .await
        }
        Err(e) => {
            let chrome = Chrome::new(&who, "apps").error(Some(e));
            render_status(StatusCode::BAD_REQUEST, &NewPage { chrome, step_name: true, label })
        }
    }
}

fn credentials(items: &Value, kid_field: &str) -> Vec<Credential> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|k| {
                    let s = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                    Credential { id: s("id"), kid: s(kid_field), status: s("status"), created: when_iso(&s("created")) }
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn has_okta_grants(api: &Mgmt, who: &Signed, app_id: &str) -> bool {
    let answer = api.get(who, &format!("/api/v1/apps/{}/grants", seg(app_id))).await;
    answer.json.as_array().is_some_and(|g| {
        g.iter().any(|g| g.get("scopeId").and_then(Value::as_str).is_some_and(|s| s.starts_with("okta.")))
    })
}

async fn app_page(
    state: &AppState,
    api: &Mgmt,
    who: &Signed,
    id: &str,
    tab: Tab,
    f: Flash,
    new_secret: Option<String>,
) -> Response {
    let (app, _) = match load_app(api, who, id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let base = format!("/api/v1/apps/{}", seg(&app.id));
    let mut error = f.error;
    let mut keys = Vec::new();
    let mut secrets = Vec::new();
    let mut scopes = Vec::new();
    let mut roles = Vec::new();
    match tab {
        Tab::General => {
            let k = api.get(who, &format!("{base}/credentials/jwks")).await;
            keys = credentials(k.json.pointer("/jwks/keys").unwrap_or(&Value::Null), "kid");
            if !app.uses_keys {
                let s = api.get(who, &format!("{base}/credentials/secrets")).await;
                secrets = credentials(&s.json, "secret_hash");
                for s in &mut secrets {
                    // Only the last characters of a secret's hash are shown, to tell them apart.
                    let tail = s.kid.get(s.kid.len().saturating_sub(6)..).unwrap_or("").to_string();
                    s.kid = if tail.is_empty() { String::new() } else { format!("…{tail}") };
                }
            }
        }
        Tab::Scopes => {
            let answer = api.get(who, &format!("{base}/grants")).await;
            if !answer.ok() {
                error = Some(answer.error_text());
            }
            let grants = answer.json.as_array().cloned().unwrap_or_default();
            scopes = crate::catalogue::OKTA_SCOPES
                .iter()
                .map(|scope| ScopeRow {
                    scope,
                    grant_id: grants
                        .iter()
                        .find(|g| g.get("scopeId").and_then(Value::as_str) == Some(scope))
                        .and_then(|g| g.get("id").and_then(Value::as_str))
                        .map(str::to_string),
                })
                .collect();
        }
        Tab::Roles => {
            let answer = api.get(who, &format!("/oauth2/v1/clients/{}/roles", seg(&app.client_id))).await;
            if !answer.ok() {
                error = Some(answer.error_text());
            }
            roles = answer
                .json
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| {
                            let s = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                            RoleRow { id: s("id"), label: s("label"), role_type: s("type") }
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
        Tab::Tester => {}
    }
    let can_manage = who.can(Permission::AppsManage);
    let guarded = tab == Tab::General && !who.is_super_admin() && has_okta_grants(api, who, &app.id).await;
    let assignable = Role::ALL
        .iter()
        .filter(|r| !roles.iter().any(|x| x.role_type == r.as_str()))
        .map(|r| (r.as_str(), r.label()))
        .collect();
    let chrome = Chrome::new(who, "apps").notice(f.notice).error(error);
    render(&AppPage {
        chrome,
        tab,
        keys,
        secrets,
        new_secret,
        scopes,
        roles,
        assignable,
        can_manage,
        can_credentials: can_manage && !guarded,
        can_grant: who.can(Permission::GrantsManage) && who.is_super_admin(),
        can_roles: who.can(Permission::RolesManage) && who.is_super_admin(),
        issuer: state.issuer.clone(),
        token_url: format!("{}/oauth2/v1/token", state.issuer),
        app,
    })
}

async fn general(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    app_page(&state, &api, &who, &id, Tab::General, f, None).await
}

async fn scopes_tab(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    app_page(&state, &api, &who, &id, Tab::Scopes, f, None).await
}

async fn roles_tab(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    app_page(&state, &api, &who, &id, Tab::Roles, f, None).await
}

pub(crate) async fn tester_tab(state: &AppState, api: &Mgmt, who: &Signed, id: &str, f: Flash) -> Response {
    app_page(state, api, who, id, Tab::Tester, f, None).await
}

/// `GET /admin/apps/{id}/credentials`: Client Credentials, Edit.
async fn credentials_edit(
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    let (app, _) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    credentials_form(&api, &who, app, None, None, false, f).await
}

async fn credentials_form(
    api: &Mgmt,
    who: &Signed,
    app: AppView,
    keys_selected: Option<bool>,
    url: Option<String>,
    confirm: bool,
    f: Flash,
) -> Response {
    let base = format!("/api/v1/apps/{}", seg(&app.id));
    let key_count = api
        .get(who, &format!("{base}/credentials/jwks"))
        .await
        .json
        .pointer("/jwks/keys")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let secret_count = api.get(who, &format!("{base}/credentials/secrets")).await.json.as_array().map_or(0, Vec::len);
    let url_selected = url.as_ref().map_or(app.jwks_uri.is_some(), |u| !u.is_empty());
    let jwks_uri = url.or_else(|| app.jwks_uri.clone()).unwrap_or_default();
    let chrome = Chrome::new(who, "apps").notice(f.notice).error(f.error);
    render(&CredentialsPage {
        chrome,
        keys_selected: keys_selected.unwrap_or(app.uses_keys),
        url_selected,
        jwks_uri,
        key_count,
        secret_count,
        confirm,
        app,
    })
}

/// `POST /admin/apps/{id}/credentials`: Save. Switching to keys deletes the secrets: the first Save
/// shows Okta's warning, the second (`confirm=yes`) saves.
async fn credentials_save(
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
    let (app, mut body) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let page = format!("/admin/apps/{}", seg(&app.id));
    let to_keys = form.get("auth_method") == "private_key_jwt";
    let by_url = to_keys && form.get("key_storage") == "url";
    let url = form.get("jwks_uri").to_string();
    let base = format!("/api/v1/apps/{}", seg(&app.id));
    let mut method = "client_secret_basic";
    if to_keys {
        method = "private_key_jwt";
        let secrets = api.get(&who, &format!("{base}/credentials/secrets")).await.json.as_array().map_or(0, Vec::len);
        let mut keys = api
            .get(&who, &format!("{base}/credentials/jwks"))
            .await
            .json
            .pointer("/jwks/keys")
            .cloned()
            .unwrap_or(json!([]));
        // The keys as JWKs again (the list adds the key's id, status, dates and links).
        for k in keys.as_array_mut().into_iter().flatten() {
            if let Some(m) = k.as_object_mut() {
                for member in ["id", "status", "created", "lastUpdated", "_links"] {
                    m.remove(member);
                }
            }
        }
        let key_count = keys.as_array().map_or(0, Vec::len);
        if !by_url && key_count == 0 {
            let f = Flash { notice: None, error: Some("Add at least one public key first: click Add key.".into()) };
            return credentials_form(&api, &who, app, Some(true), None, false, f).await;
        }
        let losing = (!app.uses_keys && secrets > 0) || (by_url && key_count > 0 && app.jwks_uri.is_none());
        if losing && form.get("confirm") != "yes" {
            return credentials_form(
                &api,
                &who,
                app,
                Some(true),
                Some(if by_url { url } else { String::new() }),
                true,
                Flash::default(),
            )
            .await;
        }
        let settings = body.pointer_mut("/settings/oauthClient").and_then(Value::as_object_mut);
        if let Some(settings) = settings {
            settings.remove("jwks");
            settings.remove("jwks_uri");
            if by_url {
                settings.insert("jwks_uri".into(), json!(url));
            } else {
                settings.insert("jwks".into(), json!({ "keys": keys }));
            }
        }
    } else if let Some(settings) = body.pointer_mut("/settings/oauthClient").and_then(Value::as_object_mut) {
        settings.remove("jwks_uri");
    }
    if let Some(creds) = body.pointer_mut("/credentials/oauthClient").and_then(Value::as_object_mut) {
        creds.insert("token_endpoint_auth_method".into(), json!(method));
    }
    let answer = api.put(&who, &base, &body).await;
    match answer.into_result() {
        Ok(v) => {
            let secret =
                v.pointer("/credentials/oauthClient/client_secret").and_then(Value::as_str).map(str::to_string);
            let notice = if to_keys {
                "Client authentication is now Public key / Private key."
            } else {
                "Client authentication is now Client secret."
            };
            if secret.is_some() {
                app_page(
                    &state,
                    &api,
                    &who,
                    &app.id,
                    Tab::General,
                    Flash { notice: Some(notice.into()), error: None },
                    secret,
                )
                .await
            } else {
                back(&page, notice)
            }
        }
        Err(e) => {
            let f = Flash { notice: None, error: Some(e) };
            credentials_form(&api, &who, app, Some(to_keys), by_url.then_some(url), false, f).await
        }
    }
}

async fn key_new(
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(f): Query<Flash>,
) -> Response {
    let (app, _) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let chrome = Chrome::new(&who, "apps").notice(f.notice).error(f.error);
    render(&KeyNewPage { chrome, app, pasted: String::new() })
}

/// A pasted public key: a JWK, a JWKS with one key, or a PEM public key (`kid` from the form or its
/// thumbprint). A private key is refused by the API (it names the private member).
fn pasted_jwk(text: &str, kid: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let key = PublicKey::from_pem(text).map_err(|e| format!("That PEM is not a public key tollgate reads: {e}"))?;
        let kid = if kid.is_empty() { key.thumbprint() } else { kid.to_string() };
        let jwk = key.with_kid(Some(kid)).to_jwk();
        return serde_json::to_value(&jwk).map_err(|e| e.to_string());
    }
    let v: Value =
        serde_json::from_str(text).map_err(|_| "Paste a public key as a JWK (JSON) or a PEM block.".to_string())?;
    let v = match v.get("keys").and_then(Value::as_array) {
        Some(keys) if keys.len() == 1 => keys[0].clone(),
        Some(_) => return Err("Paste one key at a time.".into()),
        None => v,
    };
    Ok(v)
}

/// `POST /admin/apps/{id}/keys`: Add key (pasted).
async fn key_add(
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
    let (app, _) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = match pasted_jwk(form.raw("key"), form.get("kid")) {
        Ok(jwk) => api.post(&who, &format!("/api/v1/apps/{}/credentials/jwks", seg(&app.id)), &jwk).await.into_result(),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => back(&after_key(&app, form.get("then")), "Public key added."),
        Err(e) => {
            let chrome = Chrome::new(&who, "apps").error(Some(e));
            render_status(StatusCode::BAD_REQUEST, &KeyNewPage { chrome, app, pasted: form.raw("key").to_string() })
        }
    }
}

fn after_key(app: &AppView, then: &str) -> String {
    if then == "credentials" {
        format!("/admin/apps/{}/credentials", seg(&app.id))
    } else {
        format!("/admin/apps/{}", seg(&app.id))
    }
}

/// `POST /admin/apps/{id}/keys/generate`: Generate new key. A 2048-bit RSA key is made here, only its
/// public half is added to the app (through the API), and the private key is shown once, never stored.
async fn key_generate(
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
    let (app, _) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let generated = tokio::task::spawn_blocking(|| PrivateKey::generate(KeySpec::Rsa { bits: 2048 })).await;
    let key = match generated {
        Ok(Ok(k)) => k,
        _ => return back_error(&format!("/admin/apps/{}/keys/new", seg(&app.id)), "The key could not be generated."),
    };
    let kid = key.kid().to_string();
    let public = match serde_json::to_value(key.public_key().to_jwk()) {
        Ok(v) => v,
        Err(e) => return back_error(&format!("/admin/apps/{}/keys/new", seg(&app.id)), &e.to_string()),
    };
    let answer = api.post(&who, &format!("/api/v1/apps/{}/credentials/jwks", seg(&app.id)), &public).await;
    if let Err(e) = answer.into_result() {
        return back_error(&format!("/admin/apps/{}/keys/new", seg(&app.id)), &e);
    }
    let private_jwk = key.to_jwk().ok().and_then(|j| serde_json::to_string_pretty(&j).ok()).unwrap_or_default();
    let private_pem = key.to_pkcs8_pem().map(|p| p.to_string()).unwrap_or_default();
    let chrome = Chrome::new(&who, "apps")
        .notice(Some("Public key added. Copy the private key now: it is not shown again.".into()));
    render(&KeyGeneratedPage { chrome, app, kid, private_jwk, private_pem })
}

/// The key and secret lifecycle buttons: `{kind}` `keys` or `secrets`, `{op}` activate, deactivate, delete.
async fn credential_op(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path((id, kind, item, op)): Path<(String, String, String, String)>,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let page = format!("/admin/apps/{}", seg(&id));
    let collection = match kind.as_str() {
        "keys" => "jwks",
        "secrets" => "secrets",
        _ => return back_error(&page, "Unknown credential."),
    };
    let path = format!("/api/v1/apps/{}/credentials/{collection}/{}", seg(&id), seg(&item));
    let answer = match op.as_str() {
        "activate" | "deactivate" => api.post(&who, &format!("{path}/lifecycle/{op}"), &json!({})).await,
        "delete" => api.delete(&who, &path).await,
        _ => return back_error(&page, "Unknown action."),
    };
    match answer.into_result() {
        Ok(_) => back(&page, &format!("{} {op}d.", if kind == "keys" { "Key" } else { "Client secret" })),
        Err(e) => back_error(&page, &e),
    }
}

/// `POST /admin/apps/{id}/secrets`: Generate new secret, shown once.
async fn secret_new(
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
    let answer = api.post(&who, &format!("/api/v1/apps/{}/credentials/secrets", seg(&id)), &json!({})).await;
    match answer.into_result() {
        Ok(v) => {
            let secret = v.get("client_secret").and_then(Value::as_str).map(str::to_string);
            let f = Flash {
                notice: Some("New client secret generated. Copy it now: it is not shown again.".into()),
                error: None,
            };
            app_page(&state, &api, &who, &id, Tab::General, f, secret).await
        }
        Err(e) => back_error(&format!("/admin/apps/{}", seg(&id)), &e),
    }
}

/// `POST /admin/apps/{id}/lifecycle/{op}`: Activate / Deactivate the app.
async fn lifecycle(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path((id, op)): Path<(String, String)>,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let page = format!("/admin/apps/{}", seg(&id));
    if op != "activate" && op != "deactivate" {
        return back_error(&page, "Unknown action.");
    }
    let answer = api.post(&who, &format!("/api/v1/apps/{}/lifecycle/{op}", seg(&id)), &json!({})).await;
    match answer.into_result() {
        Ok(_) => back(&page, &format!("App {op}d.")),
        Err(e) => back_error(&page, &e),
    }
}

/// `POST /admin/apps/{id}/scopes/{op}`: Grant (`scope`) or Revoke (`grant`).
async fn scope_op(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path((id, op)): Path<(String, String)>,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let page = format!("/admin/apps/{}/scopes", seg(&id));
    let grants = format!("/api/v1/apps/{}/grants", seg(&id));
    let answer = match op.as_str() {
        "grant" => api.post(&who, &grants, &json!({ "scopeId": form.get("scope"), "issuer": state.issuer })).await,
        "revoke" => api.delete(&who, &format!("{grants}/{}", seg(form.get("grant")))).await,
        _ => return back_error(&page, "Unknown action."),
    };
    match answer.into_result() {
        Ok(_) if op == "grant" => back(&page, &format!("Granted {}.", form.get("scope"))),
        Ok(_) => back(&page, "Revoked."),
        Err(e) => back_error(&page, &e),
    }
}

/// `POST /admin/apps/{id}/roles/{op}`: assign (`type`) or remove (`role`) an admin role.
async fn role_op(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path((id, op)): Path<(String, String)>,
    parts: Parts,
    form: Form,
) -> Response {
    if let Err(r) = form.check(&state, &who, &parts.headers) {
        return r.into_response();
    }
    let page = format!("/admin/apps/{}/roles", seg(&id));
    let (app, _) = match load_app(&api, &who, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let roles = format!("/oauth2/v1/clients/{}/roles", seg(&app.client_id));
    let answer = match op.as_str() {
        "assign" => api.post(&who, &roles, &json!({ "type": form.get("type") })).await,
        "remove" => api.delete(&who, &format!("{roles}/{}", seg(form.get("role")))).await,
        _ => return back_error(&page, "Unknown action."),
    };
    match answer.into_result() {
        Ok(_) if op == "assign" => back(&page, "Role assigned."),
        Ok(_) => back(&page, "Role removed."),
        Err(e) => back_error(&page, &e),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/apps", get(list).post(create))
        .route("/admin/apps/new", get(new_page))
        .route("/admin/apps/{id}", get(general))
        .route("/admin/apps/{id}/scopes", get(scopes_tab))
        .route("/admin/apps/{id}/scopes/{op}", post(scope_op))
        .route("/admin/apps/{id}/roles", get(roles_tab))
        .route("/admin/apps/{id}/roles/{op}", post(role_op))
        .route("/admin/apps/{id}/credentials", get(credentials_edit).post(credentials_save))
        .route("/admin/apps/{id}/keys/new", get(key_new))
        .route("/admin/apps/{id}/keys", post(key_add))
        .route("/admin/apps/{id}/keys/generate", post(key_generate))
        .route("/admin/apps/{id}/secrets", post(secret_new))
        .route("/admin/apps/{id}/lifecycle/{op}", post(lifecycle))
        .route("/admin/apps/{id}/{kind}/{item}/{op}", post(credential_op))
}
