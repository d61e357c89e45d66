//! Boots the real server in-process on 127.0.0.1:0 against a temporary database, and offers the few
//! helpers every test needs (register a client, sign an assertion, ask for a token).
//!
//! The database is chosen by `TOLLGATE_TEST_DATABASE`: `sqlite` (the default: a file in the test's temporary
//! directory) or `postgres` (a fresh database per test directory on the server named by
//! `TOLLGATE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`; kept across
//! restarts on the same directory and dropped when the test's thread ends).
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use tokio::sync::oneshot;
use tollgate_jose::{Algorithm, Header, KeySpec, PrivateKey, jws};

pub const ADMIN: &str = "test-admin-token-0123456789";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub struct TestServer {
    /// Where the server listens.
    pub base: String,
    /// The org issuer (the base URL unless fixed at start).
    pub issuer: String,
    pub http: reqwest::Client,
    pub dir: Arc<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// Which database a test server runs on (see the module docs).
mod test_db {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::Mutex;

    const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    /// The PostgreSQL database of each test directory, so that a restart on the directory finds its data.
    static BY_DIR: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

    thread_local! {
        /// Databases created on this (test) thread, dropped when it ends.
        static CREATED: RefCell<Vec<Created>> = const { RefCell::new(Vec::new()) };
    }

    struct Created(String);

    impl Drop for Created {
        fn drop(&mut self) {
            if let Err(e) = psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0)) {
                eprintln!("note: could not drop test database {}: {e}", self.0);
            }
        }
    }

    /// The database URL for a server whose data lives in `dir`.
    pub fn url_for(dir: &Path) -> String {
        match std::env::var("TOLLGATE_TEST_DATABASE").unwrap_or_default().as_str() {
            "" | "sqlite" => format!("sqlite://{}", dir.join("tollgate.db").display()),
            "postgres" | "postgresql" => postgres_for(dir),
            other => panic!("TOLLGATE_TEST_DATABASE={other:?}: expected sqlite or postgres"),
        }
    }

    fn postgres_for(dir: &Path) -> String {
        let mut guard = BY_DIR.lock().unwrap();
        let by_dir = guard.get_or_insert_with(HashMap::new);
        if let Some(url) = by_dir.get(dir) {
            return url.clone();
        }
        let name = format!("tollgate_test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        // Asked for explicitly: never skipped.
        if let Err(e) = psql(&format!("CREATE DATABASE {name}")) {
            panic!("TOLLGATE_TEST_DATABASE=postgres, but no database could be created: {e}");
        }
        CREATED.with(|c| c.borrow_mut().push(Created(name.clone())));
        let url = with_database(&admin_url(), &name);
        by_dir.insert(dir.to_path_buf(), url.clone());
        url
    }

    fn admin_url() -> String {
        std::env::var("TOLLGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
    }

    /// `url` with its database name replaced by `name` (any `?query` kept).
    fn with_database(url: &str, name: &str) -> String {
        let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
        let authority = base.find("://").map_or(0, |i| i + 3);
        let base = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
        format!("{base}/{name}{query}")
    }

    /// Runs one statement on the admin database with `psql` (postgresql-client).
    fn psql(sql: &str) -> Result<(), String> {
        let out = Command::new("psql")
            .arg(admin_url())
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| format!("cannot run psql (install postgresql-client): {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    }
}

/// The database URL of the server whose data lives in `dir` (to write behind a stopped server's back).
pub fn database_url_for(dir: &tempfile::TempDir) -> String {
    test_db::url_for(dir.path())
}

/// The master key every test server seals its signing keys with (base64 of 32 bytes).
pub const TEST_MASTER_KEY: &str = "dG9sbGdhdGUgdGVzdCBtYXN0ZXIga2V5IDMyIGJ5dGU=";

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_in(Arc::new(tempfile::tempdir().unwrap())).await
    }

    /// Starts a server on the database in `dir` (reusing it across restarts).
    pub async fn start_in(dir: Arc<tempfile::TempDir>) -> TestServer {
        Self::start_with(dir, None).await
    }

    /// Starts a server on the database in `dir`, with a fixed issuer when given (so that it survives
    /// a restart on another port, as a real deployment's issuer does).
    pub async fn start_with(dir: Arc<tempfile::TempDir>, issuer: Option<&str>) -> TestServer {
        Self::start_full(dir, issuer, |_| {}).await
    }

    /// Starts a server with a fresh database and `adjust` applied to its configuration.
    pub async fn start_configured(adjust: impl FnOnce(&mut tollgate_server::Config)) -> TestServer {
        Self::start_full(Arc::new(tempfile::tempdir().unwrap()), None, adjust).await
    }

    /// Starts a server on the database in `dir` with `adjust` applied to its configuration (a restart
    /// with changed settings).
    pub async fn start_in_configured(
        dir: Arc<tempfile::TempDir>,
        adjust: impl FnOnce(&mut tollgate_server::Config),
    ) -> TestServer {
        Self::start_full(dir, None, adjust).await
    }

    /// Starts a server on the database in `dir`, with a fixed issuer when given and `adjust` applied to its
    /// configuration (several nodes on one database share an issuer).
    pub async fn start_full(
        dir: Arc<tempfile::TempDir>,
        issuer: Option<&str>,
        adjust: impl FnOnce(&mut tollgate_server::Config),
    ) -> TestServer {
        let mut config = tollgate_server::Config {
            listen: "127.0.0.1:0".into(),
            database_url: test_db::url_for(dir.path()),
            admin_token: Some(ADMIN.into()),
            issuer: issuer.map(str::to_string),
            // PostgreSQL requires one (all nodes share it); a fixed one keeps restarts on the same database working.
            master_key: Some(tollgate_server::master_key::SecretText(TEST_MASTER_KEY.into())),
            ..Default::default()
        };
        adjust(&mut config);
        // An https server (tls_cert, or dev_tls): the harness's client trusts its CA, as a client would.
        let ca_file = match (&config.tls_cert, &config.dev_dir) {
            (Some(cert), _) => cert.parent().map(|d| d.join("ca.pem")),
            (None, Some(dir)) if config.dev_tls => Some(dir.join("ca.pem")),
            _ => None,
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let result = tollgate_server::serve(
                config,
                move |ready| {
                    let _ = ready_tx.send((ready.addr, ready.https));
                },
                async move {
                    let _ = stop_rx.await;
                },
            )
            .await;
            result.expect("server failed");
        });
        let (addr, https) = ready_rx.await.expect("server did not start");
        let scheme = if https { "https" } else { "http" };
        let http = match ca_file.filter(|_| https) {
            Some(ca) => {
                let pem = std::fs::read(&ca).expect("the CA certificate beside the server's");
                let certs = reqwest::Certificate::from_pem_bundle(&pem).unwrap();
                reqwest::Client::builder().tls_certs_only(certs).build().unwrap()
            }
            None => reqwest::Client::new(),
        };
        TestServer {
            base: format!("{scheme}://{addr}"),
            issuer: issuer.map(str::to_string).unwrap_or_else(|| format!("{scheme}://{addr}")),
            http,
            dir,
            shutdown: Some(stop_tx),
            handle: Some(handle),
        }
    }

    /// Stops gracefully and waits for the server task.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
        self.dir.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A URL under the issuer (what assertions name as `aud`).
    pub fn issuer_url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub async fn admin_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("authorization", format!("SSWS {ADMIN}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).header("authorization", format!("SSWS {ADMIN}")).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The URL of this server's database, for a test that writes behind its back as another node would.
    pub fn database_url(&self) -> String {
        test_db::url_for(self.dir.path())
    }

    /// Registers a private_key_jwt service app with `keys` and grants it `scopes` on the org server.
    pub async fn register_jwt_app(&self, keys: &[&PrivateKey], scopes: &[&str]) -> String {
        let jwks: Vec<Value> = keys.iter().map(|k| serde_json::to_value(k.public_key().to_jwk()).unwrap()).collect();
        let (status, body) = self
            .admin_post(
                "/oauth2/v1/clients",
                &json!({
                    "client_name": "test service",
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                    "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": { "keys": jwks },
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let client_id = body["client_id"].as_str().unwrap().to_string();
        self.grant(&client_id, scopes).await;
        client_id
    }

    pub async fn grant(&self, client_id: &str, scopes: &[&str]) {
        for scope in scopes {
            let (status, body) = self
                .admin_post(
                    &format!("/api/v1/apps/{client_id}/grants"),
                    &json!({ "scopeId": scope, "issuer": self.issuer }),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    }

    /// Registers a client_secret_basic service app; returns (client_id, secret).
    pub async fn register_secret_app(&self) -> (String, String) {
        let (status, body) = self
            .admin_post(
                "/oauth2/v1/clients",
                &json!({
                    "client_name": "secret service",
                    "application_type": "service",
                    "token_endpoint_auth_method": "client_secret_basic",
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (body["client_id"].as_str().unwrap().into(), body["client_secret"].as_str().unwrap().into())
    }

    pub async fn create_scope(&self, server: &str, name: &str) {
        let (status, body) =
            self.admin_post(&format!("/api/v1/authorizationServers/{server}/scopes"), &json!({ "name": name })).await;
        assert_eq!(status, 201, "{body}");
    }

    /// POSTs a form to `path`, returning status and JSON body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.http.post(self.url(path)).form(form).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Asks the org token endpoint for `scope` with an assertion.
    pub async fn token_with(&self, assertion: &str, scope: &str) -> (u16, Value) {
        self.post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion),
            ],
        )
        .await
    }
}

/// Claims of a well-formed assertion for `client_id` to `aud`, valid for five minutes.
pub fn assertion_claims(client_id: &str, aud: &str) -> Value {
    let now = now();
    json!({ "iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 300, "jti": uuid::Uuid::new_v4().to_string() })
}

/// Signs `claims` with `key` (its default algorithm) and its kid.
pub fn sign(key: &PrivateKey, claims: &Value) -> String {
    sign_with(key, key.algorithm(), Some(key.kid()), claims)
}

pub fn sign_with(key: &PrivateKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    if let Some(kid) = kid {
        header = header.with_kid(kid);
    }
    jws::sign_json(key, &header, claims).unwrap()
}

/// Keys generated once per test binary (RSA generation is slow in debug builds).
pub fn rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap())
}

pub fn rsa_key_2() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap())
}

pub fn ec_key(curve: tollgate_jose::Curve) -> PrivateKey {
    PrivateKey::generate(KeySpec::Ec(curve)).unwrap()
}

/// Decodes a JWT's payload without verifying it.
pub fn payload(token: &str) -> Value {
    let jws = jws::decode(token).unwrap();
    serde_json::from_slice(jws.payload()).unwrap()
}

/// How a management call authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Ssws,
    /// SSWS with another API token than the bootstrap one.
    SswsToken(&'a str),
    Bearer(&'a str),
}

impl TestServer {
    /// Any management call: method, path, optional JSON body, auth. Returns status, headers and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = if path.starts_with("http") { path.to_string() } else { self.url(path) };
        let mut req = self.http.request(method, url);
        req = match auth {
            Auth::Ssws => req.header("authorization", format!("SSWS {ADMIN}")),
            Auth::SswsToken(t) => req.header("authorization", format!("SSWS {t}")),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_put(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, _, b) = self.call(reqwest::Method::PUT, path, Some(body), Auth::Ssws).await;
        (s, b)
    }

    pub async fn admin_delete(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = self.call(reqwest::Method::DELETE, path, None, Auth::Ssws).await;
        (s, b)
    }

    /// An org access token for a fresh app granted `scopes` (asking for all of them).
    pub async fn org_access_token(&self, scopes: &[&str]) -> String {
        let key = rsa_key();
        let client_id = self.register_jwt_app(&[key], scopes).await;
        let assertion = sign(key, &assertion_claims(&client_id, &self.url("/oauth2/v1/token")));
        let (status, body) = self.token_with(&assertion, &scopes.join(" ")).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }
}

/// The `rel="next"` URL among a response's `Link` headers.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.strip_suffix("; rel=\"next\"").map(|u| u.trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// The public JWK of `key` as JSON.
pub fn public_jwk(key: &PrivateKey) -> Value {
    serde_json::to_value(key.public_key().to_jwk()).unwrap()
}

/// An Apps-API body for a private_key_jwt service app with `keys`.
pub fn jwt_app_body(label: &str, keys: &[&PrivateKey]) -> Value {
    json!({
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "private_key_jwt" } },
        "settings": { "oauthClient": {
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "response_types": ["token"],
            "jwks": { "keys": keys.iter().map(|k| public_jwk(k)).collect::<Vec<_>>() },
        } },
    })
}
