//! Scopes in an access token: Okta puts them in `scp` as a JSON array; RFC 9068 and others use a
//! space-separated `scope` string. Both are read, and `scp` as a string too.
use tollgate_jose::Claims;

/// The token's scopes, in order, without repeats.
pub fn token_scopes(claims: &Claims) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    let mut push = |scope: &str| {
        if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    };
    for name in ["scp", "scope"] {
        match claims.extra.get(name) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).for_each(&mut push),
            Some(serde_json::Value::String(text)) => text.split(' ').for_each(&mut push),
            _ => {}
        }
    }
    scopes
}

/// The required scopes the token does not carry.
pub fn missing_scopes(have: &[String], required: &[String]) -> Vec<String> {
    required.iter().filter(|r| !have.contains(r)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(extra: serde_json::Value) -> Claims {
        let mut claims = Claims::default();
        if let serde_json::Value::Object(map) = extra {
            claims.extra = map;
        }
        claims
    }

    #[test]
    fn reads_scp_arrays_and_scope_strings() {
        assert_eq!(token_scopes(&claims(serde_json::json!({"scp": ["a", "b"]}))), vec!["a", "b"]);
        assert_eq!(token_scopes(&claims(serde_json::json!({"scope": "a  b"}))), vec!["a", "b"]);
        assert_eq!(token_scopes(&claims(serde_json::json!({"scp": "a", "scope": "a c"}))), vec!["a", "c"]);
        assert!(token_scopes(&claims(serde_json::json!({"scp": 3}))).is_empty());
    }

    #[test]
    fn missing_is_required_minus_present() {
        let have = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(missing_scopes(&have, &["b".into(), "c".into()]), vec!["c"]);
    }
}
