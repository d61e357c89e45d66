//! The master key: signing keys' private halves are stored sealed with it (AES-256-GCM), never in clear.
//!
//! Sealed form: `TGMK1` ‖ key id (8 bytes) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag, with the row's `kid` as
//! associated data (a sealed key copied onto another row does not open). The key id is derived from the
//! key itself, so several master keys can coexist during a rotation: the current one seals, the previous
//! ones still open, and every start re-seals rows that are not under the current key (plaintext rows from
//! before encryption included). Where the key comes from:
//!
//! * `TOLLGATE_MASTER_KEY` (base64 of 32 bytes; `TOLLGATE_MASTER_KEY_PREVIOUS`: earlier ones, comma-separated), or
//! * `--master-key-file` / `master_key_file`: one base64 key per line, the first is current (`#` comments), or
//! * neither, with SQLite only: a file `<database>.master-key` (mode 0600) generated on first start;
//!   PostgreSQL refuses to start, because every node must share one key.
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64ct::Encoding;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"TGMK1";
const ID_LEN: usize = 8;
const HEADER_LEN: usize = MAGIC.len() + ID_LEN + NONCE_LEN;

/// Secret text from the configuration: kept out of `Debug` output and logs.
#[derive(Clone, Default)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why the master key cannot be used. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "no master key: PostgreSQL nodes must share one; set TOLLGATE_MASTER_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) or --master-key-file"
    )]
    Missing,
    #[error("invalid master key ({0}): expected base64 of exactly 32 bytes")]
    Invalid(&'static str),
    #[error("set either TOLLGATE_MASTER_KEY or --master-key-file, not both")]
    Both,
    #[error("master key file {0}: {1}")]
    File(String, #[source] std::io::Error),
    #[error("master key file {0} has no key")]
    EmptyFile(String),
    #[error(
        "signing key {kid} is sealed with master key {key_id}, which is not configured (wrong TOLLGATE_MASTER_KEY? add the old key to TOLLGATE_MASTER_KEY_PREVIOUS)"
    )]
    UnknownKey { kid: String, key_id: String },
    #[error("signing key {0} does not open with its master key: wrong key or corrupt row")]
    Open(String),
    #[error("signing key {0}: stored value is neither sealed nor a PKCS#8 key")]
    Unrecognized(String),
    #[error("sealing failed")]
    Seal,
}

struct Entry {
    id: [u8; ID_LEN],
    key: LessSafeKey,
}

/// The current master key and any previous ones still accepted for opening.
pub struct MasterKeys {
    keys: Vec<Entry>,
}

fn key_id(bytes: &[u8]) -> [u8; ID_LEN] {
    let mut input = b"tollgate master key id\0".to_vec();
    input.extend_from_slice(bytes);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input);
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&digest.as_ref()[..ID_LEN]);
    id
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_key(text: &str, which: &'static str) -> Result<Entry, MasterKeyError> {
    let bytes = base64ct::Base64::decode_vec(text.trim()).map_err(|_| MasterKeyError::Invalid(which))?;
    if bytes.len() != 32 {
        return Err(MasterKeyError::Invalid(which));
    }
    let unbound = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| MasterKeyError::Invalid(which))?;
    Ok(Entry { id: key_id(&bytes), key: LessSafeKey::new(unbound) })
}

fn key_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Where the master key comes from, as configured.
#[derive(Debug, Clone, Default)]
pub struct MasterKeySource {
    /// `TOLLGATE_MASTER_KEY`.
    pub key: Option<SecretText>,
    /// `TOLLGATE_MASTER_KEY_PREVIOUS`: comma-separated, accepted for opening only.
    pub previous: Option<SecretText>,
    /// `--master-key-file`.
    pub file: Option<PathBuf>,
}

/// The SQLite file a `sqlite://` URL names, if it names one (not `:memory:`).
fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

impl MasterKeys {
    /// Loads the configured keys; with SQLite and nothing configured, reads or creates the key file next to
    /// the database (an in-memory database gets a throwaway key).
    pub fn load(source: &MasterKeySource, database_url: &str) -> Result<MasterKeys, MasterKeyError> {
        let mut keys = Vec::new();
        match (&source.key, &source.file) {
            (Some(_), Some(_)) => return Err(MasterKeyError::Both),
            (Some(text), None) => keys.push(parse_key(&text.0, "TOLLGATE_MASTER_KEY")?),
            (None, Some(path)) => keys.extend(read_key_file(path)?),
            (None, None) => {
                if !database_url.starts_with("sqlite:") {
                    return Err(MasterKeyError::Missing);
                }
                match sqlite_file(database_url) {
                    Some(db) => {
                        let mut name = db.clone().into_os_string();
                        name.push(".master-key");
                        keys.extend(read_or_create_key_file(Path::new(&name))?);
                    }
                    None => keys.push(Self::random_entry()?),
                }
            }
        }
        if let Some(previous) = &source.previous {
            for part in previous.0.split(',').filter(|p| !p.trim().is_empty()) {
                keys.push(parse_key(part, "TOLLGATE_MASTER_KEY_PREVIOUS")?);
            }
        }
        Ok(MasterKeys { keys })
    }

    /// A throwaway key (in-memory databases, tests).
    pub fn ephemeral() -> Result<MasterKeys, MasterKeyError> {
        Ok(MasterKeys { keys: vec![Self::random_entry()?] })
    }

    fn random_entry() -> Result<Entry, MasterKeyError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| MasterKeyError::Seal)?;
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| MasterKeyError::Seal)?;
        Ok(Entry { id: key_id(&bytes), key: LessSafeKey::new(unbound) })
    }

    /// The current key's id (hex), safe to log: it identifies the key without revealing it.
    pub fn current_id(&self) -> String {
        self.keys.first().map(|e| hex(&e.id)).unwrap_or_default()
    }

    /// Seals `plaintext` (a PKCS#8 private key) for the row `kid` under the current key.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        let current = self.keys.first().ok_or(MasterKeyError::Seal)?;
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| MasterKeyError::Seal)?;
        let mut body = plaintext.to_vec();
        current
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| MasterKeyError::Seal)?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a stored value of row `kid`. A plaintext PKCS#8 key (a row from before encryption) is returned
    /// as is; [`MasterKeys::needs_reseal`] tells the caller to seal it.
    pub fn open(&self, kid: &str, stored: &[u8]) -> Result<Vec<u8>, MasterKeyError> {
        if !stored.starts_with(MAGIC) {
            return if stored.first() == Some(&0x30) {
                Ok(stored.to_vec())
            } else {
                Err(MasterKeyError::Unrecognized(kid.into()))
            };
        }
        if stored.len() < HEADER_LEN {
            return Err(MasterKeyError::Open(kid.into()));
        }
        let id = &stored[MAGIC.len()..MAGIC.len() + ID_LEN];
        let entry = self
            .keys
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| MasterKeyError::UnknownKey { kid: kid.into(), key_id: hex(id) })?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&stored[MAGIC.len() + ID_LEN..HEADER_LEN]);
        let mut body = stored[HEADER_LEN..].to_vec();
        let plain = entry
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| MasterKeyError::Open(kid.into()))?;
        Ok(plain.to_vec())
    }

    /// Whether a stored value is not sealed under the current key (plaintext, or a previous key).
    pub fn needs_reseal(&self, stored: &[u8]) -> bool {
        match self.keys.first() {
            Some(current) => {
                !(stored.starts_with(MAGIC)
                    && stored.len() >= HEADER_LEN
                    && stored[MAGIC.len()..MAGIC.len() + ID_LEN] == current.id)
            }
            None => false,
        }
    }
}

fn read_key_file(path: &Path) -> Result<Vec<Entry>, MasterKeyError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| MasterKeyError::File(shown.clone(), e))?;
    let keys = key_lines(&text).map(|l| parse_key(l, "master key file")).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(MasterKeyError::EmptyFile(shown));
    }
    Ok(keys)
}

/// The zero-setup path (SQLite, no key configured): a key file beside the database, created once, 0600.
fn read_or_create_key_file(path: &Path) -> Result<Vec<Entry>, MasterKeyError> {
    if path.exists() {
        return read_key_file(path);
    }
    let shown = path.display().to_string();
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| MasterKeyError::Seal)?;
    let text = format!(
        "# tollgate master key: seals the signing keys in the database beside this file. Back it up with the\n\
         # database; without it the signing keys cannot be opened.\n{}\n",
        base64ct::Base64::encode_string(&bytes)
    );
    write_private(path, text.as_bytes()).map_err(|e| MasterKeyError::File(shown.clone(), e))?;
    tracing::info!(file = %shown, "generated a master key for the signing keys (mode 0600); back it up with the database");
    read_key_file(path)
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(key: &str, previous: Option<&str>) -> MasterKeySource {
        MasterKeySource {
            key: Some(SecretText(key.into())),
            previous: previous.map(|p| SecretText(p.into())),
            file: None,
        }
    }

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn seals_and_opens_and_binds_the_kid() {
        let keys = MasterKeys::load(&source(K1, None), "postgres://x/y").unwrap();
        let sealed = keys.seal("kid1", b"\x30secret").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"\x30secret"), "no plaintext in the sealed form");
        assert_eq!(keys.open("kid1", &sealed).unwrap(), b"\x30secret");
        assert!(matches!(keys.open("kid2", &sealed), Err(MasterKeyError::Open(_))), "bound to its row");
        assert!(!keys.needs_reseal(&sealed));
        assert!(keys.needs_reseal(b"\x30plain"));
    }

    #[test]
    fn a_wrong_key_is_a_clear_error_and_a_previous_key_still_opens() {
        let old = MasterKeys::load(&source(K1, None), "postgres://x/y").unwrap();
        let sealed = old.seal("kid", b"\x30secret").unwrap();
        let wrong = MasterKeys::load(&source(K2, None), "postgres://x/y").unwrap();
        let err = wrong.open("kid", &sealed).unwrap_err().to_string();
        assert!(err.contains("not configured"), "{err}");
        assert!(!err.contains(K1) && !err.contains(K2));
        let rotated = MasterKeys::load(&source(K2, Some(K1)), "postgres://x/y").unwrap();
        assert_eq!(rotated.open("kid", &sealed).unwrap(), b"\x30secret");
        assert!(rotated.needs_reseal(&sealed), "sealed under the previous key");
    }

    #[test]
    fn postgres_needs_a_key_and_sqlite_makes_one_beside_the_database() {
        let err = MasterKeys::load(&MasterKeySource::default(), "postgres://h/db").err().unwrap();
        assert!(matches!(err, MasterKeyError::Missing));
        assert!(MasterKeys::load(&source("c2hvcnQ=", None), "postgres://h/db").is_err());
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let first = MasterKeys::load(&MasterKeySource::default(), &url).unwrap();
        let file = dir.path().join("t.db.master-key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = MasterKeys::load(&MasterKeySource::default(), &url).unwrap();
        assert_eq!(first.current_id(), again.current_id(), "the same key on the next start");
    }
}
