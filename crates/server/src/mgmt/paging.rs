//! Okta's cursor paging, one implementation for every list: `after` (the id the previous page ended
//! with) and `limit` in the query; `Link: <…>; rel="self"` always, and `rel="next"` when more follow.
use crate::errors::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use tollgate_store::{App, Store, StoreError, User};

/// Rows read from the store per round while filling a page.
const BATCH: u32 = 200;

/// What a list pages through: rows the store reads in id order after a cursor.
pub(crate) trait Listed: Sized + Send {
    /// The row's id, the cursor of the page that ends with it.
    fn id(&self) -> &str;
    /// At most `n` rows after `after` (exclusive), in id order.
    fn fetch<'a>(
        store: &'a dyn Store,
        after: Option<&'a str>,
        n: u32,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a;
}

impl Listed for App {
    fn id(&self) -> &str {
        &self.id
    }
    fn fetch<'a>(
        store: &'a dyn Store,
        after: Option<&'a str>,
        n: u32,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a {
        store.apps(after, n)
    }
}

impl Listed for User {
    fn id(&self) -> &str {
        &self.id
    }
    fn fetch<'a>(
        store: &'a dyn Store,
        after: Option<&'a str>,
        n: u32,
    ) -> impl Future<Output = Result<Vec<Self>, StoreError>> + Send + 'a {
        store.users(after, n)
    }
}

/// The page a list request asks for.
#[derive(Debug)]
pub(crate) struct Page {
    after: Option<String>,
    limit: u32,
}

/// One page of results, and the cursor of the next page if there is one.
pub(crate) struct Filled<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next: Option<String>,
}

impl Page {
    /// Reads `after` and `limit` (default `default`, clamped to 1..=`max`; not a number: 400 E0000001).
    pub(crate) fn from_query(q: &HashMap<String, String>, default: u32, max: u32) -> Result<Self, ApiError> {
        let limit = match q.get("limit") {
            None => default,
            Some(l) => l
                .parse::<u32>()
                .map_err(|_| ApiError::validation("limit", vec!["limit: must be a positive integer".into()]))?
                .clamp(1, max),
        };
        Ok(Page { after: q.get("after").filter(|a| !a.is_empty()).cloned(), limit })
    }

    /// Fills the page: scans in id order from the cursor, keeping the rows `wanted` accepts, until one
    /// more than a page is found (then there is a next page) or the rows run out.
    pub(crate) async fn fill<T: Listed>(
        &self,
        store: &dyn Store,
        wanted: impl Fn(&T) -> bool,
    ) -> Result<Filled<T>, ApiError> {
        let mut items = Vec::new();
        let mut cursor = self.after.clone();
        let mut more = false;
        loop {
            let batch = T::fetch(store, cursor.as_deref(), BATCH).await?;
            let done = batch.len() < BATCH as usize;
            cursor = batch.last().map(|row| row.id().to_string());
            for row in batch.into_iter().filter(|row| wanted(row)) {
                if items.len() == self.limit as usize {
                    more = true;
                    break;
                }
                items.push(row);
            }
            if more || done {
                break;
            }
        }
        let next = if more { items.last().map(|row| row.id().to_string()) } else { None };
        Ok(Filled { items, next })
    }

    /// The answer: `body` as JSON, with the `Link` headers for the list at `base` (an absolute URL).
    pub(crate) fn respond(&self, base: &str, body: impl Serialize, next: Option<&str>) -> Response {
        let mut resp = axum::Json(body).into_response();
        let limit = self.limit;
        let self_link = match &self.after {
            Some(a) => format!("<{base}?after={a}&limit={limit}>; rel=\"self\""),
            None => format!("<{base}?limit={limit}>; rel=\"self\""),
        };
        let next_link = next.map(|n| format!("<{base}?after={n}&limit={limit}>; rel=\"next\""));
        for link in std::iter::once(self_link).chain(next_link) {
            if let Ok(v) = HeaderValue::from_str(&link) {
                resp.headers_mut().append(header::LINK, v);
            }
        }
        resp
    }
}
