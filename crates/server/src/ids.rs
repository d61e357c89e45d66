//! Random identifiers and secrets. Okta-style prefixes (`0oa` apps, `oag` grants, `pks` keys, `00u` users,
//! `aus` servers, `scp` scopes) make ids recognisable in logs and support tickets.
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // SystemRandom only fails if the OS has no entropy source; then nothing secure can be done at all.
    if SystemRandom::new().fill(&mut buf).is_err() {
        tracing::error!("system random source failed");
        std::process::abort();
    }
    buf
}

/// `len` random alphanumeric characters (rejection sampling, no modulo bias).
pub fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // 248 = 4 * 62: accept only bytes below it so every character is equally likely.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// A new id with an Okta-like prefix: 20 characters in all.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", random_token(20usize.saturating_sub(prefix.len())))
}

/// 32 random bytes, base64url: access token `jti`s and secrets.
pub fn random_b64url_32() -> String {
    tollgate_jose::b64url_encode(&random_bytes::<32>())
}
