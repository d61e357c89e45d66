//! Authorization-server signing keys: creation, publication and scheduled rotation.
//!
//! Each server (the org server and every custom one) has one ACTIVE key that signs, one NEXT key that is
//! already published so verifiers have it before it signs anything, and EXPIRED keys that stay published
//! until every token they signed has expired. Rotation promotes NEXT to ACTIVE and makes a new NEXT. The
//! published JWKS is serialized once per change, not per request. `Cache-Control: max-age` counts down to
//! the next rotation, as Okta's does.
use crate::clock::{now_millis, now_secs};
use crate::master_key::{MasterKeyError, MasterKeys};
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
    /// The published keys as the management API lists them: each JWK with its `status`.
    pub listed: serde_json::Value,
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
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
}

/// The signing keys of every authorization server.
pub struct KeyRings {
    store: Arc<dyn Store>,
    rotation_secs: i64,
    rings: RwLock<HashMap<String, Arc<ServerKeys>>>,
    master: Arc<MasterKeys>,
    /// Held by every reload from its read to its install, so reloads install in the order they read and
    /// keys read before a rotation can never replace the rotated ones (as in `cache`).
    loading: tokio::sync::Mutex<()>,
}

fn generate_row(master: &MasterKeys, server_id: &str, status: &str, now_ms: i64) -> Result<SigningKey, SigningError> {
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 })
        .and_then(|k| k.with_algorithm(Algorithm::Rs256))
        .map_err(|source| SigningError::Key { kid: "(new)".into(), source })?;
    let der = key.to_pkcs8_der().map_err(|source| SigningError::Key { kid: key.kid().into(), source })?;
    Ok(SigningKey {
        kid: key.kid().to_string(),
        server_id: server_id.to_string(),
        status: status.to_string(),
        private_key: master.seal(key.kid(), &der)?,
        created: now_ms,
        activated: (status == key_status::ACTIVE).then_some(now_ms),
        retire_at: None,
    })
}

impl KeyRings {
    /// A key ring set backed by `store`, rotating every `rotation_days`, private keys sealed with `master`.
    pub fn new(store: Arc<dyn Store>, rotation_days: u32, master: Arc<MasterKeys>) -> Self {
        KeyRings {
            store,
            rotation_secs: i64::from(rotation_days.max(1)) * 86_400,
            rings: RwLock::new(HashMap::new()),
            master,
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// Seals every stored private key that is not under the current master key: plaintext rows from before
    /// encryption, and rows under a previous master key after a rotation. Each row is first opened, so a
    /// wrong master key stops the start with a clear error. Returns how many rows were re-sealed.
    pub async fn reseal_all(&self) -> Result<usize, SigningError> {
        let mut count = 0;
        for row in self.store.all_signing_keys().await? {
            let plain = self.master.open(&row.kid, &row.private_key)?;
            if self.master.needs_reseal(&row.private_key) {
                let sealed = self.master.seal(&row.kid, &plain)?;
                // Conditional on the old value: another node re-sealing at once is harmless.
                if self.store.replace_signing_key_material(&row.kid, &row.private_key, &sealed).await? {
                    count += 1;
                }
            }
        }
        if count > 0 {
            tracing::info!(rows = count, master_key = %self.master.current_id(), "sealed signing keys under the current master key");
        }
        Ok(count)
    }

    /// Ids of every server whose keys are loaded.
    pub fn loaded(&self) -> Vec<String> {
        self.rings.read().map(|r| r.keys().cloned().collect()).unwrap_or_default()
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
        let active = rows.iter().find(|k| k.status == key_status::ACTIVE).map(|k| k.kid.as_str());
        if active.is_none() {
            new_rows.push(generate_row(&self.master, server_id, key_status::ACTIVE, now)?);
        }
        if !rows.iter().any(|k| k.status == key_status::NEXT) {
            new_rows.push(generate_row(&self.master, server_id, key_status::NEXT, now)?);
        }
        if !new_rows.is_empty() {
            // Nodes starting together on a fresh database: the first one's keys win, the others load them.
            self.store.rotate_signing_keys_if_active(server_id, active, &[], &new_rows, &[]).await?;
        }
        self.reload(server_id).await
    }

    /// Reloads `server_id`'s keys from the store.
    pub async fn reload(&self, server_id: &str) -> Result<Arc<ServerKeys>, SigningError> {
        let _loading = self.loading.lock().await;
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
        let mut listed = Vec::new();
        // ACTIVE first, then NEXT, then EXPIRED: the order carries no meaning for verifiers, but reads well.
        let order = [key_status::ACTIVE, key_status::NEXT, key_status::EXPIRED];
        for status in order {
            for row in rows.iter().filter(|r| r.status == status) {
                if status == key_status::EXPIRED && row.retire_at.is_some_and(|t| t <= now_ms) {
                    continue;
                }
                let der = self.master.open(&row.kid, &row.private_key)?;
                let key = PrivateKey::from_pkcs8_der(&der)
                    .and_then(|k| k.with_algorithm(Algorithm::Rs256))
                    .map(|k| k.with_kid(row.kid.clone()))
                    .map_err(|source| SigningError::Key { kid: row.kid.clone(), source })?;
                let public = key.public_key();
                let mut jwk = public.to_jwk();
                jwk.use_ = Some("sig".into());
                jwk.alg = Some("RS256".into());
                let mut with_status =
                    serde_json::to_value(&jwk).map_err(|e| SigningError::Store(StoreError::Corrupt(e.to_string())))?;
                if let Some(map) = with_status.as_object_mut() {
                    map.insert("status".into(), status.into());
                }
                listed.push(with_status);
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
            listed: serde_json::Value::Array(listed),
            next_rotation: activated_ms / 1000 + self.rotation_secs,
        })
    }

    /// Rotates `server_id` now: NEXT becomes ACTIVE, ACTIVE becomes EXPIRED (published for
    /// `max_token_lifetime` more seconds), a new NEXT is made, and long-retired keys are deleted.
    pub async fn rotate(&self, server_id: &str, max_token_lifetime: i64) -> Result<Arc<ServerKeys>, SigningError> {
        self.rotate_inner(server_id, max_token_lifetime, false).await
    }

    async fn rotate_inner(
        &self,
        server_id: &str,
        max_token_lifetime: i64,
        only_if_due: bool,
    ) -> Result<Arc<ServerKeys>, SigningError> {
        let rows = self.store.signing_keys(server_id).await?;
        let now = now_millis();
        let current = rows.iter().find(|k| k.status == key_status::ACTIVE);
        if only_if_due
            && let Some(active) = current
            && active.activated.unwrap_or(active.created) / 1000 + self.rotation_secs > now / 1000
        {
            // Another node rotated between this node's check and now.
            return self.reload(server_id).await;
        }
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
        let mut new_keys = vec![generate_row(&self.master, server_id, key_status::NEXT, now)?];
        if !promoted {
            new_keys.push(generate_row(&self.master, server_id, key_status::ACTIVE, now)?);
        }
        let active = current.map(|k| k.kid.as_str());
        // Conditional, so that of several nodes rotating at once exactly one does it; the others (and this
        // one, if it lost) simply load what is now stored.
        if self.store.rotate_signing_keys_if_active(server_id, active, &updates, &new_keys, &delete).await? {
            tracing::info!(server = server_id, "signing keys rotated");
        } else {
            tracing::info!(server = server_id, "signing keys were rotated by another node");
        }
        self.reload(server_id).await
    }

    /// Rotates every loaded server whose ACTIVE key is due and that is in `lifetimes` (each server's longest
    /// token lifetime): a server left out (`rotationMode: MANUAL`) is rotated only on request. Called
    /// periodically by the server.
    pub async fn rotate_due(&self, lifetimes: &HashMap<String, i64>) -> Vec<Rotated> {
        let now = now_secs();
        let mut rotated = Vec::new();
        let due: Vec<String> = match self.rings.read() {
            Ok(r) => r
                .iter()
                .filter(|(id, k)| k.next_rotation <= now && lifetimes.contains_key(*id))
                .map(|(id, _)| id.clone())
                .collect(),
            Err(_) => return rotated,
        };
        for server_id in due {
            // Another node may have rotated already: decide on the stored keys, not on this node's copy.
            let before = match self.reload(&server_id).await {
                Ok(fresh) if fresh.next_rotation > now => continue,
                Ok(fresh) => fresh.active.kid().to_string(),
                Err(err) => {
                    tracing::error!(server = %server_id, error = %err, "reloading signing keys failed");
                    continue;
                }
            };
            let Some(lifetime) = lifetimes.get(&server_id).copied() else { continue };
            match self.rotate_inner(&server_id, lifetime, true).await {
                Ok(keys) if keys.active.kid() != before => {
                    rotated.push(Rotated { server_id, previous_kid: before, active_kid: keys.active.kid().to_string() })
                }
                Ok(_) => {}
                Err(err) => tracing::error!(server = %server_id, error = %err, "scheduled key rotation failed"),
            }
        }
        rotated
    }
}

/// A scheduled rotation this node carried out (for the System Log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub server_id: String,
    pub previous_kid: String,
    pub active_kid: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_store::SqliteStore;

    async fn rings() -> (Arc<dyn Store>, KeyRings) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        let rings = KeyRings::new(store.clone(), 90, Arc::new(MasterKeys::ephemeral().unwrap()));
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

    fn master(current: &str, previous: Option<&str>) -> Arc<MasterKeys> {
        use crate::master_key::{MasterKeySource, SecretText};
        let source = MasterKeySource {
            key: Some(SecretText(current.into())),
            previous: previous.map(|p| SecretText(p.into())),
            file: None,
        };
        Arc::new(MasterKeys::load(&source, "postgres://h/db").unwrap())
    }

    #[tokio::test]
    async fn plaintext_keys_are_sealed_at_start_and_a_master_key_rotation_reseals_them() {
        const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        // A row as stored before encryption: plain PKCS#8.
        let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
        let der = key.to_pkcs8_der().unwrap().to_vec();
        let now = now_millis();
        let plain_row = SigningKey {
            kid: key.kid().to_string(),
            server_id: "org".into(),
            status: key_status::ACTIVE.into(),
            private_key: der.clone(),
            created: now,
            activated: Some(now),
            retire_at: None,
        };
        store.insert_signing_key(&plain_row).await.unwrap();

        let rings = KeyRings::new(store.clone(), 90, master(K1, None));
        assert_eq!(rings.reseal_all().await.unwrap(), 1);
        let loaded = rings.ensure("org").await.unwrap();
        assert_eq!(loaded.active.kid(), key.kid(), "the same key, now sealed");
        let rows = store.all_signing_keys().await.unwrap();
        assert_eq!(rows.len(), 2, "the sealed old key and a new NEXT key");
        for row in &rows {
            assert!(row.private_key.starts_with(b"TGMK1"), "sealed at rest");
            assert!(!row.private_key.windows(der.len()).any(|w| w == der.as_slice()));
        }
        assert_eq!(rings.reseal_all().await.unwrap(), 0, "nothing left to seal");

        // A wrong master key: a clear error, never garbage.
        let wrong = KeyRings::new(store.clone(), 90, master(K2, None));
        let err = wrong.reseal_all().await.unwrap_err().to_string();
        assert!(err.contains("not configured"), "{err}");
        assert!(wrong.reload("org").await.is_err());

        // Rotating the master key: the new one current, the old one previous; a start re-seals everything.
        let rotated = KeyRings::new(store.clone(), 90, master(K2, Some(K1)));
        assert_eq!(rotated.reseal_all().await.unwrap(), 2);
        let only_new = KeyRings::new(store.clone(), 90, master(K2, None));
        assert_eq!(only_new.reload("org").await.unwrap().active.kid(), key.kid(), "the old key is no longer needed");
    }

    #[tokio::test]
    async fn a_rotation_already_done_by_another_node_is_not_repeated() {
        let (store, rings) = rings().await;
        let first = rings.ensure("org").await.unwrap();
        let old_kid = first.active.kid().to_string();
        let mut rows = store.signing_keys("org").await.unwrap();
        let active = rows.iter_mut().find(|r| r.kid == old_kid).unwrap();
        active.activated = Some(now_millis() - 91 * 86_400_000);
        store.rotate_signing_keys(std::slice::from_ref(active), &[], &[]).await.unwrap();
        rings.reload("org").await.unwrap();
        // "Another node" (a second ring set on the same store) rotates first.
        let other = KeyRings::new(store.clone(), 90, rings.master.clone());
        other.reload("org").await.unwrap();
        let lifetimes: HashMap<String, i64> = [("org".to_string(), 3600)].into();
        other.rotate_due(&lifetimes).await;
        // This node's copy still says "due"; it must find the fresh key and leave it.
        assert!(rings.get("org").unwrap().next_rotation <= now_secs());
        rings.rotate_due(&lifetimes).await;
        let rows = store.signing_keys("org").await.unwrap();
        assert_eq!(rows.len(), 3, "one rotation: EXPIRED, ACTIVE, NEXT; got {rows:?}");
        assert_eq!(rings.get("org").unwrap().active.kid(), other.get("org").unwrap().active.kid());
    }
}
