//! `tollgate-client`: the client side of the OAuth 2.0 client-credentials flow, for tollgate or Okta.
//!
//! A request for a token travels one way through this crate:
//! [`TokenEndpoint`] (where to ask) → [`ClientAuth`] (how to prove who we are: a fresh signed
//! [`assertion`] per attempt, a client secret, or the platform's token with [`federated`]) → [`TokenSource`] (cache, single flight, retries
//! with [`retry`]'s delays; with a [`DpopKey`], DPoP-bound tokens and the nonce round trip) →
//! [`AuthorizedClient`] (attaches the token to API calls, with a DPoP proof when bound, and retries once on 401).
//! [`management`] registers service apps and grants scopes, the way `tollgate app create` needs it, and
//! manages an app's keys and secrets (rotation). [`agent`] shares tokens between the processes of one
//! user through a local daemon ([`AgentSource`] is its client); [`disk_cache`] keeps them between runs
//! of one-shot commands when no agent runs.
//!
//! The crate knows the server only through HTTP, so it works unchanged against a real Okta org.

/// Largest answer body read from a token endpoint, a discovery document or the management API: a
/// misbehaving server cannot make the client buffer without bound.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

#[cfg(unix)]
pub mod agent;
pub mod assertion;
pub mod auth;
pub mod authorized;
pub mod cache;
pub mod clock;
#[cfg(unix)]
pub mod disk_cache;
pub mod dpop;
pub mod endpoint;
pub mod error;
pub mod federated;
#[cfg(unix)]
pub mod local;
pub mod management;
pub mod response;
pub mod retry;
pub mod source;

#[cfg(unix)]
pub use agent::{AgentSource, AgentToken};
pub use assertion::{AssertionAudience, AssertionSigner};
pub use auth::{ClientAuth, Secret, basic_authorization};
pub use authorized::AuthorizedClient;
pub use clock::{Clock, SystemClock};
pub use dpop::{DpopKey, DpopRefusal};
pub use endpoint::TokenEndpoint;
pub use error::ClientError;
pub use federated::{ExternalToken, FederatedAuth};
pub use response::TokenResponse;
pub use retry::RetryPolicy;
pub use source::{TokenSource, TokenSourceBuilder};

/// The `User-Agent` sent on every request.
pub const USER_AGENT: &str = concat!("tollgate-client/", env!("CARGO_PKG_VERSION"));
