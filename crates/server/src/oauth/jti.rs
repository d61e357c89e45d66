//! The single use of a client assertion's `jti`, as a value the token path has to spend.
//!
//! Client authentication ends with a [`PendingJti`] (`#[must_use]`, even for a secret or an assertion
//! without `jti`, where it is empty). An access token can only be minted with a [`ConsumedJti`], and the
//! only way to one is to consume the pending `jti` by value: alone ([`PendingJti::consume`]), or together
//! with a DPoP proof's `jti` in one store statement ([`PendingJti::consume_with`]). Okta burns the `jti`
//! even when the request then fails, so the token path consumes it right after authentication.
use crate::errors::OAuthError;
use crate::state::AppState;
use tollgate_jose::assertion::Refusal;

/// An assertion `jti` whose single use is yet to be recorded.
#[must_use = "an assertion's jti must be consumed (Okta burns it even when the request then fails)"]
#[derive(Debug)]
pub struct PendingJti(Obligation);

#[derive(Debug)]
enum Obligation {
    /// A client secret, or an assertion without `jti`.
    Nothing,
    /// An assertion `jti` to record once.
    Record(Entry),
    /// A federated assertion: an external token its platform reuses, so its `jti` is not recorded.
    NotSingleUse,
}

#[derive(Debug)]
struct Entry {
    client_id: String,
    jti: String,
    /// Unix milliseconds, as `used_jti` keeps it.
    keep_until: i64,
}

/// Proof that the request's assertion `jti` (if any) has been recorded as used.
#[must_use]
#[derive(Debug)]
pub struct ConsumedJti(());

/// Another `jti` to record in the same statement: `(scope, jti, keep_until)` as `used_jti` keeps it.
pub type JtiEntry<'a> = (&'a str, &'a str, i64);

impl PendingJti {
    /// Nothing to record: a client secret, or an assertion without `jti`.
    pub(super) fn nothing() -> Self {
        PendingJti(Obligation::Nothing)
    }

    /// A federated assertion: the external token's `jti` is not single use (see the module doc); the
    /// access token's lifetime is capped by the external token's `exp` instead.
    pub(super) fn not_single_use() -> Self {
        PendingJti(Obligation::NotSingleUse)
    }

    /// `jti` of `client_id`'s assertion, to remember until `keep_until` (Unix milliseconds).
    pub(super) fn new(client_id: String, jti: String, keep_until: i64) -> Self {
        PendingJti(Obligation::Record(Entry { client_id, jti, keep_until }))
    }

    /// Records the `jti` (one atomic insert); a replay is refused with Okta's text.
    pub async fn consume(self, state: &AppState) -> Result<ConsumedJti, OAuthError> {
        if let Obligation::Record(e) = self.0
            && !state.store.use_jti(&e.client_id, &e.jti, e.keep_until).await?
        {
            return Err(Refusal::Replayed.into());
        }
        Ok(ConsumedJti(()))
    }

    /// Records the `jti` and `other` in one store round trip. A replayed assertion is refused here; whether
    /// `other` was fresh is returned for the caller to refuse in its own words.
    pub async fn consume_with(self, state: &AppState, other: JtiEntry<'_>) -> Result<(ConsumedJti, bool), OAuthError> {
        let (assertion_fresh, other_fresh) = match self.0 {
            Obligation::Record(e) => state.store.use_jti_pair((&e.client_id, &e.jti, e.keep_until), other).await?,
            Obligation::Nothing | Obligation::NotSingleUse => {
                (true, state.store.use_jti(other.0, other.1, other.2).await?)
            }
        };
        if !assertion_fresh {
            return Err(Refusal::Replayed.into());
        }
        Ok((ConsumedJti(()), other_fresh))
    }
}
