//! Claim values: the safe subset of Okta's expression language that makes sense for service apps, parsed
//! once when a claim is saved (a clear refusal for anything else) and evaluated at every token.
//!
//! Supported: string (`"..."` or `'...'`, with `\` escapes), number and boolean literals, `null`;
//! `app.clientId`, `app.id`, `app.label` and `app.profile.<attribute>` (from the app's `profile` object);
//! `+` (numbers add, anything else concatenates as text, as in Okta's language); parentheses; and the
//! functions `String.toUpperCase(s)`, `String.toLowerCase(s)`, `String.substringBefore(s, sep)`,
//! `String.substringAfter(s, sep)`, `String.append(a, b)`, `String.len(s)`, `String.stringContains(s, t)`
//! and `String.replace(s, from, to)`.
//!
//! Why hand-written (a tokenizer and a recursive-descent parser) and not a parser crate: the grammar is
//! five productions, the error messages must name Okta's terms (an unsupported identifier, function or
//! character) and positions, and the depth and length bounds that keep it safe are two lines here. A
//! parser generator would add a dependency and a grammar file for less control over both.
use serde_json::{Map, Value};

/// Longest accepted expression, in bytes.
const MAX_LEN: usize = 1024;
/// Deepest nesting of parentheses and calls.
const MAX_DEPTH: usize = 32;

/// Why an expression is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError(message.into()))
}

/// A supported function of Okta's `String` class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    ToUpperCase,
    ToLowerCase,
    SubstringBefore,
    SubstringAfter,
    Append,
    Len,
    StringContains,
    Replace,
}

impl Func {
    fn by_name(name: &str) -> Option<(Func, usize)> {
        Some(match name {
            "toUpperCase" => (Func::ToUpperCase, 1),
            "toLowerCase" => (Func::ToLowerCase, 1),
            "substringBefore" => (Func::SubstringBefore, 2),
            "substringAfter" => (Func::SubstringAfter, 2),
            "append" => (Func::Append, 2),
            "len" => (Func::Len, 1),
            "stringContains" => (Func::StringContains, 2),
            "replace" => (Func::Replace, 3),
            _ => return None,
        })
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    AppClientId,
    AppId,
    AppLabel,
    AppProfile(String),
    Plus(Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Ident(String),
    Dot,
    LParen,
    RParen,
    Comma,
    Plus,
}

/// Splits the source into tokens, each with its byte position.
fn tokenize(src: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '.' => {
                chars.next();
                out.push((at, Tok::Dot));
            }
            '(' => {
                chars.next();
                out.push((at, Tok::LParen));
            }
            ')' => {
                chars.next();
                out.push((at, Tok::RParen));
            }
            ',' => {
                chars.next();
                out.push((at, Tok::Comma));
            }
            '+' => {
                chars.next();
                out.push((at, Tok::Plus));
            }
            '"' | '\'' => {
                let quote = c;
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, e @ ('\\' | '"' | '\''))) => text.push(e),
                            Some((_, 'n')) => text.push('\n'),
                            Some((_, 't')) => text.push('\t'),
                            _ => return err(format!("unsupported escape in the string at position {at}")),
                        },
                        c if c == quote => {
                            closed = true;
                            break;
                        }
                        c => text.push(c),
                    }
                }
                if !closed {
                    return err(format!("unterminated string starting at position {at}"));
                }
                out.push((at, Tok::Str(text)));
            }
            c if c.is_ascii_digit() => {
                let mut text = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    // A dot is part of the number only when a digit follows it.
                    let digit_follows = || {
                        src.get(at + text.len() + 1..)
                            .is_some_and(|rest| rest.starts_with(|n: char| n.is_ascii_digit()))
                    };
                    if d.is_ascii_digit() || (d == '.' && !text.contains('.') && digit_follows()) {
                        text.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let n: f64 = text.parse().map_err(|_| ExprError(format!("invalid number at position {at}")))?;
                out.push((at, Tok::Num(n)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut text = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        text.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push((at, Tok::Ident(text)));
            }
            other => return err(format!("unsupported character '{other}' at position {at}")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |(at, _)| *at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ExprError> {
        let at = self.at();
        match self.next() {
            Some(t) if &t == want => Ok(()),
            _ => err(format!("expected {what} at position {at}")),
        }
    }

    /// expr := primary ('+' primary)*
    fn expr(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if depth > MAX_DEPTH {
            return err(format!("the expression is nested more than {MAX_DEPTH} deep"));
        }
        let mut left = self.primary(depth)?;
        while self.peek() == Some(&Tok::Plus) {
            self.next();
            let right = self.primary(depth)?;
            left = Expr::Plus(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// primary := literal | '(' expr ')' | name ('.' name)* [ '(' args ')' ]
    fn primary(&mut self, depth: usize) -> Result<Expr, ExprError> {
        let at = self.at();
        match self.next() {
            Some(Tok::Str(s)) => Ok(Expr::Literal(Value::String(s))),
            Some(Tok::Num(n)) => Ok(Expr::Literal(number(n))),
            Some(Tok::LParen) => {
                let inner = self.expr(depth + 1)?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(inner)
            }
            Some(Tok::Ident(first)) => {
                let mut path = vec![first];
                while self.peek() == Some(&Tok::Dot) {
                    self.next();
                    let seg_at = self.at();
                    match self.next() {
                        Some(Tok::Ident(seg)) => path.push(seg),
                        _ => return err(format!("expected a name after '.' at position {seg_at}")),
                    }
                }
                if self.peek() == Some(&Tok::LParen) {
                    self.next();
                    return self.call(&path, at, depth);
                }
                reference(&path, at)
            }
            Some(Tok::Plus) => err(format!("unexpected '+' at position {at}")),
            Some(Tok::RParen) => err(format!("unexpected ')' at position {at}")),
            Some(Tok::Comma) => err(format!("unexpected ',' at position {at}")),
            Some(Tok::Dot) => err(format!("unexpected '.' at position {at}")),
            None => err("the expression ends too early"),
        }
    }

    fn call(&mut self, path: &[String], at: usize, depth: usize) -> Result<Expr, ExprError> {
        let name = path.join(".");
        let (func, arity) = match path {
            [class, f] if class == "String" => Func::by_name(f),
            _ => None,
        }
        .ok_or_else(|| ExprError(format!("unsupported function '{name}' at position {at}")))?;
        let mut args = Vec::new();
        if self.peek() != Some(&Tok::RParen) {
            loop {
                args.push(self.expr(depth + 1)?);
                if self.peek() == Some(&Tok::Comma) {
                    self.next();
                } else {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "')' or ','")?;
        if args.len() != arity {
            return err(format!("'{name}' takes {arity} argument(s), not {}", args.len()));
        }
        Ok(Expr::Call(func, args))
    }
}

/// A name that is not a call: a literal keyword or one of the app's attributes.
fn reference(path: &[String], at: usize) -> Result<Expr, ExprError> {
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["true"] => Ok(Expr::Literal(Value::Bool(true))),
        ["false"] => Ok(Expr::Literal(Value::Bool(false))),
        ["null"] => Ok(Expr::Literal(Value::Null)),
        ["app", "clientId"] => Ok(Expr::AppClientId),
        ["app", "id"] => Ok(Expr::AppId),
        ["app", "label"] => Ok(Expr::AppLabel),
        ["app", "profile", attr] => Ok(Expr::AppProfile((*attr).to_string())),
        _ => err(format!(
            "unsupported reference '{}' at position {at}: a service app's token can use app.clientId, app.id, \
             app.label and app.profile.<attribute>",
            path.join(".")
        )),
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Integral and exactly representable: an integer in the token, as Okta writes it.
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// Parses an expression, or says what is unsupported in it.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    if src.len() > MAX_LEN {
        return err(format!("the expression is longer than {MAX_LEN} characters"));
    }
    let toks = tokenize(src)?;
    if toks.is_empty() {
        return err("the expression is empty");
    }
    let mut parser = Parser { toks, pos: 0, len: src.len() };
    let expr = parser.expr(0)?;
    if parser.pos < parser.toks.len() {
        return err(format!("unexpected text at position {}", parser.at()));
    }
    Ok(expr)
}

/// What an expression can read: the app the token is for.
pub struct Context<'a> {
    pub client_id: &'a str,
    pub app_id: &'a str,
    pub label: &'a str,
    pub profile: Option<&'a Map<String, Value>>,
}

/// A value as text, as Okta's language turns it into a string.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl Expr {
    /// The expression's value for `ctx`; `null` when it reads something the app does not have.
    pub fn eval(&self, ctx: &Context<'_>) -> Value {
        match self {
            Expr::Literal(v) => v.clone(),
            Expr::AppClientId => Value::String(ctx.client_id.to_string()),
            Expr::AppId => Value::String(ctx.app_id.to_string()),
            Expr::AppLabel => Value::String(ctx.label.to_string()),
            Expr::AppProfile(attr) => ctx.profile.and_then(|p| p.get(attr)).cloned().unwrap_or(Value::Null),
            Expr::Plus(a, b) => match (a.eval(ctx), b.eval(ctx)) {
                (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
                    (Some(x), Some(y)) => x.checked_add(y).map_or(Value::Null, Value::from),
                    _ => number(x.as_f64().unwrap_or(f64::NAN) + y.as_f64().unwrap_or(f64::NAN)),
                },
                (x, y) => Value::String(text(&x) + &text(&y)),
            },
            Expr::Call(func, args) => {
                let vals: Vec<Value> = args.iter().map(|a| a.eval(ctx)).collect();
                if vals.first().is_none_or(Value::is_null) {
                    return Value::Null;
                }
                let s: Vec<String> = vals.iter().map(text).collect();
                let arg = |i: usize| s.get(i).map(String::as_str).unwrap_or("");
                match func {
                    Func::ToUpperCase => Value::String(arg(0).to_uppercase()),
                    Func::ToLowerCase => Value::String(arg(0).to_lowercase()),
                    Func::SubstringBefore => {
                        Value::String(arg(0).split_once(arg(1)).map_or(arg(0), |(before, _)| before).to_string())
                    }
                    Func::SubstringAfter => {
                        Value::String(arg(0).split_once(arg(1)).map_or("", |(_, after)| after).to_string())
                    }
                    Func::Append => Value::String(format!("{}{}", arg(0), arg(1))),
                    Func::Len => Value::from(arg(0).chars().count()),
                    Func::StringContains => Value::Bool(arg(0).contains(arg(1))),
                    Func::Replace => Value::String(arg(0).replace(arg(1), arg(2))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn eval(src: &str) -> Value {
        let profile = json!({"tenant": "acme", "tier": 3, "region": "eu-west"});
        let ctx =
            Context { client_id: "0oa1client", app_id: "0oa1app", label: "Billing", profile: profile.as_object() };
        parse(src).unwrap().eval(&ctx)
    }

    fn refused(src: &str) -> String {
        parse(src).unwrap_err().0
    }

    #[test]
    fn literals_references_and_concatenation() {
        assert_eq!(eval(r#""plain""#), json!("plain"));
        assert_eq!(eval(r#"'it\'s'"#), json!("it's"));
        assert_eq!(eval("42"), json!(42));
        assert_eq!(eval("1.5"), json!(1.5));
        assert_eq!(eval("true"), json!(true));
        assert_eq!(eval("app.clientId"), json!("0oa1client"));
        assert_eq!(eval("app.profile.tenant"), json!("acme"));
        assert_eq!(eval("app.profile.tier"), json!(3));
        assert_eq!(eval("app.profile.missing"), Value::Null);
        assert_eq!(eval(r#""t:" + app.profile.tenant + ":" + app.clientId"#), json!("t:acme:0oa1client"));
        assert_eq!(eval("app.profile.tier + 2"), json!(5));
        assert_eq!(eval(r#"(1 + 2) + "x""#), json!("3x"));
        assert_eq!(eval(r#""n" + app.profile.missing"#), json!("nnull"));
    }

    #[test]
    fn string_functions() {
        assert_eq!(eval("String.toUpperCase(app.profile.tenant)"), json!("ACME"));
        assert_eq!(eval(r#"String.toLowerCase("AbC")"#), json!("abc"));
        assert_eq!(eval(r#"String.substringBefore(app.profile.region, "-")"#), json!("eu"));
        assert_eq!(eval(r#"String.substringAfter(app.profile.region, "-")"#), json!("west"));
        assert_eq!(eval(r#"String.substringAfter("abc", "-")"#), json!(""));
        assert_eq!(eval(r#"String.append(app.label, "!")"#), json!("Billing!"));
        assert_eq!(eval("String.len(app.label)"), json!(7));
        assert_eq!(eval(r#"String.stringContains(app.clientId, "oa1")"#), json!(true));
        assert_eq!(eval(r#"String.replace(app.profile.region, "-", "_")"#), json!("eu_west"));
        assert_eq!(eval(r#"String.toUpperCase(String.substringBefore(app.profile.region, "-"))"#), json!("EU"));
        assert_eq!(eval("String.toUpperCase(app.profile.missing)"), Value::Null);
    }

    #[test]
    fn unsupported_input_is_refused_with_a_reason() {
        assert!(refused("user.email").contains("unsupported reference 'user.email'"));
        assert!(refused("app.profile").contains("unsupported reference"));
        assert!(refused("String.toUpperCase()").contains("takes 1 argument"));
        assert!(refused("Arrays.contains(x)").contains("unsupported function 'Arrays.contains'"));
        assert!(refused("String.exec(\"x\")").contains("unsupported function"));
        assert!(refused("1 - 2").contains("unsupported character '-'"));
        assert!(refused("app.clientId ? 1 : 2").contains("unsupported character '?'"));
        assert!(refused("\"open").contains("unterminated string"));
        assert!(refused("1 +").contains("ends too early"));
        assert!(refused("1 2").contains("unexpected text at position 2"));
        assert!(refused("").contains("empty"));
        assert!(refused(&"(".repeat(40)).contains("nested"));
        assert!(refused(&"1+".repeat(600)).contains("longer"));
    }
}
