//! A scripted token endpoint for tests: answers each `POST /oauth2/v1/token` with the next [`Reply`],
//! records the requests, serves discovery, and an API at `/api/v1/users` that accepts only the newest
//! token it issued.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tollgate_client::TokenEndpoint;

#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
    issued: Option<String>,
}

impl Reply {
    pub fn token(access_token: &str, expires_in: u64) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::json!({"token_type": "Bearer", "expires_in": expires_in, "access_token": access_token, "scope": "okta.users.read"}).to_string(),
            delay: Duration::ZERO,
            issued: Some(access_token.to_owned()),
        }
    }
    pub fn rate_limited(request_id: &str, reset_in: u64) -> Self {
        let now = std::time::SystemTime::now();
        let epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        Reply {
            status: 429,
            headers: vec![
                ("date", httpdate_fmt(now)),
                ("x-rate-limit-limit", "1200".into()),
                ("x-rate-limit-remaining", "0".into()),
                ("x-rate-limit-reset", (epoch + reset_in).to_string()),
                ("x-okta-request-id", request_id.into()),
                ("content-type", "application/json".into()),
            ],
            body: r#"{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"x","errorCauses":[]}"#.into(),
            delay: Duration::ZERO,
            issued: None,
        }
    }
    pub fn status(status: u16) -> Self {
        Reply { status, headers: vec![], body: String::new(), delay: Duration::ZERO, issued: None }
    }
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Self {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::json!({"error": error, "error_description": description}).to_string(),
            delay: Duration::ZERO,
            issued: None,
        }
    }
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    pub fn dpop_token(access_token: &str) -> Self {
        let mut reply = Reply::token(access_token, 3600);
        reply.body =
            serde_json::json!({"token_type": "DPoP", "expires_in": 3600, "access_token": access_token}).to_string();
        reply
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

fn httpdate_fmt(time: std::time::SystemTime) -> String {
    // RFC 9110 IMF-fixdate through the same crate the client parses with.
    httpdate::fmt_http_date(time)
}

#[derive(Clone, Debug)]
pub struct Recorded {
    headers: HeaderMap,
    form: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    pub fn form(&self, name: &str) -> Option<String> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    latest_token: Mutex<Option<String>>,
    api_authorizations: Mutex<Vec<String>>,
    base: Mutex<String>,
}

pub struct TestServer {
    shared: Arc<Shared>,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Arc::new(Shared { replies: Mutex::new(replies.into()), ..Shared::default() });
        let app = Router::new()
            .route("/oauth2/v1/token", post(token))
            .route("/api/v1/users", get(users))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *shared.base.lock().unwrap() = base.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { shared, base, task }
    }
    pub fn endpoint(&self) -> TokenEndpoint {
        TokenEndpoint::for_org(&self.base, None).unwrap()
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
    pub fn api_authorizations(&self) -> Vec<String> {
        self.shared.api_authorizations.lock().unwrap().clone()
    }
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = url::form_urlencoded::parse(&body).into_owned().collect();
    shared.requests.lock().unwrap().push(Recorded { headers, form });
    let reply = shared.replies.lock().unwrap().pop_front();
    let Some(reply) = reply else { return (StatusCode::INTERNAL_SERVER_ERROR, "no scripted reply").into_response() };
    tokio::time::sleep(reply.delay).await;
    if let Some(issued) = &reply.issued {
        *shared.latest_token.lock().unwrap() = Some(issued.clone());
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn users(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    shared.api_authorizations.lock().unwrap().push(authorization.clone());
    // The first token the test issues is treated as revoked, so the client must renew once.
    let latest = shared.latest_token.lock().unwrap().clone().unwrap_or_default();
    let requests = shared.requests.lock().unwrap().len();
    if requests < 2 || authorization != format!("Bearer {latest}") {
        return (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer error=\"invalid_token\"")]).into_response();
    }
    format!("hello {latest}").into_response()
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let base = shared.base.lock().unwrap().clone();
    axum::Json(serde_json::json!({"issuer": base, "token_endpoint": format!("{base}/oauth2/v1/token"), "jwks_uri": format!("{base}/oauth2/v1/keys")})).into_response()
}
