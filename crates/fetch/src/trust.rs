//! Which certificate authorities tollgate's HTTP clients trust: the platform's, plus the CA certificates
//! named by `SSL_CERT_FILE` and any file the program adds ([`trust_ca_file`], the CLI's `--ca-cert`). One
//! place, so that `tollgate-client`, `tollgate-verify` and the `tollgate` CLI trust the same CAs — e.g. the
//! local CA of `tollgate serve --dev --tls` — with no switch that turns verification off.
//!
//! `SSL_CERT_FILE` is the variable OpenSSL, curl, Python and Go already read, so one `export` serves every
//! client of a local https tollgate. Its certificates are added to the platform's roots (on Linux the
//! platform verifier reads that variable too, and then trusts its file instead of the system bundle, as
//! OpenSSL does). A variable or file that cannot be read, or that holds no certificate, is an error, never
//! silently ignored: a client would otherwise fail later with a far less helpful certificate error.
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The environment variable naming a PEM file of extra CA certificates.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// A CA file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{origin} {path}: cannot read it: {source}")]
    Read {
        origin: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} {path}: no PEM certificate in it")]
    NoCertificate { origin: &'static str, path: PathBuf },
    #[error("{origin} {path}: not a valid PEM certificate file: {detail}")]
    Invalid { origin: &'static str, path: PathBuf, detail: String },
}

/// CA files the program added for the rest of the process (the CLI's `--ca-cert`).
static ADDED: Mutex<Vec<reqwest::Certificate>> = Mutex::new(Vec::new());

/// The CA certificates in a PEM file (one or more `CERTIFICATE` blocks).
pub fn read_ca_file(path: &Path, origin: &'static str) -> Result<Vec<reqwest::Certificate>, TrustError> {
    let pem = std::fs::read(path).map_err(|source| TrustError::Read { origin, path: path.to_path_buf(), source })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| TrustError::Invalid {
        origin,
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TrustError::NoCertificate { origin, path: path.to_path_buf() });
    }
    Ok(certs)
}

/// Trusts the CA certificates in `path` in every client built by [`client_builder`] from now on.
pub fn trust_ca_file(path: &Path) -> Result<(), TrustError> {
    let certs = read_ca_file(path, "CA certificate file")?;
    ADDED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(certs);
    Ok(())
}

/// The CA certificates trusted beyond the platform's: `SSL_CERT_FILE`'s (read now) and those added with
/// [`trust_ca_file`].
pub fn extra_roots() -> Result<Vec<reqwest::Certificate>, TrustError> {
    let mut certs = match std::env::var_os(SSL_CERT_FILE) {
        Some(path) if !path.is_empty() => read_ca_file(Path::new(&path), SSL_CERT_FILE)?,
        _ => Vec::new(),
    };
    certs.extend(ADDED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned());
    Ok(certs)
}

/// A reqwest client builder that trusts the platform's roots and [`extra_roots`]; callers add their
/// timeouts and user agent.
pub fn client_builder() -> Result<reqwest::ClientBuilder, TrustError> {
    Ok(reqwest::Client::builder().tls_certs_merge(extra_roots()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_origin() {
        let dir = std::env::temp_dir().join(format!("tollgate-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").ok();
        let err = read_ca_file(&empty, SSL_CERT_FILE).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("SSL_CERT_FILE ") && err.ends_with("no PEM certificate in it"), "{err}");
        let missing = dir.join("missing.pem");
        let err = read_ca_file(&missing, "--ca-cert").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("--ca-cert ") && err.contains("cannot read it"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
