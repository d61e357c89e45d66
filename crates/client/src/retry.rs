//! Retrying 429 and 5xx answers the way Okta's SDKs do: wait until `X-Rate-Limit-Reset` (epoch seconds,
//! read relative to the answer's `Date`, so our clock's skew does not matter) plus one second, or for
//! `Retry-After`, or else back off exponentially; and say on the retry which request it repeats
//! (`X-Okta-Retry-For`, the `X-Okta-Request-Id` of the refused one) and how often (`X-Okta-Retry-Count`).
use std::time::{Duration, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

pub const X_RATE_LIMIT_RESET: &str = "x-rate-limit-reset";
pub const X_OKTA_REQUEST_ID: &str = "x-okta-request-id";
pub const X_OKTA_RETRY_FOR: &str = "x-okta-retry-for";
pub const X_OKTA_RETRY_COUNT: &str = "x-okta-retry-count";

/// How often and how long to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (Okta's SDKs default to 2).
    pub max_retries: u32,
    /// First delay of the exponential backoff used when the server gives no hint.
    pub base_delay: Duration,
    /// No single wait is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// Whether an answer with this status is worth repeating.
    pub fn is_retryable(status: u16) -> bool {
        status == 429 || (500..600).contains(&status)
    }

    /// Whether an API call's answer is worth repeating: 429, 503 and 504, as Okta's SDKs do (a 500 may
    /// have done the work already).
    pub fn is_retryable_api(status: u16) -> bool {
        matches!(status, 429 | 503 | 504)
    }

    /// Like [`delay`](Self::delay), but `None` when the server asks for a longer wait than `max_delay`
    /// (a used-up quota): retrying sooner would only be refused again, so the caller gives up at once.
    pub fn wait(&self, headers: &HeaderMap, retry: u32, now: i64) -> Option<Duration> {
        let server_now = header_date(headers).unwrap_or(now);
        let hinted = rate_limit_reset(headers)
            .map(|reset| Duration::from_secs(u64::try_from(reset.saturating_sub(server_now)).unwrap_or(0) + 1))
            .or_else(|| retry_after(headers, server_now));
        match hinted {
            Some(d) if d > self.max_delay => None,
            Some(d) => Some(d),
            None => Some(self.delay(headers, retry, now)),
        }
    }

    /// How long to wait before retry number `retry` (1-based) after an answer with `headers`;
    /// `now` (seconds since the epoch) stands in for a missing `Date` header.
    pub fn delay(&self, headers: &HeaderMap, retry: u32, now: i64) -> Duration {
        let server_now = header_date(headers).unwrap_or(now);
        let hinted = rate_limit_reset(headers)
            .map(|reset| Duration::from_secs(u64::try_from(reset.saturating_sub(server_now)).unwrap_or(0) + 1))
            .or_else(|| retry_after(headers, server_now));
        let delay = hinted.unwrap_or_else(|| {
            let exponent = retry.saturating_sub(1).min(16);
            self.base_delay.saturating_mul(1 << exponent)
        });
        delay.min(self.max_delay)
    }
}

/// Sends an API request, repeating it on 429, 503 and 504 as `policy` allows: after the server's hint
/// (`X-Rate-Limit-Reset` against `Date`, or `Retry-After`) or an exponential backoff, at most
/// `max_retries` times, never waiting longer than `max_delay` (a longer hint returns the refusal at once).
/// Each retry carries `X-Okta-Retry-For` and `X-Okta-Retry-Count`. A body that cannot be replayed (a
/// stream) is sent once. The last answer is returned, whatever its status.
pub async fn send_api(
    http: &reqwest::Client,
    request: reqwest::Request,
    policy: &RetryPolicy,
) -> Result<reqwest::Response, reqwest::Error> {
    let Some(replay) = request.try_clone() else { return http.execute(request).await };
    let mut response = http.execute(request).await?;
    let mut retry = 0;
    while RetryPolicy::is_retryable_api(response.status().as_u16()) && retry < policy.max_retries {
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let Some(delay) = policy.wait(response.headers(), retry + 1, now) else { break };
        let Some(mut next) = replay.try_clone() else { break };
        retry += 1;
        for (name, value) in retry_headers(response.headers(), retry) {
            next.headers_mut().insert(name, value);
        }
        tracing::info!(
            status = response.status().as_u16(),
            retry,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "API call will be retried"
        );
        tokio::time::sleep(delay).await;
        response = http.execute(next).await?;
    }
    Ok(response)
}

/// The earliest `X-Rate-Limit-Reset` value; several headers or comma-separated values may be present.
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<i64> {
    headers
        .get_all(X_RATE_LIMIT_RESET)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<i64>().ok())
        .min()
}

fn header_date(headers: &HeaderMap) -> Option<i64> {
    let text = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    http_date_to_epoch(text)
}

fn http_date_to_epoch(text: &str) -> Option<i64> {
    let time = httpdate::parse_http_date(text.trim()).ok()?;
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn retry_after(headers: &HeaderMap, server_now: i64) -> Option<Duration> {
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date_to_epoch(text)?;
    Some(Duration::from_secs(u64::try_from(at.saturating_sub(server_now)).unwrap_or(0)))
}

/// The headers a retry carries: `X-Okta-Retry-For` (when the refused answer had a request id) and
/// `X-Okta-Retry-Count`.
pub fn retry_headers(previous: &HeaderMap, retry: u32) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = Vec::with_capacity(2);
    if let Some(request_id) = previous.get(X_OKTA_REQUEST_ID) {
        headers.push((HeaderName::from_static(X_OKTA_RETRY_FOR), request_id.clone()));
    }
    headers.push((HeaderName::from_static(X_OKTA_RETRY_COUNT), HeaderValue::from(retry)));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    // 1609459200 = Fri, 01 Jan 2021 00:00:00 GMT
    const DATE: &str = "Fri, 01 Jan 2021 00:00:00 GMT";

    #[test]
    fn reset_is_read_relative_to_the_date_header() {
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", "1609459205")]);
        // our clock is an hour off: irrelevant, the Date header wins
        assert_eq!(RetryPolicy::default().delay(&h, 1, 1_609_462_800), Duration::from_secs(6));
    }

    #[test]
    fn the_earliest_of_several_resets_counts() {
        let h = headers(&[
            ("date", DATE),
            ("x-rate-limit-reset", "1609459230, 1609459210"),
            ("x-rate-limit-reset", "1609459220"),
        ]);
        assert_eq!(RetryPolicy::default().delay(&h, 1, 0), Duration::from_secs(11));
    }

    #[test]
    fn reset_without_date_uses_our_clock() {
        let h = headers(&[("x-rate-limit-reset", "1000")]);
        assert_eq!(RetryPolicy::default().delay(&h, 1, 997), Duration::from_secs(4));
    }

    #[test]
    fn reset_in_the_past_waits_one_second() {
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", "1609459100")]);
        assert_eq!(RetryPolicy::default().delay(&h, 1, 0), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(RetryPolicy::default().delay(&h, 1, 0), Duration::from_secs(7));
        let h = headers(&[("date", DATE), ("retry-after", "Fri, 01 Jan 2021 00:00:09 GMT")]);
        assert_eq!(RetryPolicy::default().delay(&h, 1, 0), Duration::from_secs(9));
    }

    #[test]
    fn exponential_backoff_without_hints_is_capped() {
        let policy =
            RetryPolicy { max_retries: 10, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(5) };
        let h = HeaderMap::new();
        assert_eq!(policy.delay(&h, 1, 0), Duration::from_secs(1));
        assert_eq!(policy.delay(&h, 2, 0), Duration::from_secs(2));
        assert_eq!(policy.delay(&h, 3, 0), Duration::from_secs(4));
        assert_eq!(policy.delay(&h, 4, 0), Duration::from_secs(5));
        let h = headers(&[("retry-after", "600")]);
        assert_eq!(policy.delay(&h, 1, 0), Duration::from_secs(5));
    }

    #[test]
    fn api_waits_give_up_on_hints_past_the_cap() {
        let policy =
            RetryPolicy { max_retries: 2, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(10) };
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", "1609459204")]);
        assert_eq!(policy.wait(&h, 1, 0), Some(Duration::from_secs(5)));
        let h = headers(&[("date", DATE), ("x-rate-limit-reset", "1609462800")]);
        assert_eq!(policy.wait(&h, 1, 0), None, "an hour away: not worth waiting for");
        assert_eq!(policy.wait(&HeaderMap::new(), 2, 0), Some(Duration::from_secs(2)));
        assert!(RetryPolicy::is_retryable_api(429) && RetryPolicy::is_retryable_api(503));
        assert!(RetryPolicy::is_retryable_api(504) && !RetryPolicy::is_retryable_api(500));
    }

    #[test]
    fn retryable_statuses() {
        assert!(RetryPolicy::is_retryable(429));
        assert!(RetryPolicy::is_retryable(503));
        assert!(!RetryPolicy::is_retryable(400));
        assert!(!RetryPolicy::is_retryable(401));
    }

    #[test]
    fn retry_headers_name_the_refused_request() {
        let h = headers(&[("x-okta-request-id", "req-1")]);
        let out = retry_headers(&h, 2);
        assert_eq!(out[0].0.as_str(), "x-okta-retry-for");
        assert_eq!(out[0].1, "req-1");
        assert_eq!(out[1].0.as_str(), "x-okta-retry-count");
        assert_eq!(out[1].1, "2");
        assert_eq!(retry_headers(&HeaderMap::new(), 1).len(), 1);
    }
}
