//! A parsed filter expression (Okta's `filter=` language: `eq`, `sw`, `co`, `and`, `or`, parentheses), as
//! the store receives it. The server parses the text and checks the attribute names; the store turns the
//! tree into SQL with bound parameters, so no text of the expression ever reaches a query string.

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// Equal, case-sensitive.
    Eq,
    /// Starts with, case-insensitive.
    Sw,
    /// Contains, case-insensitive.
    Co,
}

/// A filter expression over named attributes with string values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attr op "value"`.
    Cmp { attr: String, op: CmpOp, value: String },
    /// Every part holds.
    And(Vec<Filter>),
    /// At least one part holds.
    Or(Vec<Filter>),
}

impl Filter {
    /// Whether `lookup` (an attribute's values; several for a list attribute such as `target.id`)
    /// satisfies the expression. The in-memory twin of the SQL the store builds, for callers that filter
    /// rows already in hand.
    pub fn matches<'a, F>(&self, lookup: &F) -> bool
    where
        F: Fn(&str) -> Vec<&'a str>,
    {
        match self {
            Filter::Cmp { attr, op, value } => lookup(attr).into_iter().any(|v| op.holds(v, value)),
            Filter::And(parts) => parts.iter().all(|p| p.matches(lookup)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(lookup)),
        }
    }
}

impl CmpOp {
    /// Whether `have op want` holds.
    pub fn holds(self, have: &str, want: &str) -> bool {
        match self {
            CmpOp::Eq => have == want,
            CmpOp::Sw => have.to_lowercase().starts_with(&want.to_lowercase()),
            CmpOp::Co => have.to_lowercase().contains(&want.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(attr: &str, op: CmpOp, value: &str) -> Filter {
        Filter::Cmp { attr: attr.into(), op, value: value.into() }
    }

    #[test]
    fn evaluates_and_or_over_list_attributes() {
        let lookup = |attr: &str| -> Vec<&'static str> {
            match attr {
                "eventType" => vec!["app.oauth2.token.grant.access_token"],
                "target.id" => vec!["0oa1", "0oa2"],
                _ => vec![],
            }
        };
        assert!(cmp("target.id", CmpOp::Eq, "0oa2").matches(&lookup));
        assert!(!cmp("target.id", CmpOp::Eq, "0OA2").matches(&lookup), "eq is case-sensitive");
        assert!(cmp("eventType", CmpOp::Sw, "APP.OAUTH2").matches(&lookup), "sw is not");
        assert!(!cmp("missing", CmpOp::Co, "").matches(&lookup), "an absent attribute never matches");
        let either = Filter::Or(vec![cmp("eventType", CmpOp::Eq, "x"), cmp("target.id", CmpOp::Co, "a1")]);
        assert!(either.matches(&lookup));
        assert!(!Filter::And(vec![either, cmp("eventType", CmpOp::Eq, "x")]).matches(&lookup));
    }
}
