//! LiteLLM's Router, in process: model groups of deployments, picked by a strategy, with
//! retries, fallbacks, cooldowns and one deadline over all of it. Streams are peeked before they
//! are handed over, so a stream that fails before its first chunk fails over unseen.

pub mod build;
pub mod cache;
pub mod config;
pub mod deployment;
pub mod events;
pub mod policy;
pub mod state;
pub mod stats;
pub mod strategy;
pub mod stream;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use tracing::Instrument;

use self::cache::Cached;
use self::deployment::{Deployment, InFlight};
use self::events::RouterEvent;
use self::policy::{Backoff, CooldownRules, ErrorClass, FallbackKind, FallbackTable, RetryRules};
use self::state::{now_ms, RouterState, WINDOW_MS};
use self::stats::{Counters, Outcome, StatsSnapshot};
use self::strategy::{Candidates, Lineup};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::Completion;
use crate::usage::{builtin_price, provider_is_free, Price, Usage};

pub use self::stream::RoutedStream;

/// A model group: an alias with its deployments and the way it picks among them.
pub struct Group {
    pub name: String,
    pub lineup: Lineup,
    pub num_retries: u32,
    pub counters: Counters,
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
    pub(crate) tasks: HashMap<String, String>,
    pub(crate) fallbacks: FallbackTable,
    pub(crate) settings: Settings,
    pub(crate) state: Arc<dyn RouterState>,
    /// Config keys present but not acted on.
    pub warnings: Vec<String>,
}

/// A routed call's result with everything the caller should know about how it was served.
pub struct Routed<T> {
    pub result: Result<T, Error>,
    pub events: Vec<RouterEvent>,
    /// The deployment that answered.
    pub deployment: Option<String>,
    pub usage: Option<Usage>,
    pub cost: Option<f64>,
}

impl<T> Routed<T> {
    /// An answer from the response cache: no deployment was called, nothing was spent.
    fn from_cache(
        value: T,
        usage: Option<Usage>,
        mut events: Vec<RouterEvent>,
        group: String,
    ) -> Self {
        events.push(RouterEvent::CacheHit { group });
        Self {
            result: Ok(value),
            events,
            deployment: Some(CACHE.into()),
            usage,
            cost: usage.map(|_| 0.0),
        }
    }

    fn failed(err: Error, events: Vec<RouterEvent>) -> Self {
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
}

/// The request body with the deployment's model in place of the group's: a leading `model`
/// member (as JS writes it) is dropped and the deployment's goes first.
fn with_model(body: &[u8], model: &str) -> Bytes {
    let rest = body.trim_ascii_start();
    let mut rest = rest.strip_prefix(b"{").unwrap_or(rest).trim_ascii_start();
    if let Some(after) = rest.strip_prefix(b"\"model\"") {
        let after = after.trim_ascii_start();
        if let Some(value) = after.strip_prefix(b":") {
            let mut values =
                serde_json::Deserializer::from_slice(value).into_iter::<serde::de::IgnoredAny>();
            if values.next().is_some_and(|v| v.is_ok()) {
                let tail = value[values.byte_offset()..].trim_ascii_start();
                rest = tail.strip_prefix(b",").unwrap_or(tail).trim_ascii_start();
            }
        }
    }
    let mut out = Vec::with_capacity(rest.len() + model.len() + 16);
    out.extend_from_slice(b"{\"model\":");
    out.extend_from_slice(json!(model).to_string().as_bytes());
    if rest != b"}" {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
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

/// One attempt of a call on one deployment.
trait Attempt<T> {
    fn run(&self, d: usize) -> impl std::future::Future<Output = Result<T, Error>> + Send;
}

struct CompleteAttempt<'a> {
    router: &'a Router,
    body: &'a [u8],
}

impl Attempt<Completion> for CompleteAttempt<'_> {
    async fn run(&self, d: usize) -> Result<Completion, Error> {
        let router = self.router;
        let dep = &router.deployments[d];
        let started = Instant::now();
        let result = dep.client.complete(with_model(self.body, &dep.model)).await;
        let latency = started.elapsed();
        let usage = result.as_ref().ok().and_then(|c| c.usage);
        if result.is_ok() {
            dep.metrics.record_latency(latency);
        }
        router.record(
            d,
            &Outcome {
                ok: result.is_ok(),
                usage,
                cost: usage.as_ref().and_then(|u| router.cost(d, u)),
                latency: result.is_ok().then_some(latency),
                ttft: None,
            },
        );
        result
    }
}

struct EmbedAttempt<'a> {
    router: &'a Router,
    body: &'a [u8],
}

impl Attempt<String> for EmbedAttempt<'_> {
    async fn run(&self, d: usize) -> Result<String, Error> {
        let router = self.router;
        let dep = &router.deployments[d];
        let started = Instant::now();
        let result = dep.client.embed(with_model(self.body, &dep.model)).await;
        router.record(
            d,
            &Outcome {
                ok: result.is_ok(),
                usage: None,
                cost: None,
                latency: result.is_ok().then(|| started.elapsed()),
                ttft: None,
            },
        );
        result
    }
}

struct StreamAttempt<'a> {
    router: &'a Arc<Router>,
    body: &'a [u8],
    cache_key: Option<&'a str>,
}

impl Attempt<RoutedStream> for StreamAttempt<'_> {
    async fn run(&self, d: usize) -> Result<RoutedStream, Error> {
        let body = with_model(self.body, &self.router.deployments[d].model);
        let slot = self.cache_key.map(str::to_string);
        RoutedStream::open(self.router.clone(), d, body, slot).await
    }
}

/// One call's bookkeeping across groups, retries and fallbacks.
struct Call {
    /// The prompt's size estimate for pre-call checks (0 when they are off).
    prompt_tokens: u64,
    deadline: Option<(Instant, Duration)>,
    events: Vec<RouterEvent>,
    attempts: u32,
    stream: bool,
}

impl Call {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }
}

impl Router {
    /// The model group a name or task type stands for.
    pub fn group_for(&self, name: &str) -> Result<&Group, Error> {
        if let Some(g) = self.groups.get(name) {
            return Ok(g);
        }
        if let Some(g) = self.tasks.get(name).and_then(|g| self.groups.get(g)) {
            return Ok(g);
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
        let dep = &self.deployments[d];
        if dep.rpm.is_none() && dep.tpm.is_none() {
            return true;
        }
        let (requests, tokens) = self.state.usage(d, now);
        dep.rpm.is_none_or(|rpm| requests < rpm) && dep.tpm.is_none_or(|tpm| tokens < tpm)
    }

    /// Share of `d`'s rpm/tpm left this minute.
    fn headroom(&self, d: usize, now: u64) -> f64 {
        let dep = &self.deployments[d];
        let (requests, tokens) = self.state.usage(d, now);
        let left = |limit: Option<u64>, used: u64| {
            limit.map_or(1.0, |l| (l.saturating_sub(used)) as f64 / l.max(1) as f64)
        };
        left(dep.rpm, requests).min(left(dep.tpm, tokens))
    }

    /// The deployment for the next attempt: an untried one if any is available, else a tried
    /// one (a single deployment retries itself).
    fn pick(&self, group: &Group, tried: &[usize], stream: bool) -> Option<usize> {
        self.pick_for(group, tried, stream, 0)
    }

    /// [`Self::pick`] for a prompt of about `prompt_tokens`, with pre-call checks on.
    fn pick_for(
        &self,
        group: &Group,
        tried: &[usize],
        stream: bool,
        prompt_tokens: u64,
    ) -> Option<usize> {
        let now = now_ms();
        let headroom = |d: usize| self.headroom(d, now);
        let fits = |d: usize| {
            self.deployments[d]
                .context_window
                .is_none_or(|w| prompt_tokens <= w)
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
        let group = self.group_for(name)?;
        Ok(self
            .pick(group, &[], false)
            .map(|d| self.deployments[d].id.as_str()))
    }

    /// When the first of `group`'s deployments can take traffic again.
    fn next_available(&self, group: &Group) -> Option<Duration> {
        let now = now_ms();
        group
            .lineup
            .members()
            .iter()
            .map(|&d| {
                self.state.cooling_until(d, now).unwrap_or_else(|| {
                    // At its rate limit: the window's end.
                    (now / WINDOW_MS + 1) * WINDOW_MS
                })
            })
            .min()
            .map(|at| Duration::from_millis(at.saturating_sub(now)))
    }

    fn on_failure(&self, d: usize, err: &Error, call: &mut Call) {
        self.on_failure_quiet(d, err, &mut call.events);
    }

    /// Count a failure of `d` and cool it down when the policy says so.
    fn on_failure_quiet(&self, d: usize, err: &Error, events: &mut Vec<RouterEvent>) {
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
        let tokens = outcome.usage.map_or(0, |u| u.total_tokens);
        self.state.record_tokens(d, tokens, now_ms());
    }

    /// The cost of `usage` at `d`'s price (its own, else the list price of its model).
    pub(crate) fn cost(&self, d: usize, usage: &Usage) -> Option<f64> {
        self.price_of(d).map(|p| p.cost(usage))
    }

    /// Deployment `d`'s price: its own, free for local servers, else its model's list price.
    pub(crate) fn price_of(&self, d: usize) -> Option<Price> {
        let dep = &self.deployments[d];
        match dep.price {
            Some(p) => Some(p),
            None if provider_is_free(&dep.provider) => Some(Price::FREE),
            None => builtin_price(&dep.model),
        }
    }

    /// Try `group` with its retries; `attempt(d, timeout)` runs one attempt on deployment `d`.
    async fn try_group<T>(
        &self,
        group: &Group,
        call: &mut Call,
        attempt: &impl Attempt<T>,
    ) -> Result<(T, usize), Error> {
        let mut tried: Vec<usize> = Vec::new();
        let mut retry = 0u32;
        loop {
            let Some(d) = self.pick_for(group, &tried, call.stream, call.prompt_tokens) else {
                let wait = self.next_available(group);
                call.events.push(RouterEvent::RateLimited {
                    group: group.name.clone(),
                    retry_after_ms: wait.map(|w| w.as_millis() as u64),
                });
                match (self.settings.wait_for_cooldown, wait, call.remaining()) {
                    (true, Some(wait), remaining) if remaining.is_none_or(|r| wait < r) => {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    _ => return Err(unavailable(&group.name, wait)),
                }
            };
            let dep = &self.deployments[d];
            // Counted as it is sent: a deployment filled by a concurrent call is skipped.
            if !self.state.try_reserve(d, dep.rpm, now_ms()) {
                continue;
            }
            call.attempts += 1;
            call.events.push(RouterEvent::Request {
                group: group.name.clone(),
                deployment: dep.id.clone(),
                provider: dep.provider.clone(),
                model: dep.model.clone(),
                attempt: retry,
            });
            let mut hedges = Vec::new();
            let (result, d) = {
                let span = tracing::debug_span!("router.attempt", deployment = %dep.id, retry);
                let hedged = self
                    .hedged(group, d, &tried, call.stream, attempt, &mut hedges)
                    .instrument(span);
                match call.remaining() {
                    Some(r) => match tokio::time::timeout(r, hedged).await {
                        Ok(out) => out,
                        Err(_) => (
                            Err(deadline_passed(
                                call.deadline.map_or(r, |(_, d)| d),
                                call.attempts,
                            )),
                            d,
                        ),
                    },
                    None => hedged.await,
                }
            };
            call.events.append(&mut hedges);
            let dep = &self.deployments[d];
            let err = match result {
                Ok(value) => return Ok((value, d)),
                Err(err) => err,
            };
            let class = ErrorClass::of(&err);
            if class == ErrorClass::Caller {
                return Err(err);
            }
            self.on_failure(d, &err, call);
            if !tried.contains(&d) {
                tried.push(d);
            }
            if call.remaining().is_some_and(|r| r.is_zero()) {
                return Err(err);
            }
            let next = self.pick(group, &tried, call.stream);
            // An untried deployment of a later `order` takes the call whatever the retries
            // left: order tiers fail over within the call, as in LiteLLM.
            let next_tier =
                next.filter(|&n| !tried.contains(&n) && self.deployments[n].order > dep.order);
            let tier_failover = next_tier.is_some()
                && !matches!(
                    class,
                    ErrorClass::ContextWindowExceeded | ErrorClass::ContentPolicyViolation
                );
            let others = group.lineup.members().len() > 1;
            let num_retries = dep.max_retries.unwrap_or(group.num_retries);
            let allowed = self.settings.retry.retries_for(class, num_retries, others);
            if retry >= allowed && !tier_failover {
                return Err(err);
            }
            // LiteLLM retries at once when another deployment is healthy; else it backs off.
            let delay = match next {
                Some(n) if n != d => Duration::ZERO,
                _ => self
                    .settings
                    .backoff
                    .delay(retry, err.upstream().and_then(|u| u.retry_after)),
            };
            // Nothing would be available after the backoff either: the upstream's error is the
            // answer now, not the router's after a useless wait.
            let cooling_past = next.is_none()
                && !self.settings.wait_for_cooldown
                && self.next_available(group).is_some_and(|w| w > delay);
            if cooling_past || call.remaining().is_some_and(|r| delay >= r) {
                return Err(err);
            }
            call.events.push(RouterEvent::Retry {
                group: group.name.clone(),
                deployment: dep.id.clone(),
                attempt: retry + 1,
                error_kind: err.kind().as_str(),
                delay_ms: delay.as_millis() as u64,
            });
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !tier_failover || retry < allowed {
                retry += 1;
            }
        }
    }

    /// One attempt on `d`; with hedging on, a second deployment starts when `d` has not
    /// answered within the hedge delay, the first answer wins and the other is cancelled.
    /// Returns the outcome and the deployment it is from.
    async fn hedged<T>(
        &self,
        group: &Group,
        d: usize,
        tried: &[usize],
        stream: bool,
        attempt: &impl Attempt<T>,
        events: &mut Vec<RouterEvent>,
    ) -> (Result<T, Error>, usize) {
        let _slot = InFlight::start(&self.deployments[d].metrics);
        let first = attempt.run(d);
        tokio::pin!(first);
        let Some(delay) = self.hedge_delay(d, stream) else {
            return (first.await, d);
        };
        tokio::select! {
            out = &mut first => return (out, d),
            _ = tokio::time::sleep(delay) => {}
        }
        let mut skip = tried.to_vec();
        skip.push(d);
        let hedge = self
            .pick(group, &skip, stream)
            .filter(|&h| h != d && self.state.try_reserve(h, self.deployments[h].rpm, now_ms()));
        let Some(h) = hedge else {
            return (first.await, d);
        };
        events.push(RouterEvent::Hedge {
            group: group.name.clone(),
            deployment: self.deployments[d].id.clone(),
            hedge: self.deployments[h].id.clone(),
            after_ms: delay.as_millis() as u64,
        });
        let _second_slot = InFlight::start(&self.deployments[h].metrics);
        let second = attempt.run(h);
        tokio::pin!(second);
        // The first to succeed wins; a failure waits for the other. The loser is dropped, which
        // cancels its request.
        tokio::select! {
            out = &mut first => match out {
                Ok(v) => (Ok(v), d),
                Err(e) => {
                    self.on_failure_quiet(d, &e, events);
                    (second.await, h)
                }
            },
            out = &mut second => match out {
                Ok(v) => (Ok(v), h),
                Err(e) => {
                    self.on_failure_quiet(h, &e, events);
                    (first.await, d)
                }
            },
        }
    }

    /// The hedge delay for an attempt on `d`: fixed, or `d`'s own p95 once it has one.
    fn hedge_delay(&self, d: usize, stream: bool) -> Option<Duration> {
        match self.settings.hedge? {
            HedgeDelay::Fixed(delay) => Some(delay),
            HedgeDelay::P95 => {
                let counters = &self.counters[d];
                let histogram = if stream {
                    &counters.ttft
                } else {
                    &counters.latency
                };
                histogram
                    .quantile_ms(0.95)
                    .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            }
        }
    }

    /// Run a call through `name`'s group, then its fallbacks. When everything fails, the
    /// original group's error is the answer, as in LiteLLM.
    async fn run<T>(
        &self,
        name: &str,
        call: &mut Call,
        attempt: impl Attempt<T>,
    ) -> Result<(T, usize), Error> {
        let first = self.group_for(name)?;
        let original = match self.try_group(first, call, &attempt).await {
            Ok(out) => return Ok(out),
            Err(err) => err,
        };
        let Some(kind) = FallbackKind::of(ErrorClass::of(&original)) else {
            return Err(original);
        };
        for next in self.fallbacks.for_group(&first.name, kind) {
            if call.remaining().is_some_and(|r| r.is_zero()) {
                break;
            }
            let Ok(group) = self.group_for(next) else {
                continue; // checked when the router was built
            };
            call.events.push(RouterEvent::Fallback {
                from: first.name.clone(),
                to: group.name.clone(),
                error_kind: original.kind().as_str(),
            });
            if let Ok(out) = self.try_group(group, call, &attempt).await {
                return Ok(out);
            }
        }
        Err(original)
    }

    fn new_call(&self, options: &CallOptions, stream: bool, body: &[u8]) -> Call {
        let started = Instant::now();
        Call {
            // About four bytes of JSON a token: an upper bound for the check, never a count.
            prompt_tokens: if self.settings.pre_call_checks {
                body.len() as u64 / 4
            } else {
                0
            },
            deadline: options
                .deadline
                .or(self.settings.deadline)
                .map(|d| (started + d, d)),
            events: Vec::new(),
            attempts: 0,
            stream,
        }
    }

    /// The cache key of a call, when the cache is on and the call reads or writes it.
    fn cache_key(
        &self,
        group: &str,
        stream: bool,
        body: &[u8],
        options: &CallOptions,
    ) -> Option<String> {
        self.settings.cache_ttl?;
        if options.no_cache && options.no_store {
            return None;
        }
        cache::cache_key(group, stream, body)
    }

    fn cached(&self, key: Option<&String>, options: &CallOptions) -> Option<Arc<Cached>> {
        if options.no_cache {
            return None;
        }
        self.state.cache_get(key?, now_ms())
    }

    /// Count one call on the group that served it (or was asked, when none did).
    fn record_call(&self, group: &str, outcome: &Outcome) {
        if let Some(g) = self.groups.get(group) {
            g.counters.record(outcome);
        }
    }

    /// One chat completion through `name` (a model group or a task type). `body` is the
    /// canonical request JSON; its `model` is replaced by each deployment's.
    pub async fn complete(
        &self,
        name: &str,
        body: &[u8],
        options: &CallOptions,
    ) -> Routed<Completion> {
        let mut call = self.new_call(options, false, body);
        let group = match self.group_for(name) {
            Ok(g) => g.name.clone(),
            Err(err) => return Routed::failed(err, call.events),
        };
        let key = self.cache_key(&group, false, body, options);
        if let Some(hit) = self.cached(key.as_ref(), options) {
            if let Cached::Completion { json, usage } = &*hit {
                let completion = Completion {
                    json: json.clone(),
                    usage: *usage,
                };
                return Routed::from_cache(completion, *usage, call.events, group);
            }
        }
        let started = Instant::now();
        let outcome = self
            .run(name, &mut call, CompleteAttempt { router: self, body })
            .instrument(tracing::info_span!("router.complete", group = %group))
            .await;
        match outcome {
            Ok((completion, d)) => {
                let cost = completion.usage.as_ref().and_then(|u| self.cost(d, u));
                self.record_call(
                    &self.deployments[d].group,
                    &Outcome {
                        ok: true,
                        usage: completion.usage,
                        cost,
                        latency: Some(started.elapsed()),
                        ttft: None,
                    },
                );
                if let (Some(key), Some(ttl), false) =
                    (key, self.settings.cache_ttl, options.no_store)
                {
                    let value = Arc::new(Cached::Completion {
                        json: completion.json.clone(),
                        usage: completion.usage,
                    });
                    self.state
                        .cache_put(key, value, now_ms() + ttl.as_millis() as u64);
                }
                Routed {
                    usage: completion.usage,
                    cost,
                    deployment: Some(self.deployments[d].id.clone()),
                    result: Ok(completion),
                    events: call.events,
                }
            }
            Err(err) => {
                self.record_call(&group, &Outcome::failed());
                Routed::failed(err, call.events)
            }
        }
    }

    /// A streamed chat completion through `name`. The first batch is read before the stream is
    /// returned: a deployment that fails before its first chunk fails over unseen. A cached
    /// stream is replayed.
    pub async fn stream(
        self: &Arc<Self>,
        name: &str,
        body: &[u8],
        options: &CallOptions,
    ) -> Routed<RoutedStream> {
        let mut call = self.new_call(options, true, body);
        let group = match self.group_for(name) {
            Ok(g) => g.name.clone(),
            Err(err) => return Routed::failed(err, call.events),
        };
        let key = self.cache_key(&group, true, body, options);
        if let Some(hit) = self.cached(key.as_ref(), options) {
            if let Cached::Stream { batches, usage } = &*hit {
                let replay = RoutedStream::replay(batches.clone());
                return Routed::from_cache(replay, *usage, call.events, group);
            }
        }
        let store = key.as_deref().filter(|_| !options.no_store);
        let outcome = self
            .run(
                name,
                &mut call,
                StreamAttempt {
                    router: self,
                    body,
                    cache_key: store,
                },
            )
            .instrument(tracing::info_span!("router.stream", group = %group))
            .await;
        match outcome {
            Ok((stream, d)) => Routed {
                deployment: Some(self.deployments[d].id.clone()),
                result: Ok(stream),
                events: call.events,
                usage: None,
                cost: None,
            },
            Err(err) => {
                self.record_call(&group, &Outcome::failed());
                Routed::failed(err, call.events)
            }
        }
    }

    /// Embeddings through `name`'s group, with its retries and fallbacks. `body` is OpenAI's
    /// `{ model, input }`; the answer is OpenAI's embeddings JSON.
    pub async fn embed(&self, name: &str, body: &[u8], options: &CallOptions) -> Routed<String> {
        let mut call = self.new_call(options, false, body);
        let outcome = self
            .run(name, &mut call, EmbedAttempt { router: self, body })
            .instrument(tracing::info_span!("router.embed", group = %name))
            .await;
        match outcome {
            Ok((json, d)) => Routed {
                deployment: Some(self.deployments[d].id.clone()),
                result: Ok(json),
                events: call.events,
                usage: None,
                cost: None,
            },
            Err(err) => Routed::failed(err, call.events),
        }
    }

    /// Seed 002's `model_stats`: per group, and per deployment within it, calls, errors,
    /// tokens, cost, and latency and time-to-first-token percentiles. Never holds a credential.
    pub fn stats(&self) -> RouterStats {
        let now = now_ms();
        let model_stats = self
            .groups
            .values()
            .map(|g| {
                let deployments = g
                    .lineup
                    .members()
                    .iter()
                    .map(|&d| {
                        let dep = &self.deployments[d];
                        let stats = DeploymentStats {
                            provider: dep.provider.clone(),
                            model: dep.model.clone(),
                            cooling_until_ms: self.state.cooling_until(d, now),
                            stats: self.counters[d].snapshot(),
                        };
                        (dep.id.clone(), stats)
                    })
                    .collect();
                let stats = GroupStats {
                    stats: g.counters.snapshot(),
                    deployments,
                };
                (g.name.clone(), stats)
            })
            .collect();
        RouterStats { model_stats }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RouterStats {
    pub model_stats: BTreeMap<String, GroupStats>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupStats {
    #[serde(flatten)]
    pub stats: StatsSnapshot,
    pub deployments: BTreeMap<String, DeploymentStats>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeploymentStats {
    pub provider: String,
    pub model: String,
    pub cooling_until_ms: Option<u64>,
    #[serde(flatten)]
    pub stats: StatsSnapshot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_model_goes_first_in_the_body() {
        assert_eq!(
            &with_model(br#"{"messages":[]}"#, "gpt-4o")[..],
            br#"{"model":"gpt-4o","messages":[]}"#
        );
        assert_eq!(&with_model(b"{}", "m\"x")[..], br#"{"model":"m\"x"}"#);
        assert_eq!(
            &with_model(b" { \"a\":1}", "m")[..],
            br#"{"model":"m","a":1}"#
        );
        assert_eq!(
            &with_model(br#"{"model":"group","messages":[]}"#, "dep")[..],
            br#"{"model":"dep","messages":[]}"#,
            "the group's model is replaced"
        );
        assert_eq!(
            &with_model(br#"{"model":"group"}"#, "dep")[..],
            br#"{"model":"dep"}"#
        );
    }
}
