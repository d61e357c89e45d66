//! Why a token was refused. Each variant maps to an RFC 6750 error code and a description the caller may
//! see ([`VerifyError::error_code`], [`VerifyError::description`]); the descriptions follow Okta's wording
//! where Okta has one.

/// A refused token, or a failure to get the keys needed to judge it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token was sent")]
    MissingToken,
    /// Not a well-formed JWS.
    #[error("the token is not a valid JWT: {0}")]
    Malformed(String),
    /// The header's `alg` is not one this verifier accepts.
    #[error("the token's algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    /// No key of the issuer matches the token's `kid` (after a refresh).
    #[error("no key of the issuer matches kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify (or the key may not verify this `alg`).
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer {0:?} is not the expected one")]
    WrongIssuer(String),
    #[error("the token's audience {0:?} is not an expected one")]
    WrongAudience(Vec<String>),
    #[error("the token lacks the {0} claim")]
    MissingClaim(&'static str),
    #[error("the token's claims are invalid: {0}")]
    InvalidClaims(String),
    /// Valid token, but without the scopes the resource needs.
    #[error("the token lacks the required scopes: {}", .missing.join(" "))]
    InsufficientScope { missing: Vec<String> },
    /// The issuer's metadata or keys could not be fetched (our problem, not the token's).
    #[error("the issuer's keys are unavailable: {0}")]
    KeysUnavailable(String),
    /// The DPoP proof was refused (RFC 9449 §7.1); `Display` of the inner error is Okta's text.
    #[error("DPoP proof refused: {0}")]
    DpopProof(tollgate_jose::dpop::DpopError),
    /// `Authorization: DPoP` without a `DPoP` proof header.
    #[error("the DPoP scheme was used without a DPoP proof")]
    DpopProofRequired,
    /// A DPoP-bound token (`cnf.jkt`) presented with the `Bearer` scheme.
    #[error("a DPoP-bound token was sent as a bearer token")]
    DpopBoundAsBearer,
    /// The `DPoP` scheme with a token that is not bound.
    #[error("the token is not DPoP-bound")]
    NotDpopBound,
}

impl VerifyError {
    /// The RFC 6750 `error` code (`None` when no token was sent, as RFC 6750 §3.1 asks).
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            VerifyError::MissingToken => None,
            VerifyError::InsufficientScope { .. } => Some("insufficient_scope"),
            VerifyError::KeysUnavailable(_) => Some("temporarily_unavailable"),
            VerifyError::DpopProof(_) => Some("invalid_dpop_proof"),
            VerifyError::DpopProofRequired | VerifyError::DpopBoundAsBearer => Some("invalid_request"),
            _ => Some("invalid_token"),
        }
    }

    /// The HTTP status a resource server answers with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            VerifyError::InsufficientScope { .. } => http::StatusCode::FORBIDDEN,
            VerifyError::KeysUnavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            // RFC 6750 §3.1: invalid_request is a 400 (Okta answers these two with 400 too).
            VerifyError::DpopProofRequired | VerifyError::DpopBoundAsBearer => http::StatusCode::BAD_REQUEST,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }

    /// The `error_description`, safe to show to the caller.
    pub fn description(&self) -> String {
        match self {
            VerifyError::MissingToken => "No bearer token was sent.".into(),
            VerifyError::Malformed(_) => "The access token is not a valid JWT.".into(),
            VerifyError::AlgorithmNotAllowed(_) => "The access token's signature algorithm is not accepted.".into(),
            VerifyError::UnknownKey(_) => "The access token's kid does not match any key of the issuer.".into(),
            VerifyError::BadSignature => "The access token's signature is invalid.".into(),
            VerifyError::Expired => "The token has expired.".into(),
            VerifyError::NotYetValid => "The token is not valid yet.".into(),
            VerifyError::WrongIssuer(_) => "The access token provided has an invalid issuer.".into(),
            VerifyError::WrongAudience(_) => "The access token provided is not intended for this resource.".into(),
            VerifyError::MissingClaim(claim) => format!("The access token has no '{claim}' claim."),
            VerifyError::InvalidClaims(_) => "The access token's claims are invalid.".into(),
            VerifyError::InsufficientScope { .. } => {
                "The access token provided does not contain the required scopes.".into()
            }
            VerifyError::KeysUnavailable(_) => "The issuer's keys could not be fetched.".into(),
            VerifyError::DpopProof(error) => error.to_string(),
            VerifyError::DpopProofRequired => "The resource request requires a DPoP proof.".into(),
            VerifyError::DpopBoundAsBearer => {
                "The resource request must use the DPoP authentication scheme when using a DPoP bound token.".into()
            }
            VerifyError::NotDpopBound => "The presented access_token is not DPoP bound.".into(),
        }
    }

    /// Whether the refusal is about DPoP (its challenge then uses the `DPoP` scheme).
    pub fn is_dpop(&self) -> bool {
        matches!(
            self,
            VerifyError::DpopProof(_)
                | VerifyError::DpopProofRequired
                | VerifyError::DpopBoundAsBearer
                | VerifyError::NotDpopBound
        )
    }
}

impl From<tollgate_jose::ClaimsError> for VerifyError {
    fn from(error: tollgate_jose::ClaimsError) -> Self {
        use tollgate_jose::ClaimsError as C;
        match error {
            C::Missing(claim) => VerifyError::MissingClaim(claim),
            C::Expired { .. } => VerifyError::Expired,
            C::NotYetValid { .. } | C::IssuedInFuture { .. } => VerifyError::NotYetValid,
            C::WrongIssuer { found } => VerifyError::WrongIssuer(found),
            C::WrongAudience { found } => VerifyError::WrongAudience(found),
            other => VerifyError::InvalidClaims(other.to_string()),
        }
    }
}
