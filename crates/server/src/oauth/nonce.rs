//! DPoP server nonces (RFC 9449 §8), stateless so that every node agrees without a lookup:
//! `b64url(bucket ‖ HMAC-SHA-256(key, label ‖ bucket)[..16])`, where `bucket = now / period` and the key is
//! the installation's `dpop_nonce_key` setting (created once in the database, like the secret-hashing key).
//! A nonce is accepted during its own period and the three after it (Okta renews daily and keeps the old
//! nonce valid for three days), plus one period ahead to forgive clock skew between nodes.
use aws_lc_rs::hmac;

/// How many periods after its own a nonce stays valid.
const PREVIOUS_PERIODS: u64 = 3;
/// Domain separation for the nonce MAC.
const LABEL: &[u8] = b"tollgate-dpop-nonce";
const MAC_LEN: usize = 16;

/// Issues and checks the server's DPoP nonces.
#[derive(Clone)]
pub struct Nonces {
    key: hmac::Key,
    period: u64,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").field("period", &self.period).finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces keyed with `key` that change every `period_seconds` (at least one second).
    pub fn new(key: &[u8], period_seconds: u64) -> Self {
        Nonces { key: hmac::Key::new(hmac::HMAC_SHA256, key), period: period_seconds.max(1) }
    }

    fn bucket(&self, now: i64) -> u64 {
        u64::try_from(now).unwrap_or(0) / self.period
    }

    fn mac(&self, bucket: u64) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(LABEL);
        ctx.update(&bucket.to_be_bytes());
        ctx.sign()
    }

    /// The nonce of the current period.
    pub fn current(&self, now: i64) -> String {
        let bucket = self.bucket(now);
        let mut raw = Vec::with_capacity(8 + MAC_LEN);
        raw.extend_from_slice(&bucket.to_be_bytes());
        raw.extend_from_slice(&self.mac(bucket).as_ref()[..MAC_LEN]);
        tollgate_jose::b64url_encode(&raw)
    }

    /// Whether `nonce` was issued by this installation and has not expired.
    pub fn is_valid(&self, nonce: &str, now: i64) -> bool {
        let Ok(raw) = tollgate_jose::b64url_decode(nonce) else { return false };
        if raw.len() != 8 + MAC_LEN {
            return false;
        }
        let mut be = [0u8; 8];
        be.copy_from_slice(&raw[..8]);
        let bucket = u64::from_be_bytes(be);
        let current = self.bucket(now);
        if bucket > current.saturating_add(1) || bucket.saturating_add(PREVIOUS_PERIODS) < current {
            return false;
        }
        aws_lc_rs::constant_time::verify_slices_are_equal(&raw[8..], &self.mac(bucket).as_ref()[..MAC_LEN]).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_round_trip_and_expire() {
        let nonces = Nonces::new(b"key one", 100);
        let n = nonces.current(1_000);
        assert_eq!(n, nonces.current(1_099), "same period, same nonce");
        assert_ne!(n, nonces.current(1_100), "next period, new nonce");
        assert!(nonces.is_valid(&n, 1_000));
        assert!(nonces.is_valid(&n, 1_000 + 3 * 100), "three periods later still good");
        assert!(!nonces.is_valid(&n, 1_000 + 4 * 100), "four periods later expired");
        assert!(nonces.is_valid(&n, 900), "one period of skew between nodes");
        assert!(!nonces.is_valid(&n, 800));
    }

    #[test]
    fn foreign_and_malformed_nonces_are_refused() {
        let ours = Nonces::new(b"key one", 100);
        let theirs = Nonces::new(b"key two", 100);
        assert!(!ours.is_valid(&theirs.current(1_000), 1_000));
        assert!(!ours.is_valid("", 1_000));
        assert!(!ours.is_valid("not base64!", 1_000));
        let mut tampered = tollgate_jose::b64url_decode(&ours.current(1_000)).unwrap();
        tampered[7] ^= 1;
        assert!(!ours.is_valid(&tollgate_jose::b64url_encode(&tampered), 1_000));
    }
}
