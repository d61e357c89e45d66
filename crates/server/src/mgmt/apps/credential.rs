//! What an app's public keys (`/credentials/jwks`) and client secrets (`/credentials/secrets`) share: the
//! lifecycle of one credential (list, get, activate, deactivate, delete), with Okta's rules (never
//! deactivate the last active credential the auth method needs, delete only inactive ones), its `_links`,
//! and the tollgate extension `lastUsed` (when the credential last authenticated a request; see
//! [`crate::last_used`]). Each kind says only how it is stored and shown ([`Credential`]); the handlers are
//! written once here.
use super::{find_app, refresh};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use tollgate_store::{ACTIVE, App, AppChild, INACTIVE, StoreError};

/// One kind of app credential.
pub(super) trait Credential: Sized + Send + Sync + 'static {
    /// The Okta object name in errors (`JsonWebKey`, `OAuth2ClientSecret`).
    const WHAT: &'static str;
    /// The path segment under `/credentials/` (`jwks`, `secrets`).
    const SEGMENT: &'static str;
    /// The cause when deleting an ACTIVE one.
    const DELETE_ACTIVE: &'static str;

    /// The store's table of this kind.
    const CHILD: AppChild;

    fn id(&self) -> &str;
    fn status(&self) -> &str;
    fn set_status(&mut self, status: &str, now: i64);
    /// Every credential of this kind the app has.
    fn all(state: &AppState, app_id: &str) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send;
    fn store_status(
        state: &AppState,
        app_id: &str,
        id: &str,
        status: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            match Self::CHILD {
                AppChild::Keys => state.store.set_app_key_status(app_id, id, status, now).await,
                AppChild::Secrets => state.store.set_app_secret_status(app_id, id, status, now).await,
                AppChild::Federated => state.store.set_federated_credential_status(app_id, id, status, now).await,
            }
        }
    }
    fn remove(state: &AppState, app_id: &str, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            match Self::CHILD {
                AppChild::Keys => state.store.delete_app_key(app_id, id).await,
                AppChild::Secrets => state.store.delete_app_secret(app_id, id).await,
                AppChild::Federated => state.store.delete_federated_credential(app_id, id).await,
            }
        }
    }
    /// The refusal when deactivating the app's only ACTIVE one would leave its auth method without a
    /// credential; `None` when the method does not need this kind.
    fn last_active_cause(app: &App) -> Option<&'static str>;
    /// The object without `created`, `lastUpdated`, `lastUsed` and `_links`.
    fn body(&self) -> Value;
    fn created(&self) -> i64;
    fn last_updated(&self) -> i64;
    /// The list answer around the objects.
    fn list_body(items: Vec<Value>) -> Value;
}

/// The accessors of a credential row (`id`, `status`, `created`, `last_updated`), for a [`Credential`] impl.
macro_rules! row_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }
        fn status(&self) -> &str {
            &self.status
        }
        fn set_status(&mut self, status: &str, now: i64) {
            self.status = status.into();
            self.last_updated = now;
        }
        fn created(&self) -> i64 {
            self.created
        }
        fn last_updated(&self) -> i64 {
            self.last_updated
        }
    };
}
pub(super) use row_fields;

/// A validation error about this kind of credential.
pub(super) fn refused<C: Credential>(cause: &str) -> ApiError {
    ApiError::validation(C::WHAT, vec![cause.to_string()])
}

/// The full object: body, times, `lastUsed` (null when never used, or not since tracking began) and
/// the lifecycle links its status allows.
pub(super) fn to_json<C: Credential>(state: &AppState, app: &App, c: &C, last_used: Option<i64>) -> Value {
    let base = format!("{}/api/v1/apps/{}/credentials/{}/{}", state.issuer, app.id, C::SEGMENT, c.id());
    let post = json!({ "allow": ["POST"] });
    let links = if c.status() == ACTIVE {
        json!({ "deactivate": { "href": format!("{base}/lifecycle/deactivate"), "hints": post } })
    } else {
        json!({
            "activate": { "href": format!("{base}/lifecycle/activate"), "hints": post },
            "delete": { "href": base, "hints": { "allow": ["DELETE"] } },
        })
    };
    let mut v = c.body();
    if let Some(map) = v.as_object_mut() {
        map.insert("created".into(), json!(iso8601(c.created())));
        map.insert("lastUpdated".into(), json!(iso8601(c.last_updated())));
        map.insert("lastUsed".into(), last_used.map(iso8601).map_or(Value::Null, Value::from));
        map.insert("_links".into(), links);
    }
    v
}

/// When each of the app's credentials last authenticated a request, by credential id.
pub(super) async fn last_used(state: &AppState, app_id: &str) -> Result<HashMap<String, i64>, ApiError> {
    Ok(state.store.credentials_last_used(app_id).await?.into_iter().collect())
}

/// The app's credential of this kind with this id, or 404.
pub(super) async fn find<C: Credential>(state: &AppState, app: &App, id: &str) -> Result<C, ApiError> {
    let all = C::all(state, &app.id).await?;
    all.into_iter().find(|c| c.id() == id).ok_or_else(|| ApiError::not_found(id, C::WHAT))
}

async fn list<C: Credential>(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
    let app = find_app(&state, &app_id).await?;
    let used = last_used(&state, &app.id).await?;
    let all = C::all(&state, &app.id).await?;
    let items = all.iter().map(|c| to_json(&state, &app, c, used.get(c.id()).copied())).collect();
    Ok(axum::Json(C::list_body(items)).into_response())
}

async fn get_one<C: Credential>(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
    let app = find_app(&state, &app_id).await?;
    let c: C = find(&state, &app, &id).await?;
    let used = last_used(&state, &app.id).await?;
    Ok(axum::Json(to_json(&state, &app, &c, used.get(c.id()).copied())).into_response())
}

async fn set_status<C: Credential>(
    state: &AppState,
    admin: &Admin,
    app_id: &str,
    id: &str,
    status: &str,
) -> Result<Response, ApiError> {
    admin.require(state, Permission::AppsManage)?;
    let app = find_app(state, app_id).await?;
    admin.require_super_admin_for_app(state, &app).await?;
    let mut c: C = find(state, &app, id).await?;
    if let (true, Some(cause)) = (status == INACTIVE && c.status() == ACTIVE, C::last_active_cause(&app)) {
        let active = C::all(state, &app.id).await?.iter().filter(|x| x.status() == ACTIVE).count();
        if active <= 1 {
            return Err(refused::<C>(cause));
        }
    }
    let now = now_millis();
    C::store_status(state, &app.id, c.id(), status, now).await?;
    c.set_status(status, now);
    refresh(state, &app.client_id).await?;
    let used = last_used(state, &app.id).await?;
    Ok(axum::Json(to_json(state, &app, &c, used.get(c.id()).copied())).into_response())
}

async fn activate<C: Credential>(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_status::<C>(&state, &admin, &app_id, &id, ACTIVE).await
}

async fn deactivate<C: Credential>(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_status::<C>(&state, &admin, &app_id, &id, INACTIVE).await
}

async fn delete<C: Credential>(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
    let c: C = find(&state, &app, &id).await?;
    if c.status() == ACTIVE {
        return Err(refused::<C>(C::DELETE_ACTIVE));
    }
    C::remove(&state, &app.id, c.id()).await?;
    refresh(&state, &app.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The lifecycle routes of one kind, with its `POST` on the collection (add or create).
pub(super) fn routes<C, H, T>(create: H) -> Router<AppState>
where
    C: Credential,
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    let collection = format!("/api/v1/apps/{{app_id}}/credentials/{}", C::SEGMENT);
    let one = format!("{collection}/{{credential_id}}");
    Router::new()
        .route(&collection, get(list::<C>).post(create))
        .route(&one, get(get_one::<C>).delete(delete::<C>))
        .route(&format!("{one}/lifecycle/activate"), post(activate::<C>))
        .route(&format!("{one}/lifecycle/deactivate"), post(deactivate::<C>))
}
