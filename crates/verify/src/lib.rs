//! `tollgate-verify`: access-token verification for resource servers.
//!
//! [`Verifier`] finds the issuer's keys through its metadata ([`metadata`]), keeps them in a
//! [`keys::KeyCache`] that refetches on an unknown `kid` (at most once per interval, so a flood of forged
//! kids cannot turn into a flood of JWKS requests), and checks signature, `iss`, `aud`, `exp`/`nbf` and
//! scopes. [`VerifyLayer`] puts that in front of any tower service and answers refusals with RFC 6750
//! `WWW-Authenticate` challenges. DPoP-bound tokens (RFC 9449, `cnf.jkt`) are accepted with the `DPoP`
//! scheme and a proof ([`Verifier::verify_dpop`]), and refused as bearer tokens. Works with tollgate and
//! with Okta custom authorization servers.

pub mod config;
pub mod error;
pub mod keys;
pub mod layer;
pub mod metadata;
pub mod replay;
pub mod scopes;
pub mod verifier;

pub use config::VerifierConfig;
pub use error::VerifyError;
pub use layer::{VerifyLayer, VerifyService};
pub use verifier::DpopRequest;
pub use verifier::{VerifiedToken, Verifier};
