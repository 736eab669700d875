//! Retry policy of the `openai` SDK, which JAF users rely on without knowing: retry 408, 409,
//! 429, 5xx and connection errors with exponential backoff and jitter, honour `retry-after-ms`,
//! `retry-after` and `x-should-retry`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

const INITIAL_DELAY: f64 = 0.5;
const MAX_DELAY: f64 = 8.0;
/// Server-requested waits longer than this are ignored in favour of our own backoff, as the SDK does.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; the SDK's default is 2.
    pub max_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 2 }
    }
}

/// Whether an HTTP failure should be retried. `x-should-retry` overrides the status rule.
pub fn status_is_retryable(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429 | 500..=599),
    }
}

/// The wait the server asked for, if any and if sane.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let requested = header("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| {
            let v = header("retry-after")?.trim();
            v.parse::<f64>().ok().or_else(|| {
                let at = httpdate::parse_http_date(v).ok()?;
                let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                Some(wait.as_secs_f64())
            })
        })?;
    let delay = Duration::try_from_secs_f64(requested).ok()?;
    (delay < MAX_SERVER_DELAY).then_some(delay)
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based), preferring the server's word.
    pub fn delay(&self, retry: u32, server: Option<Duration>) -> Duration {
        server.unwrap_or_else(|| {
            let base = (INITIAL_DELAY * 2f64.powi(retry as i32)).min(MAX_DELAY);
            let jitter = 1.0 - fastrand::f64() * 0.25;
            Duration::from_secs_f64(base * jitter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn retryable_statuses_match_the_sdk() {
        let none = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(status_is_retryable(s, &none), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!status_is_retryable(s, &none), "{s}");
        }
        assert!(!status_is_retryable(
            503,
            &headers(&[("x-should-retry", "false")])
        ));
        assert!(status_is_retryable(
            400,
            &headers(&[("x-should-retry", "true")])
        ));
    }

    #[test]
    fn server_delay_reads_all_three_spellings() {
        assert_eq!(
            server_delay(&headers(&[("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            server_delay(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
        let d = server_delay(&headers(&[("retry-after", &soon)])).unwrap();
        assert!(
            d <= Duration::from_secs(5) && d >= Duration::from_secs(3),
            "{d:?}"
        );
        assert_eq!(server_delay(&headers(&[("retry-after", "600")])), None);
        assert_eq!(server_delay(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(server_delay(&headers(&[("retry-after-ms", "-5")])), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for retry in 0..8 {
            let base = (0.5 * 2f64.powi(retry as i32)).min(8.0);
            let d = p.delay(retry, None).as_secs_f64();
            assert!(d <= base && d >= base * 0.75, "retry {retry}: {d}");
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(7))),
            Duration::from_millis(7)
        );
    }
}
