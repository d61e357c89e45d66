//! Client assertions (RFC 7523, `private_key_jwt`) built the way Okta's SDKs build them, so that a
//! token request from tollgate looks like one from okta-sdk-python or okta-sdk-nodejs:
//! `alg` from the key, `kid` from the key, `iss` = `sub` = client id, `aud` = the token URL, `iat` = now,
//! `exp` = now + 5 min (never more than 50 min: Okta refuses more than one hour with no skew allowance),
//! and a uuid v4 `jti`, fresh for every request and every retry (Okta consumes a `jti` even on failure).
use std::sync::Arc;

use tollgate_jose::jws::{Header, sign_json};
use tollgate_jose::{Audience, Claims, PrivateKey};

use crate::{ClientError, TokenEndpoint};

/// The default assertion lifetime (the Node SDK's five minutes).
pub const DEFAULT_LIFETIME_SECS: u64 = 300;
/// The longest lifetime we sign (the Java/.NET/Python SDKs' 50 minutes, below Okta's one-hour limit).
pub const MAX_LIFETIME_SECS: u64 = 3000;
/// The `client_assertion_type` for JWT client authentication.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the assertion's `aud` names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AssertionAudience {
    /// The token endpoint URL: what Okta requires.
    #[default]
    TokenEndpoint,
    /// The authorization server's issuer (RFC 7523bis); tollgate accepts it, Okta does not.
    Issuer,
    /// Any other value, verbatim.
    Custom(String),
}

/// Which `kid` goes into the header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KidChoice {
    /// The key's own `kid` (the JWK's, or the RFC 7638 thumbprint for a PEM key).
    #[default]
    FromKey,
    /// This value.
    Explicit(String),
    /// No `kid` (only works when the client has a single key).
    Omit,
}

/// Signs client assertions for one client with one key.
#[derive(Debug, Clone)]
pub struct AssertionSigner {
    client_id: String,
    key: Arc<PrivateKey>,
    kid: KidChoice,
    audience: AssertionAudience,
    lifetime_secs: u64,
}

impl AssertionSigner {
    pub fn new(client_id: impl Into<String>, key: PrivateKey) -> Self {
        AssertionSigner {
            client_id: client_id.into(),
            key: Arc::new(key),
            kid: KidChoice::FromKey,
            audience: AssertionAudience::TokenEndpoint,
            lifetime_secs: DEFAULT_LIFETIME_SECS,
        }
    }

    pub fn with_audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    pub fn with_kid(mut self, kid: KidChoice) -> Self {
        self.kid = kid;
        self
    }

    /// Sets `exp - iat`; 1..=3000 seconds.
    pub fn with_lifetime(mut self, seconds: u64) -> Result<Self, ClientError> {
        if seconds == 0 || seconds > MAX_LIFETIME_SECS {
            return Err(ClientError::Config(format!(
                "the assertion lifetime must be between 1 and {MAX_LIFETIME_SECS} seconds (Okta refuses more than 3600), not {seconds}"
            )));
        }
        self.lifetime_secs = seconds;
        Ok(self)
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The protected header: `alg` from the key, `typ: JWT` (as PyJWT and njwt send), and the `kid`.
    pub fn header(&self) -> Header {
        let header = Header::new(self.key.algorithm()).with_typ("JWT");
        match &self.kid {
            KidChoice::FromKey => header.with_kid(self.key.kid()),
            KidChoice::Explicit(kid) => header.with_kid(kid.clone()),
            KidChoice::Omit => header,
        }
    }

    /// The claims for a request to `endpoint` at `now`, with a new random `jti`.
    pub fn claims(&self, endpoint: &TokenEndpoint, now: i64) -> Claims {
        self.claims_for(endpoint, now, &[])
    }

    /// The claims for a request for `scopes` to `endpoint` at `now`. At an Access Gateway endpoint the
    /// `aud` is its base URL (unless a custom one is set) and a `scope` claim names `scopes`, as OAG
    /// requires; elsewhere `scopes` play no part.
    pub fn claims_for(&self, endpoint: &TokenEndpoint, now: i64, scopes: &[String]) -> Claims {
        let aud = match &self.audience {
            AssertionAudience::Custom(value) => value.clone(),
            _ if endpoint.is_gateway() => endpoint.issuer().to_owned(),
            AssertionAudience::TokenEndpoint => endpoint.token_url().to_owned(),
            AssertionAudience::Issuer => endpoint.issuer().to_owned(),
        };
        let lifetime = i64::try_from(self.lifetime_secs).unwrap_or(DEFAULT_LIFETIME_SECS as i64);
        let mut extra = serde_json::Map::new();
        if endpoint.is_gateway() {
            extra.insert("scope".to_owned(), serde_json::Value::String(scopes.join(" ")));
        }
        Claims {
            iss: Some(self.client_id.clone()),
            sub: Some(self.client_id.clone()),
            aud: Some(Audience::One(aud)),
            iat: Some(now),
            exp: Some(now.saturating_add(lifetime)),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            extra,
            ..Claims::default()
        }
    }

    /// A signed, single-use assertion for a request to `endpoint` at `now`.
    pub fn sign(&self, endpoint: &TokenEndpoint, now: i64) -> Result<String, ClientError> {
        self.sign_for(endpoint, now, &[])
    }

    /// A signed, single-use assertion for a request for `scopes` to `endpoint` at `now` (see
    /// [`claims_for`](Self::claims_for)).
    pub fn sign_for(&self, endpoint: &TokenEndpoint, now: i64, scopes: &[String]) -> Result<String, ClientError> {
        Ok(sign_json(&self.key, &self.header(), &self.claims_for(endpoint, now, scopes))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_key() -> PrivateKey {
        PrivateKey::generate(tollgate_jose::KeySpec::Rsa { bits: 2048 }).unwrap()
    }

    #[test]
    fn claims_follow_okta_sdks() {
        let signer = AssertionSigner::new("0oa123", rsa_key());
        let ep = TokenEndpoint::for_org("https://example.okta.com/", None).unwrap();
        let claims = signer.claims(&ep, 1_700_000_000);
        assert_eq!(claims.iss.as_deref(), Some("0oa123"));
        assert_eq!(claims.sub.as_deref(), Some("0oa123"));
        assert_eq!(claims.aud, Some(Audience::One("https://example.okta.com/oauth2/v1/token".into())));
        assert_eq!(claims.iat, Some(1_700_000_000));
        assert_eq!(claims.exp, Some(1_700_000_300));
        let jti = claims.jti.clone().unwrap();
        assert_eq!(uuid::Uuid::parse_str(&jti).unwrap().get_version_num(), 4);
        assert_ne!(signer.claims(&ep, 1_700_000_000).jti, claims.jti, "jti must be fresh every time");
    }

    #[test]
    fn audience_can_be_the_issuer() {
        let signer = AssertionSigner::new("c", rsa_key()).with_audience(AssertionAudience::Issuer);
        let ep = TokenEndpoint::for_org("http://127.0.0.1:9", Some("default")).unwrap();
        assert_eq!(signer.claims(&ep, 0).aud, Some(Audience::One("http://127.0.0.1:9/oauth2/default".into())));
    }

    #[test]
    fn gateway_assertions_name_the_base_url_and_carry_the_scopes() {
        let signer = AssertionSigner::new("c", rsa_key());
        let ep = TokenEndpoint::for_gateway("https://oag.example.com").unwrap();
        let scopes = vec!["okta.oag.app.read".to_owned(), "okta.oag.idp.read".to_owned()];
        let claims = signer.claims_for(&ep, 0, &scopes);
        assert_eq!(claims.aud, Some(Audience::One("https://oag.example.com".into())));
        assert_eq!(claims.extra.get("scope"), Some(&serde_json::json!("okta.oag.app.read okta.oag.idp.read")));
        let org = TokenEndpoint::for_org("https://oag.example.com", None).unwrap();
        assert!(signer.claims_for(&org, 0, &scopes).extra.is_empty(), "no scope claim for Okta's endpoints");
    }

    #[test]
    fn lifetime_is_bounded() {
        assert!(AssertionSigner::new("c", rsa_key()).with_lifetime(3000).is_ok());
        assert!(AssertionSigner::new("c", rsa_key()).with_lifetime(3001).is_err());
        assert!(AssertionSigner::new("c", rsa_key()).with_lifetime(0).is_err());
    }

    #[test]
    fn header_takes_alg_and_kid_from_the_key() {
        let key = PrivateKey::generate(tollgate_jose::KeySpec::Ec(tollgate_jose::Curve::P384)).unwrap().with_kid("k1");
        let signer = AssertionSigner::new("c", key);
        let header = signer.header();
        assert_eq!(header.alg, tollgate_jose::Algorithm::Es384);
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(signer.clone().with_kid(KidChoice::Omit).header().kid, None);
    }

    #[test]
    fn signed_assertion_verifies_with_the_public_key() {
        let key = rsa_key();
        let public = key.public_key();
        let signer = AssertionSigner::new("c", key);
        let ep = TokenEndpoint::for_org("https://example.okta.com", None).unwrap();
        let jwt = signer.sign(&ep, 1_700_000_000).unwrap();
        let decoded = tollgate_jose::jws::decode(&jwt).unwrap();
        decoded.verify(&public).unwrap();
        let claims: Claims = decoded.claims().unwrap();
        assert_eq!(claims.aud, Some(Audience::One("https://example.okta.com/oauth2/v1/token".into())));
    }
}
