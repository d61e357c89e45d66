//! HTTPS: the rustls server configuration (aws-lc-rs, the project's one crypto backend) from PEM files —
//! `tls_cert` (the certificate chain, leaf first) and `tls_key` (its private key: PKCS#8, PKCS#1 or SEC1) —
//! or, in dev mode with `dev_tls`, from the local CA of [`local_ca`]. The handshake itself runs in
//! [`crate::listener`], under the request-head timeout. HTTP/2 and HTTP/1.1 are offered by ALPN.
pub mod local_ca;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Why HTTPS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate file {0}: {1}")]
    Cert(String, String),
    #[error("TLS key file {0}: {1}")]
    Key(String, String),
    #[error("TLS certificate {0} and key {1} do not go together: {2}")]
    Mismatch(String, String, String),
    #[error("set both tls_cert and tls_key (--tls-cert and --tls-key), or neither")]
    Incomplete,
    #[error("dev_tls (--tls) needs dev mode (--dev); for your own certificate use --tls-cert and --tls-key")]
    DevOnly,
    #[error("the issuer {0} must be an https URL when tollgate serves https")]
    HttpIssuer(String),
    #[error("local CA in {0}: {1}")]
    LocalCa(String, String),
}

/// The crypto provider of every TLS configuration tollgate builds.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificates of a PEM file, in order.
pub(crate) fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let name = || path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::Cert(name(), e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Cert(name(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Cert(name(), "no PEM CERTIFICATE in it".into()));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub(crate) fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Key(path.display().to_string(), e.to_string()))
}

/// The server configuration for a certificate chain and its key (which must match).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_certs(cert)?;
    let private = read_key(key)?;
    let mismatch =
        |e: rustls::Error| TlsError::Mismatch(cert.display().to_string(), key.display().to_string(), e.to_string());
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(mismatch)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(mismatch)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What serving https needs, from the configuration: `None` for plain http. In dev mode with `dev_tls`,
/// the local CA and certificate are created (or reused) first.
/// The rustls configuration to serve with, and the local CA when `serve --dev --tls` made one.
pub(crate) type Serving = (Arc<rustls::ServerConfig>, Option<local_ca::LocalCa>);

pub(crate) fn from_config(config: &crate::Config) -> Result<Option<Serving>, TlsError> {
    if config.dev_tls {
        let Some(dir) = &config.dev_dir else { return Err(TlsError::DevOnly) };
        let ca = local_ca::ensure(dir)?;
        let server = server_config(&ca.cert_file, &ca.key_file)?;
        return Ok(Some((server, Some(ca))));
    }
    match (&config.tls_cert, &config.tls_key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some((server_config(cert, key)?, None))),
        _ => Err(TlsError::Incomplete),
    }
}
