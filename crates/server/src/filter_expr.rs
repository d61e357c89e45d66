//! Okta's filter expression language, the subset tollgate answers exactly: `attr eq|sw|co "value"`,
//! joined by `and` / `or` (`and` binds tighter), with parentheses. Values are double-quoted strings with
//! `\"` and `\\` escapes. Each caller names the attributes it knows; anything else is an error rather than
//! a silently wrong answer. Bounded: at most [`MAX_COMPARISONS`] comparisons and [`MAX_DEPTH`] nested
//! parentheses, so a hostile expression costs little and cannot overflow the stack.
use tollgate_store::filter::{CmpOp, Filter};

/// Most comparisons one expression may hold.
pub(crate) const MAX_COMPARISONS: usize = 32;
/// Deepest parenthesis nesting.
pub(crate) const MAX_DEPTH: usize = 8;

/// Why an expression was refused (for the log; clients get the caller's Okta error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExprError {
    #[error("unterminated string")]
    Unterminated,
    #[error("unknown attribute {0:?}")]
    UnknownAttribute(String),
    #[error("unknown operator {0:?}")]
    UnknownOperator(String),
    #[error("expected {0}")]
    Expected(&'static str),
    #[error("too many comparisons or nested parentheses")]
    TooComplex,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, ExprError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                out.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next().ok_or(ExprError::Unterminated)? {
                        '\\' => s.push(chars.next().ok_or(ExprError::Unterminated)?),
                        '"' => break,
                        ch => s.push(ch),
                    }
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || matches!(ch, '"' | '(' | ')') {
                        break;
                    }
                    s.push(ch);
                    chars.next();
                }
                out.push(Token::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    comparisons: usize,
    known: &'a dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or_expr(&mut self, depth: usize) -> Result<Filter, ExprError> {
        let mut parts = vec![self.and_expr(depth)?];
        while self.peek_word("or") {
            self.at += 1;
            parts.push(self.and_expr(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::Or(parts) })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Filter, ExprError> {
        let mut parts = vec![self.primary(depth)?];
        while self.peek_word("and") {
            self.at += 1;
            parts.push(self.primary(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
    }

    fn primary(&mut self, depth: usize) -> Result<Filter, ExprError> {
        match self.next() {
            Some(Token::Open) => {
                if depth >= MAX_DEPTH {
                    return Err(ExprError::TooComplex);
                }
                let inner = self.or_expr(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(ExprError::Expected("')'")),
                }
            }
            Some(Token::Word(attr)) => {
                if !(self.known)(&attr) {
                    return Err(ExprError::UnknownAttribute(attr));
                }
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                        "eq" => CmpOp::Eq,
                        "sw" => CmpOp::Sw,
                        "co" => CmpOp::Co,
                        _ => return Err(ExprError::UnknownOperator(op)),
                    },
                    _ => return Err(ExprError::Expected("an operator")),
                };
                let Some(Token::Str(value)) = self.next() else {
                    return Err(ExprError::Expected("a quoted value"));
                };
                self.comparisons += 1;
                if self.comparisons > MAX_COMPARISONS {
                    return Err(ExprError::TooComplex);
                }
                Ok(Filter::Cmp { attr, op, value })
            }
            _ => Err(ExprError::Expected("an attribute or '('")),
        }
    }
}

/// Parses `text`, accepting only attributes for which `known` is true.
pub(crate) fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Filter, ExprError> {
    let tokens = tokenize(text)?;
    if tokens.len() > MAX_COMPARISONS * 6 {
        return Err(ExprError::TooComplex);
    }
    let mut parser = Parser { tokens, at: 0, comparisons: 0, known };
    let filter = parser.or_expr(0)?;
    if parser.at != parser.tokens.len() {
        return Err(ExprError::Expected("'and', 'or' or the end"));
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_attr(a: &str) -> bool {
        matches!(a, "eventType" | "outcome.result" | "target.id")
    }

    fn cmp(attr: &str, op: CmpOp, value: &str) -> Filter {
        Filter::Cmp { attr: attr.into(), op, value: value.into() }
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let f = parse(r#"eventType eq "a" or eventType sw "b" and outcome.result eq "FAILURE""#, &any_attr);
        assert_eq!(
            f,
            Ok(Filter::Or(vec![
                cmp("eventType", CmpOp::Eq, "a"),
                Filter::And(vec![cmp("eventType", CmpOp::Sw, "b"), cmp("outcome.result", CmpOp::Eq, "FAILURE")]),
            ]))
        );
        let g = parse(r#"(eventType eq "a" OR eventType co "b") AND target.id eq "x\"y""#, &any_attr);
        assert_eq!(
            g,
            Ok(Filter::And(vec![
                Filter::Or(vec![cmp("eventType", CmpOp::Eq, "a"), cmp("eventType", CmpOp::Co, "b")]),
                cmp("target.id", CmpOp::Eq, "x\"y"),
            ]))
        );
    }

    #[test]
    fn refuses_what_it_cannot_answer_exactly() {
        let cases = [
            (r#"severity eq "WARN""#, ExprError::UnknownAttribute("severity".into())),
            (r#"eventType gt "a""#, ExprError::UnknownOperator("gt".into())),
            (r#"eventType eq a"#, ExprError::Expected("a quoted value")),
            (r#"eventType eq "a" and"#, ExprError::Expected("an attribute or '('")),
            (r#"(eventType eq "a""#, ExprError::Expected("')'")),
            (r#"eventType eq "a" eventType eq "b""#, ExprError::Expected("'and', 'or' or the end")),
            (r#"eventType eq "unterminated"#, ExprError::Unterminated),
            ("", ExprError::Expected("an attribute or '('")),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, &any_attr), Err(want), "{text}");
        }
    }

    #[test]
    fn bounds_depth_and_size() {
        let deep = format!("{}eventType eq \"a\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&deep, &any_attr), Err(ExprError::TooComplex));
        let ok = format!("{}eventType eq \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok, &any_attr).is_ok());
        let wide = vec![r#"eventType eq "a""#; MAX_COMPARISONS + 1].join(" or ");
        assert_eq!(parse(&wide, &any_attr), Err(ExprError::TooComplex));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any text is parsed or refused, never a panic; what parses stays within the bounds.
        #[test]
        fn arbitrary_text_never_panics(text in "[ ()\"\\\\a-zA-Z.]{0,80}|\\PC{0,80}") {
            if let Ok(f) = parse(&text, &any_attr) {
                fn count(f: &Filter) -> usize {
                    match f {
                        Filter::Cmp { .. } => 1,
                        Filter::And(p) | Filter::Or(p) => p.iter().map(count).sum(),
                    }
                }
                prop_assert!(count(&f) <= MAX_COMPARISONS);
            }
        }
    }
}
