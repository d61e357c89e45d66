//! `/api/v1/apps/{appId}/credentials/secrets`: client secrets one by one, for rotation without downtime
//! (add a second secret, move clients over, deactivate and delete the first). A new secret's plain text
//! is in the creation response only; afterwards only its keyed hash exists. Each change reloads the
//! client cache, so a deactivated secret is refused on the very next token request.
use super::credential::{self, Credential};
use super::{find_app, refresh};
use crate::clock::now_millis;
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::{JsonObject, no_store};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, AppChild, AppSecret, INACTIVE, StoreError};

const WHAT: &str = "OAuth2ClientSecret";
/// Okta allows two secrets per app.
const MAX_SECRETS: usize = 2;

impl Credential for AppSecret {
    const WHAT: &'static str = WHAT;
    const SEGMENT: &'static str = "secrets";
    const DELETE_ACTIVE: &'static str =
        "You can't delete an active client secret. Deactivate the secret before deleting it.";

    const CHILD: AppChild = AppChild::Secrets;
    credential::row_fields!();

    async fn all(state: &AppState, app_id: &str) -> Result<Vec<Self>, StoreError> {
        state.store.app_secrets(app_id).await
    }
    fn last_active_cause(app: &App) -> Option<&'static str> {
        app.auth_method
            .starts_with("client_secret")
            .then_some("You can't deactivate the only active client secret of this app.")
    }
    fn body(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "secret_hash": tollgate_jose::b64url_encode(&self.secret_hash[..self.secret_hash.len().min(16)]),
        })
    }
    fn list_body(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}

fn refused(cause: &str) -> ApiError {
    credential::refused::<AppSecret>(cause)
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
    // An empty body is fine: everything is optional.
    let map = body.object_or_empty()?;
    if !app.auth_method.starts_with("client_secret") {
        return Err(refused(&format!(
            "A client secret can't be added when 'token_endpoint_auth_method' is '{}'.",
            app.auth_method
        )));
    }
    let plain = match map.get("client_secret") {
        None | Some(Value::Null) => crate::secrets::new_client_secret(),
        Some(Value::String(s)) if (14..=100).contains(&s.len()) => s.clone(),
        Some(Value::String(_)) => {
            return Err(refused("client_secret: 'client_secret' must be between '14' and '100' characters long."));
        }
        Some(_) => return Err(refused("client_secret: The field must be a string")),
    };
    let status = match map.get("status") {
        None | Some(Value::Null) => ACTIVE.to_string(),
        Some(Value::String(s)) if s == ACTIVE || s == INACTIVE => s.clone(),
        Some(_) => return Err(refused("status: must be ACTIVE or INACTIVE")),
    };
    if state.store.app_secrets(&app.id).await?.len() >= MAX_SECRETS {
        return Err(ApiError::limit_reached(tollgate_store::AppChild::Secrets, MAX_SECRETS));
    }
    let now = now_millis();
    let secret = AppSecret {
        id: crate::ids::new_id("ocs"),
        app_id: app.id.clone(),
        secret_hash: state.hasher.hash(&plain),
        status,
        created: now,
        last_updated: now,
    };
    state.store.insert_app_secret(&secret, MAX_SECRETS).await?;
    refresh(&state, &app.client_id).await?;
    let mut body = credential::to_json(&state, &app, &secret, None);
    if let Some(map) = body.as_object_mut() {
        map.insert("client_secret".into(), json!(plain));
    }
    Ok(no_store((StatusCode::CREATED, axum::Json(body))))
}

/// The client secret routes.
pub(super) fn routes() -> Router<AppState> {
    credential::routes::<AppSecret, _, _>(create)
}
