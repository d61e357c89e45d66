//! System Log rows and queries. An event is kept whole as JSON beside the columns its query language
//! filters on (its targets as space-delimited id and type lists, matched with `LIKE`), so a query is one
//! SQL `WHERE` over an indexed time range whichever backend runs it, and a batch of events is written as
//! multi-row inserts. `LIKE` is case-sensitive on both engines (SQLite's connections set
//! `case_sensitive_like`); `sw`/`co` compare lower-cased text. The SQL is built here once, with `$n` placeholders both engines accept, and
//! every value bound — no text of a caller's expression is ever spliced into the query.
use crate::filter::{CmpOp, Filter};
use crate::{Result, StoreError};

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRow {
    pub uuid: String,
    /// Unix milliseconds.
    pub published: i64,
    pub event_type: String,
    pub severity: String,
    pub outcome_result: String,
    pub actor_id: String,
    pub actor_type: String,
    pub client_ip: String,
    pub transaction_id: String,
    /// `(id, type)` of each target.
    pub targets: Vec<(String, String)>,
    /// Lower-case words `q` searches.
    pub search_text: String,
    /// The event's `LogEvent` JSON.
    pub body: String,
}

/// An event as a query returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub uuid: String,
    pub published: i64,
    /// The `LogEvent` JSON.
    pub body: String,
}

/// Where a page ended: the next page starts after this event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCursor {
    pub published: i64,
    pub uuid: String,
}

/// A System Log query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Events published at or after (Unix ms).
    pub since: i64,
    /// Events published before (Unix ms).
    pub until: Option<i64>,
    pub filter: Option<Filter>,
    /// Every word must occur in the event's text (case-insensitive).
    pub q: Vec<String>,
    pub after: Option<LogCursor>,
    pub limit: u32,
    pub descending: bool,
}

/// The attributes `filter` may name, and the column each is kept in (`None`: a target attribute).
pub const LOG_FILTER_ATTRIBUTES: &[(&str, Option<&str>)] = &[
    ("eventType", Some("event_type")),
    ("severity", Some("severity")),
    ("outcome.result", Some("outcome_result")),
    ("actor.id", Some("actor_id")),
    ("actor.type", Some("actor_type")),
    ("client.ipAddress", Some("client_ip")),
    ("transaction.id", Some("transaction_id")),
    ("uuid", Some("uuid")),
    ("target.id", None),
    ("target.type", None),
];

/// A row's targets as the two stored lists: `" id1 id2 "` and `" type1 type2 "` (space-delimited, with a
/// space at each end, so that a whole id is matched as `% id %`). Ids cannot hold a space here: one that
/// does is stored with it replaced by U+00A0, which a filter on that id can never hit by accident.
pub(crate) fn target_lists(targets: &[(String, String)]) -> (String, String) {
    let mut ids = String::from(" ");
    let mut types = String::from(" ");
    for (id, kind) in targets {
        ids.push_str(&id.replace(' ', "\u{a0}"));
        ids.push(' ');
        types.push_str(&kind.replace(' ', "\u{a0}"));
        types.push(' ');
    }
    (ids, types)
}

/// A value to bind, in order, to the `$n` placeholders of [`select_sql`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

struct Builder {
    sql: String,
    binds: Vec<Bind>,
}

impl Builder {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn cmp(&mut self, column: &str, op: CmpOp, value: &str) -> String {
        match op {
            CmpOp::Eq => {
                let p = self.bind(Bind::Text(value.to_string()));
                format!("{column} = {p}")
            }
            CmpOp::Sw | CmpOp::Co => {
                let escaped = like_escape(&value.to_lowercase());
                let pattern = if op == CmpOp::Sw { format!("{escaped}%") } else { format!("%{escaped}%") };
                let p = self.bind(Bind::Text(pattern));
                format!("lower({column}) LIKE {p} ESCAPE '\\'")
            }
        }
    }

    fn filter(&mut self, f: &Filter) -> Result<String> {
        Ok(match f {
            Filter::Cmp { attr, op, value } => {
                let column = LOG_FILTER_ATTRIBUTES
                    .iter()
                    .find(|(name, _)| name == attr)
                    .map(|(_, column)| *column)
                    .ok_or_else(|| StoreError::Unsupported(format!("unknown log attribute {attr:?}")))?;
                match column {
                    Some(column) => self.cmp(column, *op, value),
                    None => {
                        let column = if attr == "target.id" { "e.target_ids" } else { "e.target_types" };
                        // The list is " a b c ": a whole-word match is ` value ` inside it.
                        let escaped =
                            if *op == CmpOp::Eq { like_escape(value) } else { like_escape(&value.to_lowercase()) };
                        let (lhs, pattern) = match op {
                            CmpOp::Eq => (column.to_string(), format!("% {escaped} %")),
                            CmpOp::Sw => (format!("lower({column})"), format!("% {escaped}%")),
                            CmpOp::Co => (format!("lower({column})"), format!("%{escaped}%")),
                        };
                        let p = self.bind(Bind::Text(pattern));
                        format!("{lhs} LIKE {p} ESCAPE '\\'")
                    }
                }
            }
            Filter::And(parts) | Filter::Or(parts) => {
                let joiner = if matches!(f, Filter::And(_)) { " AND " } else { " OR " };
                let mut out = Vec::with_capacity(parts.len());
                for p in parts {
                    out.push(self.filter(p)?);
                }
                format!("({})", out.join(joiner))
            }
        })
    }
}

fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `SELECT` of `uuid, published, body` for `query`, and the values for its placeholders.
pub(crate) fn select_sql(query: &LogQuery) -> Result<(String, Vec<Bind>)> {
    let mut b =
        Builder { sql: String::from("SELECT e.uuid, e.published, e.body FROM log_events e WHERE "), binds: Vec::new() };
    let mut conds = Vec::new();
    let since = b.bind(Bind::Int(query.since));
    conds.push(format!("e.published >= {since}"));
    if let Some(until) = query.until {
        let p = b.bind(Bind::Int(until));
        conds.push(format!("e.published < {p}"));
    }
    if let Some(after) = &query.after {
        let (op, p1) = (if query.descending { "<" } else { ">" }, b.bind(Bind::Int(after.published)));
        let p2 = b.bind(Bind::Text(after.uuid.clone()));
        conds.push(format!("(e.published {op} {p1} OR (e.published = {p1} AND e.uuid {op} {p2}))"));
    }
    if let Some(f) = &query.filter {
        conds.push(b.filter(f)?);
    }
    for word in &query.q {
        let p = b.bind(Bind::Text(format!("%{}%", like_escape(&word.to_lowercase()))));
        conds.push(format!("e.search_text LIKE {p} ESCAPE '\\'"));
    }
    let order = if query.descending { "DESC" } else { "ASC" };
    let limit = b.bind(Bind::Int(i64::from(query.limit)));
    let sql = format!("{}{} ORDER BY e.published {order}, e.uuid {order} LIMIT {limit}", b.sql, conds.join(" AND "));
    Ok((sql, b.binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_bound_sql_for_every_shape() {
        let query = LogQuery {
            since: 10,
            until: Some(20),
            filter: Some(Filter::Or(vec![
                Filter::Cmp { attr: "eventType".into(), op: CmpOp::Eq, value: "a'b".into() },
                Filter::Cmp { attr: "target.id".into(), op: CmpOp::Sw, value: "50%_".into() },
            ])),
            q: vec!["Token".into()],
            after: Some(LogCursor { published: 15, uuid: "u".into() }),
            limit: 100,
            descending: false,
        };
        let (sql, binds) = select_sql(&query).map_err(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            sql,
            "SELECT e.uuid, e.published, e.body FROM log_events e WHERE e.published >= $1 AND e.published < $2 AND (e.published > $3 OR \
             (e.published = $3 AND e.uuid > $4)) AND (event_type = $5 OR lower(e.target_ids) LIKE $6 ESCAPE '\\') \
             AND e.search_text LIKE $7 ESCAPE '\\' ORDER BY e.published ASC, e.uuid ASC LIMIT $8"
        );
        assert_eq!(binds[4], Bind::Text("a'b".into()), "values are bound, never spliced");
        assert_eq!(binds[5], Bind::Text("% 50\\%\\_%".into()), "a target id starts a word of the list");
        assert_eq!(binds[6], Bind::Text("%token%".into()));
        let unknown = LogQuery {
            filter: Some(Filter::Cmp { attr: "body".into(), op: CmpOp::Eq, value: String::new() }),
            ..query
        };
        assert!(select_sql(&unknown).is_err());
    }
}
