//! Workload identity federation: whether an external token (a GitHub Actions OIDC token, a Kubernetes
//! service-account token, a SPIFFE JWT-SVID, ...) matches a federated credential's conditions.
//!
//! It lives here for the reason [`crate::assertion`] does: the server decides with it and `tollgate
//! explain` predicts the decision with it, so the two cannot disagree. Pure functions over claims; the
//! issuer, keys, signature and `exp` are checked by the caller before any of this.
use serde_json::{Map, Value};

/// What one credential asks of a token, beyond its issuer.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// `sub`: exact, or a pattern with `*` wildcards.
    pub subject: &'a str,
    /// Accepted `aud` values (already defaulted by the caller: never empty).
    pub audiences: &'a [String],
    /// Claim (a `/`-separated path into nested objects) → pattern.
    pub claims: &'a Map<String, Value>,
    /// Seconds: the oldest `iat` accepted (without `iat`: the furthest `exp` accepted).
    pub max_token_age: i64,
}

/// One condition of a [`Rule`] that a token does not meet. `Display` says which claim and what it holds
/// (never the expected pattern: that is the credential's, not the caller's, to know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// `sub` is absent or does not match.
    Subject { got: Option<String> },
    /// No `aud` value is accepted.
    Audience { got: Vec<String> },
    /// A claim condition is not met (the claim is absent, not a scalar, or does not match).
    Claim { name: String, got: Option<String> },
    /// Issued longer ago than `max_token_age` (`age` in seconds); without `iat`, `exp` is further
    /// ahead than `max_token_age`.
    TooOld { age: i64, max: i64, by_iat: bool },
}

impl Mismatch {
    /// The claim the mismatch is about.
    pub fn claim(&self) -> &str {
        match self {
            Mismatch::Subject { .. } => "sub",
            Mismatch::Audience { .. } => "aud",
            Mismatch::Claim { name, .. } => name,
            Mismatch::TooOld { by_iat: true, .. } => "iat",
            Mismatch::TooOld { by_iat: false, .. } => "exp",
        }
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map_or("absent".to_string(), |v| format!("\"{v}\""));
        match self {
            Mismatch::Subject { got } => write!(f, "claim 'sub' ({}) does not match", shown(got)),
            Mismatch::Audience { got } => write!(f, "claim 'aud' ({}) names no accepted audience", got.join(", ")),
            Mismatch::Claim { name, got } => write!(f, "claim '{name}' ({}) does not match", shown(got)),
            Mismatch::TooOld { age, max, by_iat: true } => {
                write!(f, "claim 'iat' is {age} s old, more than max_token_age {max} s")
            }
            Mismatch::TooOld { age, max, by_iat: false } => {
                write!(f, "no 'iat', and claim 'exp' is {age} s ahead, more than max_token_age {max} s")
            }
        }
    }
}

/// Whether `value` matches `pattern`, where `*` stands for any run of characters (also none, also `/`
/// and `:`) and every other character for itself. Linear in practice: greedy with one backtrack point.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && p[pi] == v[vi] {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The claim at `path`: the top-level claim of that exact name if there is one (`kubernetes.io`), else
/// the `/`-separated path into nested objects (`kubernetes.io/namespace`).
pub fn claim_at<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let mut parts = path.split('/');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// A scalar claim as text (strings as they are, numbers and booleans as JSON writes them).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// How close a token came to `rule`, given what it `failed`: (conditions met, conditions failed), to
/// compare as "more met, then fewer failed". A credential with many conditions mostly met is closer than a
/// broad one that fails only its subject: it is the one the caller most likely meant.
pub fn closeness(rule: &Rule<'_>, failed: &[Mismatch]) -> (usize, std::cmp::Reverse<usize>) {
    // sub, aud and the age, plus each claim condition.
    let total = 3 + rule.claims.len();
    (total.saturating_sub(failed.len()), std::cmp::Reverse(failed.len()))
}

/// Every condition of `rule` the token's `claims` do not meet at `now`, in the order sub, aud, the claim
/// conditions (by name), age. Empty: the token matches.
pub fn mismatches(rule: &Rule<'_>, claims: &Map<String, Value>, now: i64) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let sub = claims.get("sub").and_then(Value::as_str);
    if !sub.is_some_and(|s| pattern_matches(rule.subject, s)) {
        out.push(Mismatch::Subject { got: sub.map(str::to_string) });
    }
    let auds: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    if !auds.iter().any(|a| rule.audiences.contains(a)) {
        out.push(Mismatch::Audience { got: auds });
    }
    let mut conditions: Vec<(&String, &Value)> = rule.claims.iter().collect();
    conditions.sort_by(|a, b| a.0.cmp(b.0));
    for (name, pattern) in conditions {
        let pattern = pattern.as_str().unwrap_or("");
        let value = claim_at(claims, name);
        let ok = match value {
            Some(Value::Array(items)) => items.iter().filter_map(scalar).any(|item| pattern_matches(pattern, &item)),
            Some(v) => scalar(v).is_some_and(|text| pattern_matches(pattern, &text)),
            None => false,
        };
        if !ok {
            out.push(Mismatch::Claim { name: name.clone(), got: value.and_then(scalar) });
        }
    }
    match (claims.get("iat").and_then(Value::as_i64), claims.get("exp").and_then(Value::as_i64)) {
        (Some(iat), _) if now - iat > rule.max_token_age => {
            out.push(Mismatch::TooOld { age: now - iat, max: rule.max_token_age, by_iat: true })
        }
        (None, Some(exp)) if exp - now > rule.max_token_age => {
            out.push(Mismatch::TooOld { age: exp - now, max: rule.max_token_age, by_iat: false })
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_any_run_and_nothing_else_is_special() {
        assert!(pattern_matches("repo:acme/api:ref:refs/heads/main", "repo:acme/api:ref:refs/heads/main"));
        assert!(!pattern_matches("repo:acme/api:ref:refs/heads/main", "repo:acme/api:ref:refs/heads/mainx"));
        assert!(pattern_matches("repo:acme/*", "repo:acme/api:ref:refs/heads/main"));
        assert!(pattern_matches("repo:acme/*:ref:refs/heads/main", "repo:acme/x:y:ref:refs/heads/main"));
        assert!(!pattern_matches("repo:acme/*:ref:refs/heads/main", "repo:acme/x:ref:refs/heads/dev"));
        assert!(pattern_matches("*", ""));
        assert!(pattern_matches("a*b*c", "abc"));
        assert!(pattern_matches("a*b*c", "aXbYbZc"));
        assert!(!pattern_matches("a*b*c", "aXbYbZ"));
        assert!(!pattern_matches("repo:acme/*", "repo:acmex/api"), "the literal part is literal");
        assert!(!pattern_matches("spiffe://example.org/ns/?", "spiffe://example.org/ns/a"), "? is literal");
        assert!(!pattern_matches("", "x"));
    }

    #[test]
    fn nested_claims_by_path_and_literal_names_first() {
        let claims = json!({ "kubernetes.io": { "namespace": "prod", "serviceaccount": { "name": "api" } } });
        let claims = claims.as_object().unwrap();
        assert_eq!(claim_at(claims, "kubernetes.io/namespace"), Some(&json!("prod")));
        assert_eq!(claim_at(claims, "kubernetes.io/serviceaccount/name"), Some(&json!("api")));
        assert_eq!(claim_at(claims, "kubernetes.io/nothing"), None);
    }

    #[test]
    fn every_mismatch_is_named() {
        let conditions = json!({ "ref": "refs/heads/main", "run_attempt": "1", "groups": "admins" });
        let audiences = vec!["https://tollgate.example".to_string()];
        let rule = Rule {
            subject: "repo:acme/*",
            audiences: &audiences,
            claims: conditions.as_object().unwrap(),
            max_token_age: 300,
        };
        let good = json!({ "sub": "repo:acme/api", "aud": ["x", "https://tollgate.example"], "ref": "refs/heads/main",
            "run_attempt": 1, "groups": ["devs", "admins"], "iat": 1000, "exp": 1300 });
        assert_eq!(mismatches(&rule, good.as_object().unwrap(), 1200), vec![]);
        let bad = json!({ "sub": "repo:other/api", "aud": "x", "ref": "refs/heads/dev", "iat": 1000, "exp": 9000 });
        let found = mismatches(&rule, bad.as_object().unwrap(), 1301);
        let names: Vec<&str> = found.iter().map(Mismatch::claim).collect();
        assert_eq!(names, ["sub", "aud", "groups", "ref", "run_attempt", "iat"]);
        assert_eq!(found[3].to_string(), "claim 'ref' (\"refs/heads/dev\") does not match");
        assert!(!found.iter().any(|m| m.to_string().contains("refs/heads/main")), "the expected value stays secret");
        // Without iat, exp bounds how long the token can still be used.
        let no_iat = json!({ "sub": "repo:acme/api", "aud": "https://tollgate.example", "ref": "refs/heads/main",
            "run_attempt": "1", "groups": "admins", "exp": 2000 });
        let found = mismatches(&rule, no_iat.as_object().unwrap(), 1000);
        assert_eq!(found, vec![Mismatch::TooOld { age: 1000, max: 300, by_iat: false }]);
    }
}
