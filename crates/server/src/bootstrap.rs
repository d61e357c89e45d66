//! First start (and every start): the secret-hashing key, the `default` custom server, signing keys for
//! every server, and an admin API token.
use crate::clock::now_millis;
use crate::secrets::SecretHasher;
use crate::signing::{KeyRings, SigningError};
use std::sync::Arc;
use tollgate_store::{ACTIVE, AccessPolicy, ApiToken, AuthServer, ORG_SERVER_ID, PolicyRule, Store, StoreError};

/// What a start created that the operator must be told once.
#[derive(Default)]
pub struct Bootstrapped {
    /// A newly generated admin API token (only when none existed and none was configured).
    pub generated_admin_token: Option<String>,
}

/// Errors of the start-up sequence.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("the stored secret-hashing key is not valid base64url")]
    BadHashKey,
    #[error("the stored DPoP nonce key is not valid base64url")]
    BadDpopNonceKey,
}

/// Reads (or creates) the installation's secret-hashing key.
pub async fn secret_hasher(store: &dyn Store) -> Result<SecretHasher, BootstrapError> {
    let fresh = crate::ids::random_b64url_32();
    let stored = store.setting_init("secret_hash_key", &fresh).await?;
    let key = tollgate_jose::b64url_decode(&stored).map_err(|_| BootstrapError::BadHashKey)?;
    Ok(SecretHasher::new(&key))
}

/// Reads (or creates) the installation's DPoP nonce key, so that every node issues and accepts the
/// same nonces without sharing any other state.
pub async fn dpop_nonces(
    store: &dyn Store,
    period_seconds: u64,
) -> Result<crate::oauth::nonce::Nonces, BootstrapError> {
    let fresh = crate::ids::random_b64url_32();
    let stored = store.setting_init("dpop_nonce_key", &fresh).await?;
    let key = tollgate_jose::b64url_decode(&stored).map_err(|_| BootstrapError::BadDpopNonceKey)?;
    Ok(crate::oauth::nonce::Nonces::new(&key, period_seconds))
}

/// The setting naming the API token that holds the configured `TOLLGATE_ADMIN_TOKEN`.
const BOOTSTRAP_TOKEN_SETTING: &str = "bootstrap_api_token_id";

/// The name of the API token that holds the configured `TOLLGATE_ADMIN_TOKEN`.
const BOOTSTRAP_TOKEN_NAME: &str = "TOLLGATE_ADMIN_TOKEN";

/// Makes the configured `TOLLGATE_ADMIN_TOKEN` a SUPER_ADMIN API token and retires the one a previous
/// start configured, if the value changed: an operator rotating the variable must not leave the old value
/// working. Tokens created through the API are untouched. (Before the setting existed, the previous
/// values are recognised by the name bootstrap gave them.)
async fn bootstrap_token(store: &dyn Store, hasher: &SecretHasher, token: &str, now: i64) -> Result<(), StoreError> {
    let hash = hasher.hash(token);
    let current = match store.api_token_by_hash(&hash).await? {
        Some(found) => found.id,
        None => {
            let fresh = ApiToken {
                id: crate::ids::new_id("00T"),
                name: BOOTSTRAP_TOKEN_NAME.into(),
                token_hash: hash.clone(),
                created: now,
                role: "SUPER_ADMIN".into(),
            };
            match store.insert_api_token(&fresh).await {
                Ok(()) => fresh.id,
                // Another node starting at the same moment stored it first.
                Err(StoreError::Conflict { .. }) => match store.api_token_by_hash(&hash).await? {
                    Some(found) => found.id,
                    None => return Err(StoreError::Corrupt("the bootstrap API token vanished".into())),
                },
                Err(e) => return Err(e),
            }
        }
    };
    let retired: Vec<String> = match store.setting(BOOTSTRAP_TOKEN_SETTING).await? {
        Some(previous) => vec![previous],
        None => {
            store.api_tokens().await?.into_iter().filter(|t| t.name == BOOTSTRAP_TOKEN_NAME).map(|t| t.id).collect()
        }
    };
    for id in retired.iter().filter(|id| **id != current) {
        if store.delete_api_token(id).await? {
            tracing::warn!(token = %id, "TOLLGATE_ADMIN_TOKEN changed: the previous bootstrap API token is retired");
        }
    }
    store.set_setting(BOOTSTRAP_TOKEN_SETTING, &current).await
}

/// The default policy and rule every server is created with.
pub(crate) fn default_policy(server: &AuthServer) -> (AccessPolicy, PolicyRule) {
    let policy = AccessPolicy {
        id: format!("00p{}", server.id),
        server_id: server.id.clone(),
        name: "Default Policy".into(),
        description: "Which clients may get tokens from this authorization server.".into(),
        status: ACTIVE.into(),
        priority: 1,
        clients: vec!["ALL_CLIENTS".into()],
        created: server.created,
        last_updated: server.created,
    };
    let rule = PolicyRule {
        id: format!("0pr{}", server.id),
        server_id: server.id.clone(),
        policy_id: policy.id.clone(),
        name: "Default Policy Rule".into(),
        status: ACTIVE.into(),
        priority: 1,
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["*".into()],
        token_lifetime_minutes: (server.access_token_lifetime / 60).clamp(5, 1440),
        created: server.created,
        last_updated: server.created,
    };
    (policy, rule)
}

/// Creates what must exist and loads every server's signing keys.
pub async fn run(
    store: &Arc<dyn Store>,
    keys: &KeyRings,
    hasher: &SecretHasher,
    admin_token: Option<&str>,
) -> Result<Bootstrapped, BootstrapError> {
    let now = now_millis();
    if store.auth_server("default").await?.is_none() {
        let default = AuthServer {
            id: "default".into(),
            name: "default".into(),
            description: "Default Authorization Server".into(),
            audiences: vec!["api://default".into()],
            access_token_lifetime: 3600,
            status: ACTIVE.into(),
            rotation_mode: "AUTO".into(),
            created: now,
            last_updated: now,
        };
        let (policy, rule) = default_policy(&default);
        match store.insert_auth_server_with(&default, &[policy], &[rule]).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    keys.ensure(ORG_SERVER_ID).await?;
    for server in store.auth_servers().await? {
        keys.ensure(&server.id).await?;
    }

    let mut out = Bootstrapped::default();
    match admin_token {
        Some(token) => bootstrap_token(store.as_ref(), hasher, token, now).await?,
        None if store.api_token_count().await? == 0 => {
            let token = crate::secrets::new_api_token();
            store
                .insert_api_token(&ApiToken {
                    id: crate::ids::new_id("00T"),
                    name: "bootstrap".into(),
                    token_hash: hasher.hash(&token),
                    created: now,
                    role: "SUPER_ADMIN".into(),
                })
                .await?;
            out.generated_admin_token = Some(token);
        }
        None => {}
    }
    Ok(out)
}
