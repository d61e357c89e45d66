//! The user list's query parameters: `q` (startsWith on firstName, lastName or email), and `search` /
//! `filter` expressions such as `status eq "ACTIVE" and profile.email sw "a"`. Only what tollgate can
//! answer exactly is accepted (`eq`, `sw`, `co` on `status`, `id` and `profile.*`, joined by `and`);
//! anything else is Okta's 400 E0000031 "Invalid search criteria." rather than a silently wrong answer.
use crate::errors::ApiError;
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use tollgate_store::User;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Sw,
    Co,
}

#[derive(Debug)]
struct Clause {
    attr: String,
    op: Op,
    value: String,
}

/// A parsed user list query.
#[derive(Debug, Default)]
pub(super) struct UserQuery {
    q: Option<String>,
    clauses: Vec<Clause>,
    /// A plain list leaves DEPROVISIONED users out; `search`/`filter` include them.
    include_deprovisioned: bool,
}

fn invalid() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "E0000031", "Invalid search criteria.")
}

/// Splits an expression into words, keeping quoted strings (with `\"` escapes) as one token.
fn tokens(expr: &str) -> Result<Vec<(String, bool)>, ApiError> {
    let mut out = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\\') => s.push(chars.next().ok_or_else(invalid)?),
                    Some('"') => break,
                    Some(ch) => s.push(ch),
                    None => return Err(invalid()),
                }
            }
            out.push((s, true));
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '"' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push((s, false));
        }
    }
    Ok(out)
}

fn parse(expr: &str) -> Result<Vec<Clause>, ApiError> {
    let toks = tokens(expr)?;
    let mut clauses = Vec::new();
    let mut i = 0;
    loop {
        let (attr, quoted) = toks.get(i).ok_or_else(invalid)?;
        let (op, _) = toks.get(i + 1).ok_or_else(invalid)?;
        let (value, value_quoted) = toks.get(i + 2).ok_or_else(invalid)?;
        let attr_ok = attr == "status" || attr == "id" || attr.strip_prefix("profile.").is_some_and(|f| !f.is_empty());
        if *quoted || !*value_quoted || !attr_ok {
            return Err(invalid());
        }
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "sw" => Op::Sw,
            "co" => Op::Co,
            _ => return Err(invalid()),
        };
        clauses.push(Clause { attr: attr.clone(), op, value: value.clone() });
        i += 3;
        match toks.get(i) {
            None => break,
            Some((and, false)) if and.eq_ignore_ascii_case("and") => i += 1,
            Some(_) => return Err(invalid()),
        }
    }
    Ok(clauses)
}

impl UserQuery {
    /// Reads `q`, `search` and `filter` from the query string.
    pub(super) fn from_params(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        let mut query =
            UserQuery { q: params.get("q").map(|q| q.to_lowercase()).filter(|q| !q.is_empty()), ..Default::default() };
        for name in ["search", "filter"] {
            if let Some(expr) = params.get(name).filter(|e| !e.trim().is_empty()) {
                query.clauses.extend(parse(expr)?);
                query.include_deprovisioned = true;
            }
        }
        Ok(query)
    }

    /// Whether `q` was given (Okta's default page size is then 10).
    pub(super) fn is_q(&self) -> bool {
        self.q.is_some()
    }

    /// Whether `user` belongs in the answer.
    pub(super) fn matches(&self, user: &User) -> bool {
        if !self.include_deprovisioned && user.status == "DEPROVISIONED" {
            return false;
        }
        let text = |field: &str| -> Option<String> {
            match field {
                "status" => Some(user.status.clone()),
                "id" => Some(user.id.clone()),
                "profile.login" => Some(user.login.clone()),
                other => match user.profile.get(other.trim_start_matches("profile."))? {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    v => Some(v.to_string()),
                },
            }
        };
        if let Some(q) = &self.q {
            let hit = ["profile.firstName", "profile.lastName", "profile.email"]
                .iter()
                .any(|f| text(f).is_some_and(|v| v.to_lowercase().starts_with(q.as_str())));
            if !hit {
                return false;
            }
        }
        self.clauses.iter().all(|c| {
            let Some(v) = text(&c.attr) else { return false };
            let (v, want) = (v.to_lowercase(), c.value.to_lowercase());
            match c.op {
                Op::Eq => v == want,
                Op::Sw => v.starts_with(&want),
                Op::Co => v.contains(&want),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(parse(r#"status eq "ACTIVE" and profile.email sw "a\"b""#).map(|c| c.len()).ok(), Some(2));
        for bad in [
            r#"status gt "ACTIVE""#,
            r#"status eq ACTIVE"#,
            r#"lastUpdated eq "x""#,
            r#"status eq "ACTIVE" or id eq "x""#,
            r#"status eq "ACTIVE" and"#,
            r#"profile.login eq "unterminated"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
