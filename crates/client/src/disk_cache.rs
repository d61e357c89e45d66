//! Tokens cached on disk between separate processes (two `tollgate token` calls in a row make one token
//! request) when no agent is running: one file per [`CacheKey`] (named by its digest, holding the key
//! itself, which is compared on reading) in the user's private cache directory (`$XDG_CACHE_HOME/tollgate/
//! tokens`, 0700), each file 0600. A file or directory another user owns or can read is ignored, so the
//! cache is never shared between users. DPoP-bound tokens are the caller's business: cache one only when
//! its key outlives the process (a key file), since a token whose key is gone is useless.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::{CacheKey, CachedToken, RefreshAhead};
use crate::local::{cache_dir, private_dir, read_private_file, write_private_file};
use crate::{ClientError, TokenResponse};

/// Largest cache file read.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// The token cache in one directory.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: CacheKey,
    obtained_at: i64,
    token: TokenResponse,
}

impl DiskCache {
    /// The cache in the user's cache directory; `None` when there is none (no `HOME`).
    pub fn for_user() -> Option<Self> {
        cache_dir().map(|d| DiskCache { dir: d.join("tokens") })
    }

    /// The cache in `dir` (created private when used).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        DiskCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.digest()))
    }

    /// The token cached under `key` if it is still fresh under `policy` at `now`.
    pub fn load(&self, key: &CacheKey, now: i64, policy: RefreshAhead) -> Option<CachedToken> {
        private_dir(&self.dir).ok()?;
        let bytes = read_private_file(&self.file(key), MAX_FILE_BYTES)?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        if entry.key != *key {
            return None;
        }
        let token = CachedToken::new(entry.token, entry.obtained_at);
        token.is_fresh_under(now, policy).then_some(token)
    }

    /// Keeps `token` under `key`.
    pub fn store(&self, key: &CacheKey, token: &CachedToken) -> Result<(), ClientError> {
        private_dir(&self.dir)?;
        let entry = Entry { key: key.clone(), obtained_at: token.obtained_at, token: (*token.response).clone() };
        let bytes = serde_json::to_vec(&entry).map_err(|e| ClientError::Config(e.to_string()))?;
        write_private_file(&self.file(key), &bytes)
            .map_err(|e| ClientError::Config(format!("writing the token cache in {}: {e}", self.dir.display())))
    }

    /// Forgets the token under `key` (one a server refused).
    pub fn remove(&self, key: &CacheKey) {
        let _ = std::fs::remove_file(self.file(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenEndpoint;
    use std::os::unix::fs::PermissionsExt;

    fn token() -> TokenResponse {
        TokenResponse {
            token_type: "Bearer".into(),
            expires_in: Some(3600),
            access_token: "at".into(),
            scope: None,
            other: Default::default(),
        }
    }

    #[test]
    fn a_stored_token_is_read_back_under_its_key_only_while_fresh() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = DiskCache::in_dir(tmp.path().join("tokens"));
        let ep = TokenEndpoint::for_org("https://x.example", None).unwrap();
        let key = CacheKey::new(&ep, "c", &["a".into()], None);
        let other = CacheKey::new(&ep, "c", &["b".into()], None);
        cache.store(&key, &CachedToken::new(token(), 1000)).unwrap();
        let policy = RefreshAhead::Margin(300);
        assert_eq!(cache.load(&key, 1000, policy).unwrap().response.access_token, "at");
        assert!(cache.load(&other, 1000, policy).is_none());
        assert!(cache.load(&key, 1000 + 3300, policy).is_none(), "due for renewal");
        let file = cache.file(&key);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777, 0o700);
        cache.remove(&key);
        assert!(cache.load(&key, 1000, policy).is_none());
    }
}
