//! `tollgate serve --dev --tls`: a local certificate authority and a certificate for `localhost`,
//! `127.0.0.1` and `::1` it signed, in the demo folder, made with rcgen (aws-lc-rs) — so https-only clients
//! (Okta's `okta-jwt-verifier`, the Rust `oauth2` crate, ...) work against a local tollgate once they trust
//! the CA (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`), with no switch that turns
//! certificate checks off.
//!
//! Files: `ca.pem` (the CA certificate to trust), `ca-key.pem` (mode 0600), `localhost.pem` and
//! `localhost-key.pem` (0600). On each start they are reused when present and valid: the CA key matches the
//! CA certificate, and the server certificate verifies (rustls' own WebPKI check) against the CA for
//! `localhost` and `127.0.0.1`, now and a week from now. A server certificate that fails is issued anew by
//! the same CA (nothing to trust again); only when that fails too (the CA is about to expire, or its files are
//! gone or broken) is a new CA made.
//!
//! The CA is name-constrained to `localhost` and the loopback addresses: even if its key leaked, a
//! certificate it signed for any other name is refused by clients that trust it.
use super::TlsError;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The CA's lifetime.
const CA_DAYS: i64 = 5 * 365;
/// The server certificate's lifetime (within what platforms accept for a locally trusted root).
const LEAF_DAYS: i64 = 365;
/// A certificate valid for less than this is replaced at start.
const MARGIN: Duration = Duration::from_secs(7 * 86_400);

/// The files of the local CA, and what this start did with them.
#[derive(Debug, Clone)]
pub struct LocalCa {
    /// The CA certificate: the file clients are told to trust.
    pub ca_file: PathBuf,
    /// The server's certificate (signed by the CA) and its key.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Whether the CA was made now (so clients must be told to trust it again).
    pub ca_created: bool,
    /// Whether the server certificate was issued now.
    pub cert_created: bool,
}

/// The file names in `dir`: CA certificate, CA key, server certificate, server key.
pub fn files(dir: &Path) -> [PathBuf; 4] {
    ["ca.pem", "ca-key.pem", "localhost.pem", "localhost-key.pem"].map(|f| dir.join(f))
}

fn fail(dir: &Path, what: impl std::fmt::Display) -> TlsError {
    TlsError::LocalCa(dir.display().to_string(), what.to_string())
}

/// The CA's name and constraints: always the same, so that a reloaded CA key signs certificates whose issuer
/// is the stored CA certificate's subject.
fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "tollgate development");
    name.push(DnType::CommonName, "tollgate local development CA");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".into()),
            GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 0], [255, 0, 0, 0])),
            GeneralSubtree::IpAddress(CidrSubnet::V6(Ipv6Addr::LOCALHOST.octets(), [0xff; 16])),
        ],
        excluded_subtrees: Vec::new(),
    });
    Ok(params)
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    // A little back-dating absorbs clock skew between this host and a client's.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
}

fn leaf_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params.subject_alt_names.push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, LEAF_DAYS);
    Ok(params)
}

/// Creates or reuses the local CA and the server certificate in `dir` (see the module docs).
pub fn ensure(dir: &Path) -> Result<LocalCa, TlsError> {
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let [ca_file, ca_key_file, cert_file, key_file] = files(dir);
    let mut out = LocalCa { ca_file, cert_file, key_file, ca_created: false, cert_created: false };
    if let Some((ca_der, ca_key)) = load_ca(&out.ca_file, &ca_key_file) {
        if leaf_valid(&ca_der, &out.cert_file, &out.key_file) {
            return Ok(out);
        }
        let (cert, key) = issue_leaf(dir, &ca_key)?;
        if chain_valid(&ca_der, cert.der()) {
            write_leaf(dir, &out, &cert, &key)?;
            out.cert_created = true;
            return Ok(out);
        }
        tracing::warn!(dir = %dir.display(), "the local CA is expiring or unusable: making a new one");
    }
    let ca_key = KeyPair::generate().map_err(|e| fail(dir, e))?;
    let mut params = ca_params().map_err(|e| fail(dir, e))?;
    validity(&mut params, CA_DAYS);
    let ca_cert = params.self_signed(&ca_key).map_err(|e| fail(dir, e))?;
    write_file(&ca_key_file, &ca_key.serialize_pem(), true).map_err(|e| fail(dir, e))?;
    write_file(&out.ca_file, &ca_cert.pem(), false).map_err(|e| fail(dir, e))?;
    let (cert, key) = issue_leaf(dir, &ca_key)?;
    write_leaf(dir, &out, &cert, &key)?;
    out.ca_created = true;
    out.cert_created = true;
    tracing::info!(ca = %out.ca_file.display(), "created a local development CA");
    Ok(out)
}

/// The stored CA certificate and its key, when both are there and belong together.
fn load_ca(ca_file: &Path, key_file: &Path) -> Option<(CertificateDer<'static>, KeyPair)> {
    let cert = super::read_certs(ca_file).ok()?.into_iter().next()?;
    let pem = std::fs::read_to_string(key_file).ok()?;
    let key = KeyPair::from_pem(&pem).ok()?;
    let der = super::read_key(key_file).ok()?;
    rustls::sign::CertifiedKey::from_der(vec![cert.clone()], der, &super::provider()).ok()?;
    Some((cert, key))
}

fn issue_leaf(dir: &Path, ca_key: &KeyPair) -> Result<(rcgen::Certificate, KeyPair), TlsError> {
    let ca = ca_params().map_err(|e| fail(dir, e))?;
    let issuer = Issuer::from_params(&ca, ca_key);
    let key = KeyPair::generate().map_err(|e| fail(dir, e))?;
    let cert = leaf_params().and_then(|p| p.signed_by(&key, &issuer)).map_err(|e| fail(dir, e))?;
    Ok((cert, key))
}

fn write_leaf(dir: &Path, out: &LocalCa, cert: &rcgen::Certificate, key: &KeyPair) -> Result<(), TlsError> {
    write_file(&out.key_file, &key.serialize_pem(), true).map_err(|e| fail(dir, e))?;
    write_file(&out.cert_file, &cert.pem(), false).map_err(|e| fail(dir, e))
}

/// Whether the stored server certificate and key are usable with the CA `ca`.
fn leaf_valid(ca: &CertificateDer<'static>, cert_file: &Path, key_file: &Path) -> bool {
    let (Ok(chain), Ok(key)) = (super::read_certs(cert_file), super::read_key(key_file)) else { return false };
    let Some(leaf) = chain.first().cloned() else { return false };
    if rustls::sign::CertifiedKey::from_der(chain, key, &super::provider()).is_err() {
        return false;
    }
    chain_valid(ca, &leaf)
}

/// Whether `leaf` verifies against `ca` for `localhost` and `127.0.0.1`, now and [`MARGIN`] from now.
fn chain_valid(ca: &CertificateDer<'static>, leaf: &CertificateDer<'_>) -> bool {
    use rustls::client::danger::ServerCertVerifier;
    let mut roots = rustls::RootCertStore::empty();
    if roots.add(ca.clone()).is_err() {
        return false;
    }
    let Ok(verifier) =
        rustls::client::WebPkiServerVerifier::builder_with_provider(std::sync::Arc::new(roots), super::provider())
            .build()
    else {
        return false;
    };
    let now = UnixTime::now();
    let later = UnixTime::since_unix_epoch(Duration::from_secs(now.as_secs()).saturating_add(MARGIN));
    let names = [ServerName::try_from("localhost"), Ok(ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()))];
    names.into_iter().all(|name| {
        name.is_ok_and(|name| {
            [now, later].into_iter().all(|at| verifier.verify_server_cert(leaf, &[], &name, &[], at).is_ok())
        })
    })
}

/// Writes `text` to `path`; a `secret` file is readable by its owner only (mode 0600), whatever the umask.
fn write_file(path: &Path, text: &str, secret: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mode = if secret { 0o600 } else { 0o644 };
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(path)?;
        // An existing file keeps its old mode through `open`: set it.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        let _ = secret;
        std::fs::write(path, text)
    }
}
