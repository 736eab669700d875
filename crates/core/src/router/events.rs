//! What the router did for a call, as typed events: they travel back with the call's result,
//! so observing them never costs a callback per decision.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum RouterEvent {
    /// An attempt was sent to a deployment.
    Request {
        group: String,
        deployment: String,
        provider: String,
        model: String,
        /// 0 for the first try in the group, then 1, 2, … for retries.
        attempt: u32,
    },
    /// An attempt failed and the group tries again after `delay_ms`.
    Retry {
        group: String,
        deployment: String,
        attempt: u32,
        error_kind: &'static str,
        delay_ms: u64,
    },
    /// The group failed; the call moves to a fallback group.
    Fallback {
        from: String,
        to: String,
        error_kind: &'static str,
    },
    /// A deployment cools down until `until_ms` (ms since the epoch).
    Cooldown {
        group: String,
        deployment: String,
        until_ms: u64,
        error_kind: &'static str,
    },
    /// `deployment` had not answered after `after_ms`: `hedge` was started beside it.
    Hedge {
        group: String,
        deployment: String,
        hedge: String,
        after_ms: u64,
    },
    /// The answer came from the response cache; no deployment was called.
    CacheHit { group: String },
    /// No deployment of the group could take the call now.
    RateLimited {
        group: String,
        retry_after_ms: Option<u64>,
    },
}
