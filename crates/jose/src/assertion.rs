//! Client assertions (RFC 7523 `private_key_jwt`, and external tokens of federated credentials): the ways a token endpoint refuses one, with Okta's
//! exact `error` codes and `error_description` texts.
//!
//! It lives here, next to [`crate::dpop`], for the same reason [`crate::dpop::DpopError`] does: two parties
//! must say the same words. The server answers with these texts and `tollgate explain` predicts them, and
//! the client side (CLI, `tollgate-client`) must not depend on the server crate to know them. This crate is
//! the one both already use; it still knows nothing of HTTP (the status is a plain number).
use crate::ClaimsError;

/// The `client_assertion_type` of RFC 7523 (`private_key_jwt`, and federated external tokens).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `client_assertion_type` of the SPIFFE client-authentication draft: a JWT-SVID as the assertion.
pub const JWT_SPIFFE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/// Longest an assertion may live: Okta refuses `exp` more than an hour ahead.
pub const MAX_LIFETIME_SECONDS: u64 = 3600;

/// Why a client assertion was refused. `Display` is Okta's `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// `client_assertion_type` is not [`JWT_BEARER`] (400 `invalid_request`).
    WrongType,
    /// Not a compact JWS, or its header or claims are not acceptable JSON.
    Unparsable,
    /// `alg` is not one a client may sign with (HS*, none, EdDSA), or does not fit the key.
    BadAlgorithm,
    /// `iss` names no client.
    BadIssuer,
    /// `sub` is not `iss`.
    BadSubject,
    /// The form's `client_id` is not the assertion's, or the client is not active.
    BadClientId,
    NoJwks,
    RemoteJwksEmpty,
    RemoteJwksDuplicateKid,
    JwksInvalid,
    /// No key of the client has the header's `kid`, or there is no `kid` and the key is ambiguous.
    BadKid,
    /// The only candidate keys are encryption keys (`use: enc`).
    EncryptionKey,
    BadSignature,
    /// `aud` is not the invoked endpoint (nor, where allowed, the issuer).
    WrongAudience,
    /// At the Access Gateway: `aud` is not the base URL alone.
    WrongGatewayAudience,
    MissingExp,
    Expired,
    ExpiresTooLate,
    IssuedInFuture,
    NotYetValid,
    /// At the Access Gateway: no `scope` claim.
    MissingScopeClaim,
    /// At the Access Gateway: a `scope` claim that is not a string.
    ScopeClaimNotString,
    /// At the Access Gateway: the `scope` claim and the form's `scope` name different sets (400
    /// `invalid_request`).
    ScopeClaimMismatch,
    /// Its `jti` was seen before.
    Replayed,
    /// A federated assertion (an external token) without the form's `client_id` (400 `invalid_request`).
    FederatedClientIdRequired,
    /// A federated assertion whose issuer no ACTIVE federated credential of the client trusts.
    FederatedUntrustedIssuer,
    /// The keys of a federated assertion's issuer could not be had (discovery or JWKS failed).
    FederatedKeysUnavailable,
    /// A verified federated assertion that meets no credential's conditions (the server adds which
    /// credential came closest and which claim failed).
    FederatedNoMatch,
}

impl Refusal {
    /// The OAuth `error` code.
    pub fn error(self) -> &'static str {
        match self {
            Refusal::WrongType | Refusal::ScopeClaimMismatch | Refusal::FederatedClientIdRequired => "invalid_request",
            _ => "invalid_client",
        }
    }

    /// HTTP status at `/oauth2/...` (the Access Gateway answers 400 to everything).
    pub fn status(self) -> u16 {
        match self.error() {
            "invalid_client" => 401,
            _ => 400,
        }
    }

    /// Okta's `error_description`, as a static string (no allocation on the server's refusal path).
    pub fn description(self) -> &'static str {
        match self {
            Refusal::WrongType => "The client_assertion_type is invalid.",
            Refusal::Unparsable => "The parsing of the client_assertion failed.",
            Refusal::BadAlgorithm => "The client_assertion JWT signature algorithm is invalid.",
            Refusal::BadIssuer => "The issuer claim for client_assertion is not a valid client_id.",
            Refusal::BadSubject => "The subject claim for client_assertion is not a valid client_id.",
            Refusal::BadClientId => "Invalid value for 'client_id' parameter.",
            Refusal::NoJwks => "The client does not have a JWKSet configured, but the client_assertion requires one.",
            Refusal::RemoteJwksEmpty => "The client JWKSet from jwks_uri must contain at least one key.",
            Refusal::RemoteJwksDuplicateKid => "All keys in the client JWKSet from jwks_uri must have a unique kid.",
            Refusal::JwksInvalid => "The client JWKSet is invalid.",
            Refusal::BadKid => "The client_assertion JWT kid is invalid.",
            Refusal::EncryptionKey => "The client_assertion JWT needs to be signed using a signing key.",
            Refusal::BadSignature => "The client_assertion signature is invalid.",
            Refusal::WrongAudience => {
                "The audience claim for client_assertion must be the endpoint invoked for the request."
            }
            Refusal::WrongGatewayAudience => {
                "The audience claim for client_assertion must be the Access Gateway's base URL."
            }
            Refusal::MissingExp => "The client_assertion must contain the 'exp' claim as seconds since epoch.",
            Refusal::Expired => "The client_assertion token is expired.",
            Refusal::ExpiresTooLate => "The client_assertion token has an expiration too far into the future.",
            Refusal::IssuedInFuture => "The client_assertion token must be issued before the current time.",
            Refusal::NotYetValid => "The client_assertion token is not valid yet (nbf is in the future).",
            Refusal::MissingScopeClaim => "The client_assertion must contain the 'scope' claim.",
            Refusal::ScopeClaimNotString => {
                "The 'scope' claim of the client_assertion must be a space-separated string."
            }
            Refusal::ScopeClaimMismatch => {
                "The 'scope' claim of the client_assertion does not match the 'scope' parameter."
            }
            Refusal::Replayed => "The client_assertion token has already been used.",
            Refusal::FederatedClientIdRequired => {
                "A federated client_assertion requires the 'client_id' parameter naming the app."
            }
            Refusal::FederatedUntrustedIssuer => {
                "The issuer of the client_assertion is not trusted by any active federated credential of the client."
            }
            Refusal::FederatedKeysUnavailable => "The keys of the client_assertion issuer could not be retrieved.",
            Refusal::FederatedNoMatch => "The client_assertion does not match any federated credential of the client.",
        }
    }

    /// The refusal for a failed claims validation.
    pub fn from_claims(err: &ClaimsError) -> Refusal {
        match err {
            ClaimsError::Missing("exp") | ClaimsError::WrongType("exp") => Refusal::MissingExp,
            ClaimsError::Expired { .. } => Refusal::Expired,
            ClaimsError::ExpiresTooLate { .. } => Refusal::ExpiresTooLate,
            ClaimsError::IssuedInFuture { .. } => Refusal::IssuedInFuture,
            ClaimsError::NotYetValid { .. } => Refusal::NotYetValid,
            ClaimsError::WrongAudience { .. } => Refusal::WrongAudience,
            _ => Refusal::Unparsable,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for Refusal {}

/// The space-separated values of a scope string, as a set (order, repeats and extra spaces ignored).
pub fn scope_set(text: &str) -> std::collections::BTreeSet<&str> {
    text.split(' ').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Refusal; 28] = [
        Refusal::WrongType,
        Refusal::Unparsable,
        Refusal::BadAlgorithm,
        Refusal::BadIssuer,
        Refusal::BadSubject,
        Refusal::BadClientId,
        Refusal::NoJwks,
        Refusal::RemoteJwksEmpty,
        Refusal::RemoteJwksDuplicateKid,
        Refusal::JwksInvalid,
        Refusal::BadKid,
        Refusal::EncryptionKey,
        Refusal::BadSignature,
        Refusal::WrongAudience,
        Refusal::WrongGatewayAudience,
        Refusal::MissingExp,
        Refusal::Expired,
        Refusal::ExpiresTooLate,
        Refusal::IssuedInFuture,
        Refusal::NotYetValid,
        Refusal::MissingScopeClaim,
        Refusal::ScopeClaimNotString,
        Refusal::ScopeClaimMismatch,
        Refusal::Replayed,
        Refusal::FederatedClientIdRequired,
        Refusal::FederatedUntrustedIssuer,
        Refusal::FederatedKeysUnavailable,
        Refusal::FederatedNoMatch,
    ];

    #[test]
    fn each_refusal_has_its_own_text_and_a_status_that_fits_its_code() {
        let texts: std::collections::BTreeSet<&str> = ALL.iter().map(|r| r.description()).collect();
        assert_eq!(texts.len(), ALL.len(), "two refusals share a text");
        for r in ALL {
            assert!(r.description().ends_with('.'), "{r:?}");
            assert_eq!(r.status() == 401, r.error() == "invalid_client", "{r:?}");
        }
        assert_eq!(Refusal::WrongType.error(), "invalid_request");
        assert_eq!(Refusal::from_claims(&ClaimsError::Missing("exp")), Refusal::MissingExp);
    }
}
