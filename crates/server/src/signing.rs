//! Authorization-server signing keys: creation, publication and scheduled rotation.
//!
//! Each server (the org server and every custom one) has one ACTIVE key that signs, one NEXT key that is
//! already published so verifiers have it before it signs anything, and EXPIRED keys that stay published
//! until every token they signed has expired. Rotation promotes NEXT to ACTIVE and makes a new NEXT. The
//! published JWKS is serialized once per change, not per request. `Cache-Control: max-age` counts down to
//! the next rotation, as Okta's does.
use crate::clock::{now_millis, now_secs};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tollgate_jose::{Algorithm, KeySpec, PrivateKey, PublicKey};
use tollgate_store::{SigningKey, Store, StoreError, key_status};

/// What a server signs with and publishes, ready for the hot path.
pub struct ServerKeys {
    /// The key that signs new tokens.
    pub active: Arc<PrivateKey>,
    /// Every published key by `kid` (ACTIVE, NEXT and not yet retired EXPIRED ones).
    pub published: HashMap<String, PublicKey>,
    /// The `/v1/keys` body, serialized once.
    pub jwks_json: bytes::Bytes,
    /// When the ACTIVE key is due to be replaced, seconds since the epoch.
    pub next_rotation: i64,
}

/// Errors of key management.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {source}")]
    Key { kid: String, source: tollgate_jose::JoseError },
    #[error("no active signing key for server {0}")]
    NoActiveKey(String),
}

/// The signing keys of every authorization server.
pub struct KeyRings {
    store: Arc<dyn Store>,
    rotation_secs: i64,
    rings: RwLock<HashMap<String, Arc<ServerKeys>>>,
}

fn generate_row(server_id: &str, status: &str, now_ms: i64) -> Result<SigningKey, SigningError> {
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 })
        .and_then(|k| k.with_algorithm(Algorithm::Rs256))
        .map_err(|source| SigningError::Key { kid: "(new)".into(), source })?;
    let der = key.to_pkcs8_der().map_err(|source| SigningError::Key { kid: key.kid().into(), source })?;
    Ok(SigningKey {
        kid: key.kid().to_string(),
        server_id: server_id.to_string(),
        status: status.to_string(),
        private_key: der.to_vec(),
        created: now_ms,
        activated: (status == key_status::ACTIVE).then_some(now_ms),
        retire_at: None,
    })
}

impl KeyRings {
    /// A key ring set backed by `store`, rotating every `rotation_days`.
    pub fn new(store: Arc<dyn Store>, rotation_days: u32) -> Self {
        KeyRings { store, rotation_secs: i64::from(rotation_days.max(1)) * 86_400, rings: RwLock::new(HashMap::new()) }
    }

    /// The keys of `server_id`, if loaded.
    pub fn get(&self, server_id: &str) -> Option<Arc<ServerKeys>> {
        self.rings.read().ok().and_then(|r| r.get(server_id).cloned())
    }

    /// Makes sure `server_id` has an ACTIVE and a NEXT key (creating them on first start), then loads them.
    pub async fn ensure(&self, server_id: &str) -> Result<Arc<ServerKeys>, SigningError> {
        let rows = self.store.signing_keys(server_id).await?;
        let now = now_millis();
        let mut new_rows = Vec::new();
        if !rows.iter().any(|k| k.status == key_status::ACTIVE) {
            new_rows.push(generate_row(server_id, key_status::ACTIVE, now)?);
        }
        if !rows.iter().any(|k| k.status == key_status::NEXT) {
            new_rows.push(generate_row(server_id, key_status::NEXT, now)?);
        }
        if !new_rows.is_empty() {
            self.store.rotate_signing_keys(&[], &new_rows, &[]).await?;
        }
        self.reload(server_id).await
    }

    /// Reloads `server_id`'s keys from the store.
    pub async fn reload(&self, server_id: &str) -> Result<Arc<ServerKeys>, SigningError> {
        let rows = self.store.signing_keys(server_id).await?;
        let keys = Arc::new(self.build(server_id, &rows)?);
        if let Ok(mut rings) = self.rings.write() {
            rings.insert(server_id.to_string(), keys.clone());
        }
        Ok(keys)
    }

    /// Forgets a deleted server's keys.
    pub fn remove(&self, server_id: &str) {
        if let Ok(mut rings) = self.rings.write() {
            rings.remove(server_id);
        }
    }

    fn build(&self, server_id: &str, rows: &[SigningKey]) -> Result<ServerKeys, SigningError> {
        let now_ms = now_millis();
        let mut active = None;
        let mut published = HashMap::new();
        let mut jwks = Vec::new();
        // ACTIVE first, then NEXT, then EXPIRED: the order carries no meaning for verifiers, but reads well.
        let order = [key_status::ACTIVE, key_status::NEXT, key_status::EXPIRED];
        for status in order {
            for row in rows.iter().filter(|r| r.status == status) {
                if status == key_status::EXPIRED && row.retire_at.is_some_and(|t| t <= now_ms) {
                    continue;
                }
                let key = PrivateKey::from_pkcs8_der(&row.private_key)
                    .and_then(|k| k.with_algorithm(Algorithm::Rs256))
                    .map(|k| k.with_kid(row.kid.clone()))
                    .map_err(|source| SigningError::Key { kid: row.kid.clone(), source })?;
                let public = key.public_key();
                let mut jwk = public.to_jwk();
                jwk.use_ = Some("sig".into());
                jwk.alg = Some("RS256".into());
                jwks.push(jwk);
                published.insert(row.kid.clone(), public);
                if status == key_status::ACTIVE && active.is_none() {
                    active = Some((Arc::new(key), row.activated.unwrap_or(row.created)));
                }
            }
        }
        let (active, activated_ms) = active.ok_or_else(|| SigningError::NoActiveKey(server_id.to_string()))?;
        let body = serde_json::to_vec(&serde_json::json!({ "keys": jwks }))
            .map_err(|e| SigningError::Store(StoreError::Corrupt(e.to_string())))?;
        Ok(ServerKeys {
            active,
            published,
            jwks_json: body.into(),
            next_rotation: activated_ms / 1000 + self.rotation_secs,
        })
    }

    /// Rotates `server_id` now: NEXT becomes ACTIVE, ACTIVE becomes EXPIRED (published for
    /// `max_token_lifetime` more seconds), a new NEXT is made, and long-retired keys are deleted.
    pub async fn rotate(&self, server_id: &str, max_token_lifetime: i64) -> Result<Arc<ServerKeys>, SigningError> {
        let rows = self.store.signing_keys(server_id).await?;
        let now = now_millis();
        let mut updates = Vec::new();
        let mut delete = Vec::new();
        let mut promoted = false;
        for row in &rows {
            let mut row = row.clone();
            match row.status.as_str() {
                s if s == key_status::ACTIVE => {
                    row.status = key_status::EXPIRED.into();
                    // Tokens signed up to now live at most max_token_lifetime; add a margin for clock skew.
                    row.retire_at = Some(now + (max_token_lifetime + 300) * 1000);
                    updates.push(row);
                }
                s if s == key_status::NEXT && !promoted => {
                    promoted = true;
                    row.status = key_status::ACTIVE.into();
                    row.activated = Some(now);
                    updates.push(row);
                }
                s if s == key_status::EXPIRED && row.retire_at.is_some_and(|t| t <= now) => {
                    delete.push(row.kid.clone());
                }
                _ => {}
            }
        }
        let mut new_keys = vec![generate_row(server_id, key_status::NEXT, now)?];
        if !promoted {
            new_keys.push(generate_row(server_id, key_status::ACTIVE, now)?);
        }
        self.store.rotate_signing_keys(&updates, &new_keys, &delete).await?;
        tracing::info!(server = server_id, "signing keys rotated");
        self.reload(server_id).await
    }

    /// Rotates every loaded server whose ACTIVE key is due. `lifetimes` gives each server's longest token
    /// lifetime. Called periodically by the server.
    pub async fn rotate_due(&self, lifetimes: &HashMap<String, i64>) {
        let now = now_secs();
        let due: Vec<String> = match self.rings.read() {
            Ok(r) => r.iter().filter(|(_, k)| k.next_rotation <= now).map(|(id, _)| id.clone()).collect(),
            Err(_) => return,
        };
        for server_id in due {
            let lifetime = lifetimes.get(&server_id).copied().unwrap_or(86_400);
            if let Err(err) = self.rotate(&server_id, lifetime).await {
                tracing::error!(server = %server_id, error = %err, "scheduled key rotation failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_store::SqliteStore;

    async fn rings() -> (Arc<dyn Store>, KeyRings) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        let rings = KeyRings::new(store.clone(), 90);
        (store, rings)
    }

    #[tokio::test]
    async fn a_due_key_rotates_and_the_old_one_stays_published_until_retired() {
        let (store, rings) = rings().await;
        let first = rings.ensure("org").await.unwrap();
        let old_kid = first.active.kid().to_string();
        assert_eq!(first.published.len(), 2, "ACTIVE and NEXT are published");
        let next_kid = first.published.keys().find(|k| **k != old_kid).unwrap().clone();

        // Nothing is due yet.
        let lifetimes: HashMap<String, i64> = [("org".to_string(), 3600)].into();
        rings.rotate_due(&lifetimes).await;
        assert_eq!(rings.get("org").unwrap().active.kid(), old_kid);

        // Back-date the ACTIVE key by 91 days: the schedule now says rotate.
        let mut rows = store.signing_keys("org").await.unwrap();
        let active = rows.iter_mut().find(|r| r.kid == old_kid).unwrap();
        active.activated = Some(now_millis() - 91 * 86_400_000);
        store.rotate_signing_keys(std::slice::from_ref(active), &[], &[]).await.unwrap();
        let reloaded = rings.reload("org").await.unwrap();
        assert!(reloaded.next_rotation <= now_secs());
        rings.rotate_due(&lifetimes).await;

        let after = rings.get("org").unwrap();
        assert_eq!(after.active.kid(), next_kid, "the NEXT key, published ahead, now signs");
        assert!(after.published.contains_key(&old_kid), "the old key stays published for its tokens");
        assert_eq!(after.published.len(), 3, "old (EXPIRED), ACTIVE, new NEXT");
        assert!(after.next_rotation > now_secs());

        // Once the old key's tokens have all expired it is no longer published.
        let mut rows = store.signing_keys("org").await.unwrap();
        let expired = rows.iter_mut().find(|r| r.kid == old_kid).unwrap();
        assert_eq!(expired.status, key_status::EXPIRED);
        expired.retire_at = Some(now_millis() - 1);
        store.rotate_signing_keys(std::slice::from_ref(expired), &[], &[]).await.unwrap();
        let after = rings.reload("org").await.unwrap();
        assert!(!after.published.contains_key(&old_kid));
        assert_eq!(after.published.len(), 2);
    }
}
