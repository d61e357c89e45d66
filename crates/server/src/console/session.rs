//! Signing in to the console, its sessions, and signing out.
//!
//! A session is a row in `console_sessions`, found by the SHA-256 of a random 256-bit id that only the
//! browser's cookie holds (`HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure` when the issuer is
//! https, expiring with the session). Any node can read it, so the console works behind a load balancer.
//! Each request re-reads the credential behind the session: a revoked API token or a deleted admin user
//! signs its sessions out at once, and a changed role applies on the next click.
//!
//! Sign-in takes an admin API token (checked as `SSWS` is) or a local admin user's login and password
//! (argon2id, verified off the async threads; an unknown login costs the same as a wrong password).
//! Successes and failures are System Log events: `user.session.start`, `user.session.end`.
use super::csrf;
use super::mgmt::context_of;
use super::view;
use crate::clock::now_millis;
use crate::mgmt::auth::Principal;
use crate::mgmt::authz::{Permission, Role};
use crate::state::AppState;
use crate::syslog::{Event, Party, RequestContext};
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tollgate_store::{AdminUser, ConsoleSession};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "tollgate_console";
/// How long a session lasts from sign-in.
pub(crate) const LIFETIME_SECONDS: i64 = 8 * 3600;

/// A signed-in console request: who, acting with what role, and the session's CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub(crate) principal: Principal,
    pub(crate) name: String,
    pub(crate) role: Option<Role>,
    pub(crate) csrf: String,
    pub(crate) id_hash: Vec<u8>,
    pub(crate) context: RequestContext,
}

impl Signed {
    /// Whether the role allows `p` (what the page offers; the API decides anyway).
    pub(crate) fn can(&self, p: Permission) -> bool {
        self.role.is_some_and(|r| r.allows(p))
    }

    pub(crate) fn is_super_admin(&self) -> bool {
        self.role == Some(Role::SuperAdmin)
    }
}

/// SHA-256 of a session id: what the table stores.
pub(crate) fn hash_id(id: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes()).as_ref().to_vec()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn secure(state: &AppState) -> bool {
    state.issuer.starts_with("https://")
}

fn set_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    let text = format!("{COOKIE}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("tollgate_console=; Max-Age=0"))
}

/// The credential a session stands for, as it is now; `None` when it is gone.
async fn principal_of(state: &AppState, s: &ConsoleSession) -> Option<(Principal, String, Option<Role>)> {
    match s.principal_kind.as_str() {
        "api_token" => {
            let tokens = state.store.api_tokens().await.ok()?;
            let t = tokens.into_iter().find(|t| t.id == s.principal_id)?;
            let role = Role::parse(&t.role);
            Some((Principal::ApiToken { id: t.id.clone(), role }, format!("API token {}", t.name), role))
        }
        "user" => {
            let u = state.store.admin_user(&s.principal_id).await.ok()??;
            let role = Role::parse(&u.role);
            Some((Principal::User { id: u.id.clone(), login: u.login.clone(), role }, u.login, role))
        }
        _ => None,
    }
}

/// Not signed in: pages go to the sign-in page; a state change is refused.
pub(crate) struct SignInFirst(bool);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        if self.0 {
            (StatusCode::UNAUTHORIZED, view::plain_error("Your session has ended. Sign in again.")).into_response()
        } else {
            Redirect::to("/admin/signin").into_response()
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let change = parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD;
        let id = cookie(&parts.headers, COOKIE).filter(|v| !v.is_empty()).ok_or(SignInFirst(change))?;
        let id_hash = hash_id(&id);
        let session = match state.store.console_session(&id_hash, now_millis()).await {
            Ok(Some(s)) => s,
            _ => return Err(SignInFirst(change)),
        };
        let (principal, name, role) = principal_of(state, &session).await.ok_or(SignInFirst(change))?;
        Ok(Signed { principal, name, role, csrf: session.csrf_token, id_hash, context: context_of(parts) })
    }
}

/// A dummy argon2id hash an unknown login is verified against, so it costs as much as a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default())
}

/// Hashes a password with argon2id (the crate's default costs) into a PHC string.
pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    argon2::Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(hash) else { return false };
    argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Why an admin user could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AdminUserError {
    #[error(
        "unknown role {0:?}: one of SUPER_ADMIN, ORG_ADMIN, APP_ADMIN, USER_ADMIN, API_ACCESS_MANAGEMENT_ADMIN, READ_ONLY_ADMIN"
    )]
    Role(String),
    #[error("the password must be at least 12 characters")]
    Weak,
    #[error("the login must not be empty")]
    Login,
    #[error("hashing the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] tollgate_store::StoreError),
}

/// Creates (or, with `replace`, updates the password and role of) a console admin user. Used by
/// `tollgate admin user create` and the `--dev` first start. `Ok(false)`: it existed and was kept.
pub async fn create_admin_user(
    store: &dyn tollgate_store::Store,
    login: &str,
    password: &str,
    role: &str,
    replace: bool,
) -> Result<bool, AdminUserError> {
    let login = login.trim();
    if login.is_empty() {
        return Err(AdminUserError::Login);
    }
    let role = Role::parse(role).ok_or_else(|| AdminUserError::Role(role.to_string()))?;
    if password.chars().count() < 12 {
        return Err(AdminUserError::Weak);
    }
    let password_hash = hash_password(password).map_err(AdminUserError::Hash)?;
    let now = now_millis();
    let user = AdminUser {
        id: crate::ids::new_id("00u"),
        login: login.to_string(),
        password_hash,
        role: role.as_str().to_string(),
        created: now,
        last_updated: now,
    };
    if store.admin_user(login).await?.is_some() {
        if replace {
            store.update_admin_user(&user).await?;
            // A new password signs the old sessions out.
            if let Some(existing) = store.admin_user(login).await? {
                store.delete_console_sessions_of("user", &existing.id).await?;
            }
            return Ok(true);
        }
        return Ok(false);
    }
    store.insert_admin_user(&user).await?;
    Ok(true)
}

/// [`create_admin_user`] in the database at `database_url` (migrated first): `tollgate admin user create`.
pub async fn create_admin_user_at(
    database_url: &str,
    login: &str,
    password: &str,
    role: &str,
    replace: bool,
) -> Result<bool, AdminUserError> {
    let store = tollgate_store::open(database_url).await?;
    create_admin_user(store.as_ref(), login, password, role, replace).await
}

#[derive(askama::Template)]
#[template(path = "console/signin.html")]
struct SignInPage {
    error: Option<String>,
    login: String,
    token_tab: bool,
}

async fn signin_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // Already signed in: straight to the console.
    if let Some(id) = cookie(&headers, COOKIE)
        && let Ok(Some(_)) = state.store.console_session(&hash_id(&id), now_millis()).await
    {
        return Redirect::to("/admin/apps").into_response();
    }
    view::render(&SignInPage { error: None, login: String::new(), token_tab: false })
}

/// `POST /admin/signin`: `method` is `password` (`login`, `password`) or `token` (`token`).
async fn signin(State(state): State<AppState>, parts: Parts, form: csrf::Form) -> Response {
    if let Err(refused) = csrf::same_origin(&state, &parts.headers) {
        return refused.into_response();
    }
    let context = context_of(&parts);
    let field = |k: &str| form.raw(k);
    let by_token = field("method") == "token";
    let found: Result<(String, String, Party), Party> = if by_token {
        let token = field("token").trim();
        let hash = state.hasher.hash(token);
        match state.store.api_token_by_hash(&hash).await {
            Ok(Some(t)) if !token.is_empty() && state.hasher.matches(token, &t.token_hash) => {
                let party = Principal::ApiToken { id: t.id.clone(), role: None }.as_party();
                Ok(("api_token".into(), t.id, party))
            }
            _ => Err(Party::new("unknown", "ApiToken", "unknown", "API token")),
        }
    } else {
        let login = field("login").trim().to_string();
        let password = field("password").to_string();
        let user = state.store.admin_user(&login).await.ok().flatten().filter(|_| !login.is_empty());
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
        let pw = password.clone();
        let matched = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false);
        match user {
            Some(u) if matched && !password.is_empty() => {
                let party = Party::new(&u.id, "User", &u.login, &u.login);
                Ok(("user".into(), u.id, party))
            }
            _ => Err(Party::new(&login, "User", &login, &login)),
        }
    };
    match found {
        Err(actor) => {
            state.log.record(
                Event::new("user.session.start", "User login to Admin Console", actor)
                    .outcome("FAILURE", "INVALID_CREDENTIALS")
                    .context(&context)
                    .debug("signInMethod", if by_token { "api_token" } else { "password" }),
            );
            let page = SignInPage {
                error: Some(if by_token {
                    "Sign in failed: that API token is not valid.".into()
                } else {
                    "Sign in failed: the username or password is not correct.".into()
                }),
                login: if by_token { String::new() } else { field("login").to_string() },
                token_tab: by_token,
            };
            (StatusCode::UNAUTHORIZED, view::render(&page)).into_response()
        }
        Ok((kind, principal_id, actor)) => {
            let id = crate::ids::random_b64url_32();
            let now = now_millis();
            let session = ConsoleSession {
                id_hash: hash_id(&id),
                csrf_token: crate::ids::random_b64url_32(),
                principal_kind: kind.clone(),
                principal_id,
                created: now,
                expires: now + LIFETIME_SECONDS * 1000,
            };
            if let Err(e) = state.store.insert_console_session(&session).await {
                tracing::error!(error = %e, "storing a console session failed");
                return (StatusCode::SERVICE_UNAVAILABLE, view::plain_error("Sign in is unavailable right now."))
                    .into_response();
            }
            state.log.record(
                Event::new("user.session.start", "User login to Admin Console", actor)
                    .context(&context)
                    .debug("signInMethod", if kind == "api_token" { "api_token" } else { "password" }),
            );
            let mut resp = Redirect::to("/admin/apps").into_response();
            resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&state, &id, LIFETIME_SECONDS));
            resp
        }
    }
}

/// `POST /admin/signout`: ends the session (CSRF-checked, like every change).
async fn signout(State(state): State<AppState>, who: Signed, parts: Parts, form: csrf::Form) -> Response {
    if let Err(refused) = form.check(&state, &who, &parts.headers) {
        return refused.into_response();
    }
    if let Err(e) = state.store.delete_console_session(&who.id_hash).await {
        tracing::warn!(error = %e, "ending a console session failed");
    }
    state.log.record(
        Event::new("user.session.end", "User logout from Admin Console", who.principal.as_party())
            .context(&who.context),
    );
    let mut resp = Redirect::to("/admin/signin").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&state, "", 0));
    resp
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/signin", get(signin_page).post(signin)).route("/admin/signout", post(signout))
}
