//! One call's way through a group and its fallbacks: attempts on deployments, retries with
//! backoff, order-tier failover, hedging, cooldowns, and the deadline over all of it.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use super::cache::Cached;
use super::deployment::{Deployment, InFlight};
use super::events::{EventLog, RouterEvent};
use super::policy::{ErrorClass, FallbackKind};
use super::spend::SpendHold;
use super::state::{now_ms, Admission, Admitted, RateLimit};
use super::stats::Outcome;
use super::RoutedStream;
use super::{deadline_passed, unavailable, with_model, Call, Group, HedgeDelay, Router, Served};
use crate::error::Error;
use crate::providers::Completion;
use crate::usage::Usage;

/// What a call sends: its request JSON, what a wildcard group's `*` matched, and the caller's
/// rate limits its tokens count against.
#[derive(Clone, Copy)]
pub(super) struct Request<'a> {
    pub body: &'a [u8],
    pub matched: Option<&'a str>,
    pub limits: &'a [RateLimit],
}

impl Request<'_> {
    /// Count an answer's tokens against the caller's limits.
    fn count_tokens(&self, router: &Router, usage: Option<&Usage>) {
        if let Some(u) = usage.filter(|_| !self.limits.is_empty()) {
            router
                .state
                .record_limit_tokens(self.limits, u.total_tokens, now_ms());
        }
    }

    /// The body for `dep`, its model in place of the group's, and that model.
    fn for_deployment<'d>(&self, dep: &'d Deployment) -> (Bytes, Cow<'d, str>) {
        let model = dep.model_for(self.matched);
        (with_model(self.body, &model), model)
    }
}

/// A cached completion, as it was answered.
pub(super) fn completion_from_cache(hit: &Cached) -> Option<Completion> {
    match hit {
        Cached::Completion { json, usage } => Some(Completion {
            json: json.clone(),
            usage: *usage,
        }),
        Cached::Stream { .. } => None,
    }
}

/// A cached stream, replayed batch by batch.
pub(super) fn stream_from_cache(hit: &Cached) -> Option<RoutedStream> {
    match hit {
        Cached::Stream { batches, usage } => Some(RoutedStream::replay(batches.clone(), *usage)),
        Cached::Completion { .. } => None,
    }
}

/// One attempt of a call on one deployment.
pub(super) trait Attempt<T> {
    fn run(&self, d: usize) -> impl std::future::Future<Output = Result<T, Error>> + Send;
    /// The answer a cache entry holds for this kind of call, if it holds one.
    fn cached_answer(&self, hit: &Cached) -> Option<T>;
    /// Book what `value`, answered by `d`, cost against the spend its attempt held.
    fn settle(&self, d: usize, value: &mut T, hold: SpendHold);
}

pub(super) struct CompleteAttempt<'a> {
    pub router: &'a Router,
    pub request: Request<'a>,
}

impl Attempt<Completion> for CompleteAttempt<'_> {
    async fn run(&self, d: usize) -> Result<Completion, Error> {
        let router = self.router;
        let dep = &router.deployments[d];
        let (body, model) = self.request.for_deployment(dep);
        let started = Instant::now();
        let result = dep.client.complete(body).await;
        let latency = started.elapsed();
        let usage = result.as_ref().ok().and_then(|c| c.usage);
        if result.is_ok() {
            dep.metrics.record_latency(latency);
        }
        self.request.count_tokens(router, usage.as_ref());
        router.record(
            d,
            &Outcome {
                ok: result.is_ok(),
                usage,
                cost: usage.as_ref().and_then(|u| router.cost(d, &model, u)),
                latency: result.is_ok().then_some(latency),
                ttft: None,
            },
        );
        result
    }

    fn cached_answer(&self, hit: &Cached) -> Option<Completion> {
        completion_from_cache(hit)
    }

    fn settle(&self, d: usize, value: &mut Completion, hold: SpendHold) {
        let model = self.router.deployments[d].model_for(self.request.matched);
        // An answer without usage books its estimate, the most it could have cost.
        let cost = value
            .usage
            .as_ref()
            .and_then(|u| self.router.cost(d, &model, u));
        let estimate = hold.estimate().usd;
        hold.settle(cost.unwrap_or(estimate));
    }
}

pub(super) struct EmbedAttempt<'a> {
    pub router: &'a Router,
    pub request: Request<'a>,
}

impl Attempt<String> for EmbedAttempt<'_> {
    async fn run(&self, d: usize) -> Result<String, Error> {
        let router = self.router;
        let dep = &router.deployments[d];
        let started = Instant::now();
        let result = dep.client.embed(self.request.for_deployment(dep).0).await;
        if !self.request.limits.is_empty() {
            let usage = result.as_deref().ok().and_then(embedding_usage);
            self.request.count_tokens(router, usage.as_ref());
        }
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

    fn cached_answer(&self, _: &Cached) -> Option<String> {
        None
    }

    fn settle(&self, d: usize, value: &mut String, hold: SpendHold) {
        let model = self.router.deployments[d].model_for(self.request.matched);
        let cost = embedding_usage(value).and_then(|u| self.router.cost(d, &model, &u));
        let estimate = hold.estimate().usd;
        hold.settle(cost.unwrap_or(estimate));
    }
}

/// The usage an embeddings answer reports.
fn embedding_usage(json: &str) -> Option<Usage> {
    #[derive(serde::Deserialize)]
    struct Answer {
        usage: Option<Usage>,
    }
    serde_json::from_str::<Answer>(json).ok()?.usage
}

pub(super) struct StreamAttempt<'a> {
    pub router: &'a Arc<Router>,
    pub request: Request<'a>,
    pub cache_key: Option<&'a str>,
}

impl Attempt<RoutedStream> for StreamAttempt<'_> {
    async fn run(&self, d: usize) -> Result<RoutedStream, Error> {
        let (body, model) = self.request.for_deployment(&self.router.deployments[d]);
        let model = model.into_owned();
        let slot = self.cache_key.map(str::to_string);
        let limits = self.request.limits.to_vec();
        RoutedStream::open(self.router.clone(), d, body, model, slot, limits).await
    }

    fn cached_answer(&self, hit: &Cached) -> Option<RoutedStream> {
        stream_from_cache(hit)
    }

    /// A stream books its cost when it ends, however it ends.
    fn settle(&self, _: usize, value: &mut RoutedStream, hold: SpendHold) {
        value.keep_spend(hold);
    }
}

impl Router {
    /// Try `group` with its retries; `attempt(d, timeout)` runs one attempt on deployment `d`.
    async fn try_group<T>(
        &self,
        group: &Group,
        call: &mut Call,
        attempt: &impl Attempt<T>,
    ) -> Result<(T, Served), Error> {
        let mut tried: Vec<usize> = Vec::new();
        let mut retry = 0u32;
        // Admissions refused in a row: the state's view was behind a concurrent call's.
        let mut refused = 0usize;
        self.audit_providers(call, group);
        loop {
            let Some(d) = self.pick_in(group, &tried, call) else {
                // Nothing to send to, but the shared cache may hold the answer.
                if let Some(key) = call.cache_key.take() {
                    let admission = Admission {
                        cache_key: Some(&key),
                        reserve: &[],
                        budgets: &[],
                        estimate_usd: 0.0,
                        limits: &[],
                        now: now_ms(),
                    };
                    if let Admitted::Cached(hit) = self.state.admit(admission).await {
                        if let Some(value) = attempt.cached_answer(&hit) {
                            return Ok((value, Served::Cache));
                        }
                    }
                }
                if let Some(err) = self.refusal(group, call) {
                    return Err(err);
                }
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
            // Counted as it is sent: a deployment (or group) filled by a concurrent call is
            // skipped, and the next pick sees it full.
            let key = call.cache_key.take();
            let spend = self.spend_for(call, d);
            let admitted = self
                .admit(group, d, key.as_deref(), spend.as_ref(), call)
                .await;
            if self.state.degraded() && !call.degraded {
                call.degraded = true;
                call.events
                    .push(RouterEvent::StateUnavailable { backend: "redis" });
            }
            let hold = match admitted {
                Admitted::Reserved => {
                    refused = 0;
                    spend.map(|s| self.hold(s, &mut call.events))
                }
                Admitted::Cached(hit) => match attempt.cached_answer(&hit) {
                    Some(value) => return Ok((value, Served::Cache)),
                    None => continue,
                },
                Admitted::OverBudget { index, spent_usd } => {
                    if let Some(spend) = spend {
                        self.refused_spend(call, group, d, spend, index, spent_usd);
                    }
                    continue;
                }
                Admitted::RateLimited { index } => return Err(self.caller_limited(call, index)),
                Admitted::Full if refused <= group.lineup.members().len() => {
                    refused += 1;
                    continue;
                }
                Admitted::Full => return Err(unavailable(&group.name, self.next_available(group))),
            };
            self.audit_residency(call, group, d);
            call.attempts += 1;
            call.events.push(RouterEvent::Request {
                group: group.name.clone(),
                deployment: dep.id.clone(),
                provider: dep.provider.clone(),
                model: dep.model_for(call.matched.as_deref()).into_owned(),
                attempt: retry,
            });
            let mut hedges = EventLog::default();
            let (result, d, hold) = {
                let span = tracing::debug_span!("router.attempt", deployment = %dep.id, retry);
                let hedged = self
                    .hedged(group, (d, hold), &tried, call, attempt, &mut hedges)
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
                            None,
                        ),
                    },
                    None => hedged.await,
                }
            };
            call.events.append(&mut hedges);
            let dep = &self.deployments[d];
            let err = match result {
                Ok(mut value) => {
                    if let Some(hold) = hold {
                        attempt.settle(d, &mut value, hold);
                    }
                    return Ok((value, Served::Deployment(d)));
                }
                Err(err) => {
                    // A failed attempt cost nothing.
                    if let Some(hold) = hold {
                        hold.settle(0.0);
                    }
                    err
                }
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
            let next = self.pick_in(group, &tried, call);
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

    /// One attempt on `d` (with the spend it holds); with hedging on, a second deployment
    /// starts when `d` has not answered within the hedge delay, the first answer wins and the
    /// other is cancelled. Returns the outcome, the deployment it is from and its spend hold.
    async fn hedged<T>(
        &self,
        group: &Group,
        (d, hold): (usize, Option<SpendHold>),
        tried: &[usize],
        call: &Call,
        attempt: &impl Attempt<T>,
        events: &mut EventLog,
    ) -> (Result<T, Error>, usize, Option<SpendHold>) {
        let _slot = InFlight::start(&self.deployments[d].metrics);
        let first = attempt.run(d);
        tokio::pin!(first);
        let Some(delay) = self.hedge_delay(d, call.stream) else {
            return (first.await, d, hold);
        };
        tokio::select! {
            out = &mut first => return (out, d, hold),
            _ = tokio::time::sleep(delay) => {}
        }
        let mut skip = tried.to_vec();
        skip.push(d);
        let mut hedge = None;
        if let Some(h) = self.pick_in(group, &skip, call).filter(|&h| h != d) {
            let spend = self.spend_for(call, h);
            if let Admitted::Reserved = self.admit(group, h, None, spend.as_ref(), call).await {
                hedge = Some((h, spend.map(|s| self.hold(s, events))));
            }
        }
        let Some((h, hedge_hold)) = hedge else {
            return (first.await, d, hold);
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
        // cancels its request (and its hold books the prompt).
        tokio::select! {
            out = &mut first => match out {
                Ok(v) => (Ok(v), d, hold),
                Err(e) => {
                    self.on_failure_quiet(d, &e, events);
                    if let Some(hold) = hold {
                        hold.settle(0.0);
                    }
                    (second.await, h, hedge_hold)
                }
            },
            out = &mut second => match out {
                Ok(v) => (Ok(v), h, hedge_hold),
                Err(e) => {
                    self.on_failure_quiet(h, &e, events);
                    if let Some(hold) = hedge_hold {
                        hold.settle(0.0);
                    }
                    (first.await, d, hold)
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

    /// Run a call through `first`, the group asked for, then its fallbacks. When everything fails, the
    /// original group's error is the answer, as in LiteLLM.
    pub(super) async fn run<T>(
        &self,
        first: &Group,
        call: &mut Call,
        attempt: impl Attempt<T>,
    ) -> Result<(T, Served), Error> {
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
            let Some(group) = self.groups.get(next) else {
                continue; // checked when the router was built
            };
            // A fallback is no way around the model rules.
            if !self.fallback_allowed(call, &group.name) {
                continue;
            }
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
}
