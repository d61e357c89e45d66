//! Recovers the RSA CRT parameters (p, q, dp, dq, qi) from n, e, d, for private JWKs that omit them
//! (RFC 7518 §6.3.2 makes them optional). The method is the standard one (NIST SP 800-56B rev. 2,
//! Appendix C.2): k = d·e − 1 is a multiple of λ(n), so a non-trivial square root of 1 mod n is found
//! quickly and gcd(root − 1, n) is a prime factor. aws-lc-rs then checks every component again.
//!
//! This is slow-path, run-once import code and is not constant time; keys with CRT members (what every
//! tool writes, and what we export) never come here.
use num_bigint::BigUint;
use zeroize::Zeroizing;

use crate::JoseError;

fn fail() -> JoseError {
    JoseError::InvalidKey("RSA private JWK: n, e and d are inconsistent (cannot recover p and q)".into())
}

fn gcd(mut a: BigUint, mut b: BigUint) -> BigUint {
    let zero = BigUint::ZERO;
    while b != zero {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

/// Returns `[p, q, dp, dq, qi]`, big-endian.
pub(super) fn recover(n: &[u8], e: &[u8], d: &[u8]) -> Result<[Zeroizing<Vec<u8>>; 5], JoseError> {
    let one = BigUint::from(1u8);
    let n = BigUint::from_bytes_be(n);
    let e = BigUint::from_bytes_be(e);
    let d = BigUint::from_bytes_be(d);
    if n <= one || d <= one || e <= one || d >= n {
        return Err(fail());
    }
    let n_minus_1 = &n - &one;
    let k = &d * &e - &one;
    let t = k.trailing_zeros().ok_or_else(fail)?;
    if t == 0 {
        return Err(fail());
    }
    let r = &k >> t;
    for g in [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97] {
        let mut y = BigUint::from(g).modpow(&r, &n);
        if y == one || y == n_minus_1 {
            continue;
        }
        for _ in 0..t {
            let x = (&y * &y) % &n;
            if x == one {
                let p = gcd(&y - &one, n.clone());
                if p <= one || p >= n {
                    return Err(fail());
                }
                let q = &n / &p;
                if &p * &q != n {
                    return Err(fail());
                }
                let dp = &d % (&p - &one);
                let dq = &d % (&q - &one);
                let qi = q.modinv(&p).ok_or_else(fail)?;
                let out = |v: &BigUint| Zeroizing::new(v.to_bytes_be());
                return Ok([out(&p), out(&q), out(&dp), out(&dq), out(&qi)]);
            }
            if x == n_minus_1 {
                break;
            }
            y = x;
        }
    }
    Err(fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_toy_key() {
        // p = 61, q = 53, n = 3233, e = 17, d = 2753 (the textbook example).
        let [p, q, dp, dq, qi] = recover(&3233u16.to_be_bytes(), &[17], &2753u16.to_be_bytes()).unwrap();
        let mut pq = [BigUint::from_bytes_be(&p), BigUint::from_bytes_be(&q)];
        pq.sort();
        assert_eq!(pq, [BigUint::from(53u8), BigUint::from(61u8)]);
        let (p, q) = (BigUint::from_bytes_be(&p), BigUint::from_bytes_be(&q));
        assert_eq!(BigUint::from_bytes_be(&dp), BigUint::from(2753u16) % (&p - 1u8));
        assert_eq!(BigUint::from_bytes_be(&dq), BigUint::from(2753u16) % (&q - 1u8));
        assert_eq!((BigUint::from_bytes_be(&qi) * &q) % &p, BigUint::from(1u8));
    }

    #[test]
    fn inconsistent_values_fail_cleanly() {
        assert!(recover(&3233u16.to_be_bytes(), &[17], &2752u16.to_be_bytes()).is_err());
        assert!(recover(&[0], &[17], &[5]).is_err());
        assert!(recover(&[1], &[1], &[1]).is_err());
    }
}
