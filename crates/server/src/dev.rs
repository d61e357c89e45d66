//! `tollgate serve --dev`: a demo org so a new user sees the whole flow work at once.
//!
//! Seeds (idempotently, so restarts keep the same demo app): a few users, a service app with a freshly
//! generated RS256 key whose private half is written to a file (mode 0600), a grant of `okta.users.read`,
//! a fresh admin API token, and the Admin Console user `admin` with a fresh password, both returned (to be
//! printed once) — in dev mode only.
use crate::clock::now_millis;
use crate::state::AppState;
use std::path::{Path, PathBuf};
use tollgate_jose::{KeySpec, PrivateKey};
use tollgate_store::{ACTIVE, ApiToken, App, AppKey, Grant, User};

/// What the demo seeding made, for the operator.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub admin_token: String,
    pub client_id: String,
    pub private_key_file: PathBuf,
    pub scopes: Vec<String>,
    /// The Admin Console's dev admin user (SUPER_ADMIN) and its fresh password, shown once.
    pub console_login: String,
    pub console_password: String,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Store(#[from] tollgate_store::StoreError),
    #[error("demo key: {0}")]
    Key(#[from] tollgate_jose::JoseError),
    #[error("demo console user: {0}")]
    Console(#[from] crate::console::AdminUserError),
    #[error("demo key file {0}: {1}")]
    Io(String, #[source] std::io::Error),
}

const DEMO_USERS: [(&str, &str, &str); 3] = [
    ("Ada", "Lovelace", "ada.lovelace@example.com"),
    ("Grace", "Hopper", "grace.hopper@example.com"),
    ("Alan", "Turing", "alan.turing@example.com"),
];

fn write_private(path: &Path, text: &str) -> Result<(), DevError> {
    let io = |e| DevError::Io(path.display().to_string(), e);
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text).map_err(io)
    }
}

/// Seeds the demo org; `dir` receives the demo app's private key.
pub async fn seed(state: &AppState, dir: &Path) -> Result<DemoSeed, DevError> {
    let store = state.store.as_ref();
    let now = now_millis();
    std::fs::create_dir_all(dir).map_err(|e| DevError::Io(dir.display().to_string(), e))?;

    if store.users(None, 1).await?.is_empty() {
        for (first, last, email) in DEMO_USERS {
            let mut profile = serde_json::Map::new();
            profile.insert("firstName".into(), first.into());
            profile.insert("lastName".into(), last.into());
            profile.insert("email".into(), email.into());
            store
                .insert_user(&User {
                    id: crate::ids::new_id("00u"),
                    login: email.into(),
                    status: ACTIVE.into(),
                    profile,
                    created: now,
                    activated: Some(now),
                    status_changed: Some(now),
                    last_login: None,
                    last_updated: now,
                    password_changed: None,
                })
                .await?;
        }
    }

    let key_file = dir.join("demo-service.pem");
    let existing = match store.setting("demo_client_id").await? {
        Some(id) if key_file.exists() && store.app_by_client_id(&id).await?.is_some() => Some(id),
        _ => None,
    };
    let client_id = match existing {
        Some(id) => id,
        None => {
            let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 })?;
            write_private(&key_file, &key.to_pkcs8_pem()?)?;
            let id = crate::ids::new_id("0oa");
            let mut extra = serde_json::Map::new();
            extra.insert("response_types".into(), serde_json::json!(["token"]));
            let app = App {
                id: id.clone(),
                client_id: id.clone(),
                name: "tollgate demo service".into(),
                status: ACTIVE.into(),
                application_type: "service".into(),
                auth_method: "private_key_jwt".into(),
                grant_types: vec!["client_credentials".into()],
                jwks_uri: None,
                dpop_bound: false,
                extra,
                created: now,
                last_updated: now,
                token_generation: 0,
            };
            let jwk = key.public_key().to_jwk();
            let app_key = AppKey {
                id: crate::ids::new_id("pks"),
                app_id: id.clone(),
                kid: jwk.kid.clone(),
                status: ACTIVE.into(),
                jwk: serde_json::to_string(&jwk).unwrap_or_default(),
                created: now,
                last_updated: now,
            };
            store.insert_app(&app, &[app_key], &[]).await?;
            store
                .insert_grant(&Grant {
                    id: crate::ids::new_id("oag"),
                    app_id: id.clone(),
                    scope_id: "okta.users.read".into(),
                    issuer: state.issuer.clone(),
                    status: ACTIVE.into(),
                    source: "ADMIN".into(),
                    created: now,
                    last_updated: now,
                })
                .await?;
            store.set_setting("demo_client_id", &id).await?;
            id
        }
    };
    state.clients.reload(store, &client_id).await?;

    let admin_token = crate::secrets::new_api_token();
    store
        .insert_api_token(&ApiToken {
            id: crate::ids::new_id("00T"),
            name: "dev".into(),
            token_hash: state.hasher.hash(&admin_token),
            created: now,
            role: "SUPER_ADMIN".into(),
        })
        .await?;
    // The console's admin user: a fresh password on every dev start, like the API token.
    let console_login = "admin".to_string();
    let console_password = crate::ids::random_token(20);
    crate::console::create_admin_user(store, &console_login, &console_password, "SUPER_ADMIN", true).await?;
    Ok(DemoSeed {
        admin_token,
        client_id,
        private_key_file: key_file,
        scopes: vec!["okta.users.read".into()],
        console_login,
        console_password,
    })
}
