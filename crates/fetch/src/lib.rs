//! `tollgate-fetch`: the one policy for every URL tollgate fetches (a client's `jwks_uri` today, an
//! external OIDC issuer later), and a client that obeys it.
//!
//! * [`Policy::check_url`]: pure, for registration time — https only, no credentials in the URL, no
//!   `localhost` names, no literal address outside the public internet (in any textual encoding: the
//!   `url` crate normalises `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1` to `127.0.0.1`).
//! * [`ip_allowed`]: the address ranges refused, IPv4-mapped and -compatible IPv6 judged by their IPv4.
//! * [`Fetcher`]: resolves the host once, keeps only allowed addresses and connects to exactly those (no
//!   DNS rebinding between check and connect), follows no redirect, uses no proxy, caps connect time,
//!   total time and body size, runs at most one fetch per URL at a time, remembers failures for a while
//!   (so garbage requests naming a broken URL cannot trigger fetches), and caps concurrent fetches.
//! * [`read_capped`]: a response body read up to a limit, for every crate that reads from the network.
//! * [`trust`]: the CA certificates every tollgate HTTP client trusts beyond the platform's (`SSL_CERT_FILE`,
//!   the CLI's `--ca-cert`), in one place.

mod address;
mod fetcher;
pub mod trust;

pub use address::ip_allowed;
pub use fetcher::{FetchError, Fetcher, Limits, read_capped};

use url::{Host, Url};

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("must be an absolute URL")]
    NotAUrl,
    #[error("must be an https URL")]
    Scheme,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must name a host")]
    NoHost,
    #[error("must not name a local host")]
    LocalName,
    #[error("must not point at a loopback, private, link-local or reserved address ({0})")]
    Address(std::net::IpAddr),
    #[error("the host resolves to no public address")]
    NoPublicAddress,
}

/// What outbound fetches may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Development and tests only: http, loopback and private addresses allowed.
    pub allow_private: bool,
}

impl Policy {
    /// The production policy.
    pub const STRICT: Policy = Policy { allow_private: false };
    /// Anything http(s) goes (development and tests).
    pub const PERMISSIVE: Policy = Policy { allow_private: true };

    /// Checks a URL without any I/O; the parsed URL on success.
    pub fn check_url(&self, text: &str) -> Result<Url, PolicyError> {
        let url = Url::parse(text).map_err(|_| PolicyError::NotAUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => return Err(PolicyError::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PolicyError::Credentials);
        }
        match url.host() {
            None => return Err(PolicyError::NoHost),
            Some(_) if self.allow_private => {}
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name.is_empty() || name == "localhost" || name.ends_with(".localhost") {
                    return Err(PolicyError::LocalName);
                }
            }
            Some(Host::Ipv4(ip)) => check_ip(ip.into())?,
            Some(Host::Ipv6(ip)) => check_ip(ip.into())?,
        }
        Ok(url)
    }

    /// Whether a resolved address may be connected to.
    pub fn allows_ip(&self, ip: std::net::IpAddr) -> bool {
        self.allow_private || ip_allowed(ip)
    }
}

/// [`Policy::check_url`] under the production policy.
pub fn check_url(text: &str) -> Result<Url, PolicyError> {
    Policy::STRICT.check_url(text)
}

fn check_ip(ip: std::net::IpAddr) -> Result<(), PolicyError> {
    if ip_allowed(ip) { Ok(()) } else { Err(PolicyError::Address(ip)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_of_a_local_address_is_refused() {
        for bad in [
            "https://127.0.0.1/jwks",
            "https://127.0.0.1:8443/jwks",
            "https://0.0.0.0/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://0x7f.1/",
            "https://017700000001/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://224.0.0.1/",
            "https://239.255.255.250/",
            "https://255.255.255.255/",
            "https://240.0.0.1/",
            "https://192.0.2.1/",
            "https://198.51.100.7/",
            "https://203.0.113.9/",
            "https://198.18.0.1/",
            "https://192.0.0.8/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[fe80::1]/",
            "https://[febf::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[2002:7f00:1::]/",
            "https://[2001::1]/",
            "https://[100::1]/",
        ] {
            assert!(check_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn the_url_crate_normalises_the_odd_ipv4_forms_to_loopback() {
        for odd in ["https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/"] {
            assert_eq!(
                check_url(odd),
                Err(PolicyError::Address(std::net::Ipv4Addr::LOCALHOST.into())),
                "{odd} is 127.0.0.1"
            );
        }
    }

    #[test]
    fn public_https_urls_pass() {
        for good in [
            "https://example.com/.well-known/jwks.json",
            "https://93.184.216.34/jwks",
            "https://8.8.8.8:8443/keys",
            "https://[2606:4700:4700::1111]/keys",
            "https://[::ffff:8.8.8.8]/keys",
            "https://[64:ff9b::808:808]/keys",
            "https://100.128.0.1/",
            "https://172.32.0.1/",
            "https://localhost.example.com/",
        ] {
            assert!(check_url(good).is_ok(), "{good} must pass: {:?}", check_url(good));
        }
    }

    #[test]
    fn scheme_and_credentials() {
        assert_eq!(check_url("http://example.com/jwks"), Err(PolicyError::Scheme));
        assert_eq!(check_url("ftp://example.com/jwks"), Err(PolicyError::Scheme));
        assert_eq!(check_url("file:///etc/passwd"), Err(PolicyError::Scheme));
        assert_eq!(check_url("/jwks"), Err(PolicyError::NotAUrl));
        assert_eq!(check_url("https://user:pw@example.com/"), Err(PolicyError::Credentials));
    }

    #[test]
    fn the_opt_out_allows_http_and_local_addresses() {
        assert!(Policy::PERMISSIVE.check_url("http://127.0.0.1:9/jwks.json").is_ok());
        assert!(Policy::PERMISSIVE.check_url("http://localhost/jwks.json").is_ok());
        assert_eq!(Policy::PERMISSIVE.check_url("ftp://127.0.0.1/"), Err(PolicyError::Scheme));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn check_url_never_panics(s in "\\PC{0,80}") {
            let _ = check_url(&s);
            let _ = check_url(&format!("https://{s}"));
        }
    }
}
