//! LiteLLM's Router, in process: model groups of deployments, picked by a strategy, with
//! retries, fallbacks, cooldowns and one deadline over all of it. Streams are peeked before they
//! are handed over, so a stream that fails before its first chunk fails over unseen.

mod attempt;
mod body;
pub mod build;
pub mod cache;
mod calls;
pub mod config;
pub mod deployment;
pub mod events;
mod gate;
pub mod governance;
pub mod policy;
pub mod redis;
pub mod spend;
pub mod state;
pub mod stats;
pub mod strategy;
pub mod stream;
mod window;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use self::body::with_model;
use self::deployment::{Deployment, Pricing};
use self::events::{EventLog, RouterEvent};
use self::gate::CallGov;
use self::governance::{CallerKey, Governance};
use self::policy::{Backoff, CooldownRules, ErrorClass, FallbackTable, RetryRules};
use self::state::{now_ms, Admission, Admitted, RouterState, WINDOW_MS};
use self::stats::{Counters, Outcome};
use self::strategy::{Candidates, Lineup};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::usage::{builtin_price, Price, Usage};

pub use self::stream::RoutedStream;

/// A model group: an alias with its deployments and the way it picks among them.
pub struct Group {
    pub name: String,
    pub lineup: Lineup,
    pub num_retries: u32,
    pub counters: Counters,
    /// The group's own limits across all its deployments (`router_settings.model_rpm_limit` /
    /// `model_tpm_limit`), counted in its state slot.
    pub limits: Limits,
    pub slot: usize,
}

/// Requests and tokens a minute that a deployment or a group may take.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

impl Limits {
    fn any(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some()
    }

    fn admits(&self, (requests, tokens): (u64, u64)) -> bool {
        self.rpm.is_none_or(|rpm| requests < rpm) && self.tpm.is_none_or(|tpm| tokens < tpm)
    }

    /// Share of the limits left this minute: 1 without limits, 0 at a limit.
    fn headroom(&self, (requests, tokens): (u64, u64)) -> f64 {
        let left = |limit: Option<u64>, used: u64| {
            limit.map_or(1.0, |l| (l.saturating_sub(used)) as f64 / l.max(1) as f64)
        };
        left(self.rpm, requests).min(left(self.tpm, tokens))
    }
}

/// Router-wide settings, from `router_settings` and `litellm_settings`.
pub struct Settings {
    pub retry: RetryRules,
    pub cooldown: CooldownRules,
    pub backoff: Backoff,
    /// The whole call, every retry, backoff and fallback included.
    pub deadline: Option<Duration>,
    pub stream_timeout: Option<Duration>,
    /// Wait for a cooling deployment (within the deadline) instead of failing at once.
    pub wait_for_cooldown: bool,
    /// How long answers stay in the response cache; `None`: no cache.
    pub cache_ttl: Option<Duration>,
    /// Hedged requests, when on.
    pub hedge: Option<HedgeDelay>,
    /// LiteLLM's `enable_pre_call_checks`: deployments too small for the prompt are skipped.
    pub pre_call_checks: bool,
}

/// When a hedged request starts its second deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeDelay {
    Fixed(Duration),
    /// The first deployment's own 95th-percentile latency (time to first token for streams).
    P95,
}

pub struct Router {
    pub(crate) deployments: Vec<Deployment>,
    pub(crate) counters: Vec<Counters>,
    pub(crate) groups: HashMap<String, Group>,
    /// Wildcard groups (`openai/*`) by name, most specific (longest prefix) first.
    pub(crate) wildcards: Vec<String>,
    pub(crate) tasks: HashMap<String, String>,
    pub(crate) fallbacks: FallbackTable,
    pub(crate) settings: Settings,
    pub(crate) state: Arc<dyn RouterState>,
    /// Model rules, residency and budgets (`governance`, `provider_budget_config`).
    pub(crate) governance: Option<Governance>,
    /// Config keys present but not acted on.
    pub warnings: Vec<String>,
}

/// A routed call's result with everything the caller should know about how it was served.
pub struct Routed<T> {
    pub result: Result<T, Error>,
    pub events: EventLog,
    /// The deployment that answered.
    pub deployment: Option<String>,
    pub usage: Option<Usage>,
    pub cost: Option<f64>,
}

impl<T> Routed<T> {
    /// The result apart from how it was served.
    pub fn split(self) -> (Result<T, Error>, Routed<()>) {
        let Self {
            result,
            events,
            deployment,
            usage,
            cost,
        } = self;
        let served = Routed {
            result: Ok(()),
            events,
            deployment,
            usage,
            cost,
        };
        (result, served)
    }

    /// An answer from the response cache: no deployment was called, nothing was spent.
    fn from_cache(value: T, usage: Option<Usage>, mut events: EventLog, group: String) -> Self {
        events.push(RouterEvent::CacheHit { group });
        Self {
            result: Ok(value),
            events,
            deployment: Some(CACHE.into()),
            usage,
            cost: usage.map(|_| 0.0),
        }
    }

    fn failed(err: Error, events: EventLog) -> Self {
        Self {
            result: Err(err),
            events,
            deployment: None,
            usage: None,
            cost: None,
        }
    }
}

/// The `deployment` of an answer served from the response cache.
pub const CACHE: &str = "cache";

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Overrides the router's deadline for this call.
    pub deadline: Option<Duration>,
    /// LiteLLM's `no-cache`: do not answer from the cache.
    pub no_cache: bool,
    /// LiteLLM's `no-store`: do not cache the answer.
    pub no_store: bool,
    /// Who the call is for: an app-level caller id (never a provider credential), hashed.
    pub key: Option<CallerKey>,
    /// Labels governance rules select calls by (`pii`, `free-tier`).
    pub tags: Vec<String>,
    /// The run (an agent's, say) the call belongs to, for `max_cost_per_run`.
    pub run_id: Option<String>,
}

/// What `pattern`'s `*` matches in `name`, if it matches.
fn wildcard_match<'n>(pattern: &str, name: &'n str) -> Option<&'n str> {
    let (prefix, suffix) = pattern.split_once('*')?;
    name.strip_prefix(prefix)?
        .strip_suffix(suffix)
        .filter(|m| !m.is_empty())
}

/// A 429-like failure of the router itself: every deployment is cooling or at its limit.
fn unavailable(group: &str, retry_after: Option<Duration>) -> Error {
    let message = match retry_after {
        Some(wait) => format!(
            "No deployments available for model group {group:?}: all are cooling down or at their rate limit; the first is available again in {} ms",
            wait.as_millis()
        ),
        None => format!("No deployments available for model group {group:?}"),
    };
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({
            "error": { "message": message, "type": "no_deployments_available", "code": "rate_limited" }
        })),
        kind: ErrorKind::RateLimited,
        retryable: true,
        retry_after,
    }))
}

fn deadline_passed(deadline: Duration, attempts: u32) -> Error {
    Error::Timeout {
        phase: if attempts <= 1 {
            "the router's deadline, before any deployment answered"
        } else {
            "the router's deadline, over every retry and fallback"
        },
        after: deadline,
    }
}

/// One call's bookkeeping across groups, retries and fallbacks.
struct Call {
    /// The prompt's size estimate for pre-call checks (0 when they are off).
    prompt_tokens: u64,
    deadline: Option<(Instant, Duration)>,
    events: EventLog,
    attempts: u32,
    stream: bool,
    /// What a wildcard group's `*` matched in the model name asked for.
    matched: Option<String>,
    /// The cache key the first attempt looks up, taken once it has.
    cache_key: Option<String>,
    /// Whether the call already said the shared state was unavailable.
    degraded: bool,
    /// Rules, residency and budgets; `None` when the router has no governance.
    gov: Option<CallGov>,
}

/// Who answered a call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Served {
    Deployment(usize),
    Cache,
}

impl Call {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }
}

impl Router {
    /// The model group a name or task type stands for, with what a wildcard group's `*`
    /// matched (`openai/*` asked for `openai/gpt-4o` matches `gpt-4o`).
    pub fn group_for<'n>(&self, name: &'n str) -> Result<(&Group, Option<&'n str>), Error> {
        if let Some(g) = self.groups.get(name) {
            return Ok((g, None));
        }
        if let Some(g) = self.tasks.get(name).and_then(|g| self.groups.get(g)) {
            return Ok((g, None));
        }
        for pattern in &self.wildcards {
            if let Some(matched) = wildcard_match(pattern, name) {
                return Ok((&self.groups[pattern], Some(matched)));
            }
        }
        let mut known: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        known.sort_unstable();
        Err(Error::InvalidInput(format!(
            "no model group {name:?} in the router (groups: {})",
            known.join(", ")
        )))
    }

    /// Whether deployment `d` may take a call now: not cooling, and under its rpm and tpm.
    fn available(&self, d: usize, now: u64) -> bool {
        if self.state.cooling_until(d, now).is_some() {
            return false;
        }
        let limits = &self.deployments[d].limits;
        !limits.any() || limits.admits(self.state.usage(d, now))
    }

    /// Whether `group` as a whole is under its own rpm and tpm.
    fn group_available(&self, group: &Group, now: u64) -> bool {
        !group.limits.any() || group.limits.admits(self.state.usage(group.slot, now))
    }

    /// Share of `d`'s rpm/tpm left this minute.
    fn headroom(&self, d: usize, now: u64) -> f64 {
        self.deployments[d]
            .limits
            .headroom(self.state.usage(d, now))
    }

    /// Ask the state to send `call` to `d`: count it against `d`, its group and the caller's
    /// rate limits, and hold `spend` against its budgets, or answer from the cache when
    /// `cache_key` holds the answer. One round trip to shared state.
    async fn admit(
        &self,
        group: &Group,
        d: usize,
        cache_key: Option<&str>,
        spend: Option<&gate::Spend>,
        call: &Call,
    ) -> Admitted {
        let reserve = [
            (d, self.deployments[d].limits.rpm),
            (group.slot, group.limits.rpm),
        ];
        let slots = if group.limits.any() {
            &reserve[..]
        } else {
            &reserve[..1]
        };
        let (budgets, estimate_usd) =
            spend.map_or((&[][..], 0.0), |s| (s.budgets(), s.estimate_usd()));
        self.state
            .admit(Admission {
                cache_key,
                reserve: slots,
                budgets,
                estimate_usd,
                limits: call.gov.as_ref().map_or(&[][..], |g| g.limits()),
                now: now_ms(),
            })
            .await
    }

    /// The deployment for the next attempt: an untried one if any is available, else a tried
    /// one (a single deployment retries itself).
    fn pick(&self, group: &Group, tried: &[usize], stream: bool) -> Option<usize> {
        self.pick_for(group, tried, stream, 0, &|_| true)
    }

    /// [`Self::pick`] for `call`: its prompt size (with pre-call checks on) and governance.
    fn pick_in(&self, group: &Group, tried: &[usize], call: &Call) -> Option<usize> {
        let permits = |d: usize| self.permits(call, d);
        self.pick_for(group, tried, call.stream, call.prompt_tokens, &permits)
    }

    /// [`Self::pick`] for a prompt of about `prompt_tokens`, among the deployments `permits`.
    fn pick_for(
        &self,
        group: &Group,
        tried: &[usize],
        stream: bool,
        prompt_tokens: u64,
        permits: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let now = now_ms();
        if !self.group_available(group, now) {
            return None;
        }
        let headroom = |d: usize| self.headroom(d, now);
        let fits = |d: usize| {
            self.deployments[d]
                .context_window
                .is_none_or(|w| prompt_tokens <= w)
                && permits(d)
        };
        let fresh = |d: usize| !tried.contains(&d) && fits(d) && self.available(d, now);
        let any = |d: usize| fits(d) && self.available(d, now);
        let pick = |usable: &dyn Fn(usize) -> bool| {
            group.lineup.pick(&Candidates {
                deployments: &self.deployments,
                usable,
                headroom: &headroom,
                stream,
            })
        };
        pick(&fresh).or_else(|| pick(&any))
    }

    /// The deployment the next call to `name` would go to now, by the group's strategy.
    pub fn next_deployment(&self, name: &str) -> Result<Option<&str>, Error> {
        let (group, _) = self.group_for(name)?;
        Ok(self
            .pick(group, &[], false)
            .map(|d| self.deployments[d].id.as_str()))
    }

    /// When the first of `group`'s deployments can take traffic again (the group's own limit
    /// included: at it, the window's end).
    fn next_available(&self, group: &Group) -> Option<Duration> {
        let now = now_ms();
        let window_end = (now / WINDOW_MS + 1) * WINDOW_MS;
        let first = if self.group_available(group, now) {
            group
                .lineup
                .members()
                .iter()
                .map(|&d| self.state.cooling_until(d, now).unwrap_or(window_end))
                .min()?
        } else {
            window_end
        };
        Some(Duration::from_millis(first.saturating_sub(now)))
    }

    fn on_failure(&self, d: usize, err: &Error, call: &mut Call) {
        self.on_failure_quiet(d, err, &mut call.events);
    }

    /// Count a failure of `d` and cool it down when the policy says so.
    fn on_failure_quiet(&self, d: usize, err: &Error, events: &mut EventLog) {
        let class = ErrorClass::of(err);
        if !self.settings.cooldown.counts(class) {
            return;
        }
        let now = now_ms();
        let failures = self.state.record_failure(d, now);
        if self.settings.cooldown.cools(class, failures) {
            // The server's Retry-After, when it gave one, says how long better than our default.
            let wait = err
                .upstream()
                .and_then(|u| u.retry_after)
                .unwrap_or(self.settings.cooldown.cooldown);
            let until = self.state.cool_down(d, now + wait.as_millis() as u64);
            let dep = &self.deployments[d];
            tracing::debug!(deployment = %dep.id, until, "cooling down");
            events.push(RouterEvent::Cooldown {
                group: dep.group.clone(),
                deployment: dep.id.clone(),
                until_ms: until,
                error_kind: err.kind().as_str(),
            });
        }
    }

    /// Count one attempt on deployment `d`.
    fn record(&self, d: usize, outcome: &Outcome) {
        self.counters[d].record(outcome);
        self.state.record_outcome(d, outcome);
        let tokens = outcome.usage.map_or(0, |u| u.total_tokens);
        if tokens > 0 {
            let now = now_ms();
            self.state.record_tokens(d, tokens, now);
            if let Some(g) = self.groups.get(&self.deployments[d].group) {
                self.state.record_tokens(g.slot, tokens, now);
            }
        }
    }

    /// The cost of `usage` on `d` serving `model` (its own price, else the model's list price).
    pub(crate) fn cost(&self, d: usize, model: &str, usage: &Usage) -> Option<f64> {
        self.price_of(d, model).map(|p| p.cost(usage))
    }

    /// Deployment `d`'s price: its own, free for local servers, else the list price of `model`.
    pub(crate) fn price_of(&self, d: usize, model: &str) -> Option<Price> {
        match self.deployments[d].pricing {
            Pricing::Fixed(price) => price,
            Pricing::PerModel => builtin_price(model),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_what_the_star_stands_for() {
        assert_eq!(wildcard_match("openai/*", "openai/gpt-4o"), Some("gpt-4o"));
        assert_eq!(
            wildcard_match("openai/*", "openai/"),
            None,
            "an empty match"
        );
        assert_eq!(wildcard_match("openai/*", "anthropic/x"), None);
        assert_eq!(
            wildcard_match("claude-*-latest", "claude-3-5-latest"),
            Some("3-5")
        );
        assert_eq!(wildcard_match("*", "anything"), Some("anything"));
    }
}
