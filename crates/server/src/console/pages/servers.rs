//! Security > API > Authorization Servers: the list (the org server, shown but not editable, then
//! `default` and the custom ones) and one server's tabs: Settings, Scopes, Access Policies, Claims, Keys.
//!
//! Access Policies lists the policies the API has; their rules and the Claims tab are left as seams
//! (`templates/console/server.html` has a block per tab) for when the API grows those resources.
use super::Flash;
use crate::console::csrf::Form;
use crate::console::mgmt::{Mgmt, seg};
use crate::console::session::Signed;
use crate::console::view::{Chrome, back, back_error, plain_error_status, render, when, when_iso};
use crate::mgmt::authz::Permission;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Value, json};

struct ServerRow {
    id: String,
    name: String,
    description: String,
    audiences: String,
    issuer: String,
    status: String,
}

impl ServerRow {
    fn from_json(v: &Value) -> Self {
        let s = |f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_string();
        let audiences = v
            .get("audiences")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        ServerRow {
            id: s("id"),
            name: s("name"),
            description: s("description"),
            audiences,
            issuer: s("issuer"),
            status: s("status"),
        }
    }
}

struct Row {
    id: String,
    name: String,
    description: String,
    status: String,
    created: String,
}

#[derive(askama::Template)]
#[template(path = "console/servers.html")]
struct ListPage {
    chrome: Chrome,
    org_issuer: String,
    servers: Vec<ServerRow>,
}

#[derive(PartialEq, Eq)]
enum Tab {
    Settings,
    Scopes,
    Policies,
    Claims,
    Keys,
}

#[derive(askama::Template)]
#[template(path = "console/server.html")]
struct ServerPage {
    chrome: Chrome,
    server: ServerRow,
    tab: Tab,
    rows: Vec<Row>,
    can_manage: bool,
    editing: bool,
}

async fn list(
    Extension(api): Extension<Mgmt>,
    who: Signed,
    State(state): State<AppState>,
    Query(f): Query<Flash>,
) -> Response {
    let answer = api.get(&who, "/api/v1/authorizationServers").await;
    let (servers, error) = match answer.into_result() {
        Ok(Value::Array(a)) => (a.iter().map(ServerRow::from_json).collect(), f.error),
        Ok(_) => (Vec::new(), f.error),
        Err(e) => (Vec::new(), Some(e)),
    };
    let chrome = Chrome::new(&who, "servers").notice(f.notice).error(error);
    render(&ListPage { chrome, org_issuer: state.issuer.clone(), servers })
}

#[derive(serde::Deserialize, Default)]
struct ServerQuery {
    notice: Option<String>,
    error: Option<String>,
    edit: Option<String>,
}

async fn page(state: &AppState, api: &Mgmt, who: &Signed, id: &str, tab: Tab, q: ServerQuery) -> Response {
    let base = format!("/api/v1/authorizationServers/{}", seg(id));
    let answer = api.get(who, &base).await;
    let status = answer.status;
    let server = match answer.into_result() {
        Ok(v) => ServerRow::from_json(&v),
        Err(e) => return plain_error_status(status, &e),
    };
    let mut error = q.error;
    let mut rows = Vec::new();
    let list = |v: &Value| -> Vec<Row> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let s = |f: &str| x.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                        Row {
                            id: s("id"),
                            name: s("name"),
                            description: s("description"),
                            status: s("status"),
                            created: when_iso(&s("created")),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match tab {
        Tab::Scopes | Tab::Policies | Tab::Claims => {
            let sub = match tab {
                Tab::Scopes => "scopes",
                Tab::Policies => "policies",
                _ => "claims",
            };
            let answer = api.get(who, &format!("{base}/{sub}")).await;
            if answer.ok() {
                rows = list(&answer.json);
            } else if tab != Tab::Claims {
                error = Some(answer.error_text());
            }
        }
        Tab::Keys => {
            // kid, status and dates only: what the published JWKS tells anyone.
            if who.can(Permission::ServersRead) {
                match state.store.signing_keys(id).await {
                    Ok(keys) => {
                        rows = keys
                            .into_iter()
                            .map(|k| Row {
                                id: k.kid.clone(),
                                name: k.kid,
                                description: String::new(),
                                status: k.status,
                                created: when(k.created * 1000),
                            })
                            .collect()
                    }
                    Err(e) => error = Some(e.to_string()),
                }
            }
        }
        Tab::Settings => {}
    }
    let can_manage = who.can(Permission::ServersManage);
    let chrome = Chrome::new(who, "servers").notice(q.notice).error(error);
    let editing = can_manage && q.edit.is_some();
    render(&ServerPage { chrome, server, tab, rows, can_manage, editing })
}

async fn settings(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path(id): Path<String>,
    Query(q): Query<ServerQuery>,
) -> Response {
    page(&state, &api, &who, &id, Tab::Settings, q).await
}

async fn tab(
    State(state): State<AppState>,
    Extension(api): Extension<Mgmt>,
    who: Signed,
    Path((id, tab)): Path<(String, String)>,
    Query(q): Query<ServerQuery>,
) -> Response {
    let tab = match tab.as_str() {
        "scopes" => Tab::Scopes,
        "policies" => Tab::Policies,
        "claims" => Tab::Claims,
        "keys" => Tab::Keys,
        _ => Tab::Settings,
    };
    page(&state, &api, &who, &id, tab, q).await
}

/// `POST /admin/servers/{id}/{op}`: `settings` (Save), `scopes` (Add Scope), `scopes/delete`, `rotate`.
async fn change(
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
    let base = format!("/api/v1/authorizationServers/{}", seg(&id));
    let page = format!("/admin/servers/{}", seg(&id));
    let (answer, to, notice) = match op.as_str() {
        "settings" => {
            let current = api.get(&who, &base).await;
            let mut body = current.json.clone();
            if let Some(m) = body.as_object_mut() {
                m.insert("name".into(), json!(form.get("name")));
                m.insert("description".into(), json!(form.get("description")));
                let audiences: Vec<&str> =
                    form.get("audiences").split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
                m.insert("audiences".into(), json!(audiences));
            }
            (api.put(&who, &base, &body).await, page.clone(), "Settings saved.")
        }
        "scopes" => {
            let body = json!({ "name": form.get("name"), "description": form.get("description") });
            (api.post(&who, &format!("{base}/scopes"), &body).await, format!("{page}/scopes"), "Scope added.")
        }
        "delete-scope" => (
            api.delete(&who, &format!("{base}/scopes/{}", seg(form.get("scope")))).await,
            format!("{page}/scopes"),
            "Scope deleted.",
        ),
        "rotate" => (
            api.post(&who, &format!("{base}/credentials/lifecycle/keyRotate"), &json!({})).await,
            format!("{page}/keys"),
            "Keys rotated: the next key is now active.",
        ),
        _ => return back_error(&page, "Unknown action."),
    };
    match answer.into_result() {
        Ok(_) => back(&to, notice),
        Err(e) => back_error(&to, &e),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/servers", get(list))
        .route("/admin/servers/{id}", get(settings))
        .route("/admin/servers/{id}/{tab}", get(tab).post(change))
}
