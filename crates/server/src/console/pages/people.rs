//! Directory > People: the users list with search (the API's `q`: login, email or name prefix), and a
//! person's detail (profile and dates).
use crate::console::mgmt::{Mgmt, q, seg};
use crate::console::session::Signed;
use crate::console::view::{Chrome, plain_error_status, render, when_iso};
use crate::state::AppState;
use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;

struct Person {
    id: String,
    login: String,
    name: String,
    email: String,
    status: String,
}

impl Person {
    fn from_json(v: &Value) -> Self {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let name = format!("{} {}", s("/profile/firstName"), s("/profile/lastName")).trim().to_string();
        Person { id: s("/id"), login: s("/profile/login"), name, email: s("/profile/email"), status: s("/status") }
    }
}

#[derive(askama::Template)]
#[template(path = "console/people.html")]
struct ListPage {
    chrome: Chrome,
    search: String,
    people: Vec<Person>,
}

#[derive(askama::Template)]
#[template(path = "console/person.html")]
struct PersonPage {
    chrome: Chrome,
    person: Person,
    profile: Vec<(String, String)>,
    dates: Vec<(&'static str, String)>,
}

#[derive(serde::Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

async fn list(Extension(api): Extension<Mgmt>, who: Signed, Query(s): Query<Search>) -> Response {
    let search = s.q.trim().to_string();
    let path = if search.is_empty() {
        "/api/v1/users?limit=200".to_string()
    } else {
        format!("/api/v1/users?limit=200&q={}", q(&search))
    };
    let answer = api.get(&who, &path).await;
    let (people, error) = match answer.into_result() {
        Ok(Value::Array(a)) => (a.iter().map(Person::from_json).collect(), None),
        Ok(_) => (Vec::new(), None),
        Err(e) => (Vec::new(), Some(e)),
    };
    render(&ListPage { chrome: Chrome::new(&who, "people").error(error), search, people })
}

async fn detail(Extension(api): Extension<Mgmt>, who: Signed, Path(id): Path<String>) -> Response {
    let answer = api.get(&who, &format!("/api/v1/users/{}", seg(&id))).await;
    let status = answer.status;
    let v = match answer.into_result() {
        Ok(v) => v,
        Err(e) => return plain_error_status(status, &e),
    };
    let profile = v
        .get("profile")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let date = |f: &str| v.get(f).and_then(Value::as_str).map(when_iso).unwrap_or_else(|| "—".into());
    let dates = vec![
        ("Created", date("created")),
        ("Activated", date("activated")),
        ("Last updated", date("lastUpdated")),
        ("Last login", date("lastLogin")),
        ("Password changed", date("passwordChanged")),
    ];
    render(&PersonPage { chrome: Chrome::new(&who, "people"), person: Person::from_json(&v), profile, dates })
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/people", get(list)).route("/admin/people/{id}", get(detail))
}
