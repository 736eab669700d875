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
    /// The shared state (Redis) did not answer: this call used this process's state alone.
    StateUnavailable { backend: &'static str },
    /// No deployment of the group could take the call now.
    RateLimited {
        group: String,
        retry_after_ms: Option<u64>,
    },
    /// A governance rule's decision: on the model group asked for (or a fallback), or on the
    /// deployments a residency rule lets a call reach. Names the rule, never a key.
    Policy {
        decision: Decision,
        rule: String,
        group: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        deployment: Option<String>,
    },
    /// A budget checked at admission: `spent_usd` was booked before this call, which may cost
    /// up to `estimate_usd`.
    Budget {
        budget: String,
        spent_usd: f64,
        limit_usd: f64,
        estimate_usd: f64,
        decision: Decision,
    },
}

/// What a governance rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    Denied,
}

/// An event with the wall-clock time it happened, in ms since the Unix epoch (µs precision), so
/// traces can place each attempt on the call's timeline after the fact.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamped {
    #[serde(flatten)]
    pub event: RouterEvent,
    pub at_ms: f64,
}

/// A call's events in the order they happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct EventLog(Vec<Stamped>);

impl EventLog {
    pub fn push(&mut self, event: RouterEvent) {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_micros() as f64 / 1000.0);
        self.0.push(Stamped { event, at_ms });
    }

    pub fn append(&mut self, other: &mut EventLog) {
        self.0.append(&mut other.0);
    }

    pub fn iter(&self) -> impl Iterator<Item = &RouterEvent> {
        self.0.iter().map(|s| &s.event)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
