//! The router's calls: complete, stream and embed, each answered from the response cache when
//! it can be, and stats.

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;

use super::attempt::{
    completion_from_cache, stream_from_cache, Attempt, CompleteAttempt, EmbedAttempt, Request,
    StreamAttempt,
};
use super::cache::{self, Cached};
use super::events::EventLog;
use super::state::{now_ms, RateLimit};
use super::stats::{DeploymentStats, GroupStats, Outcome, RouterStats};
use super::{Call, CallOptions, Group, Routed, RoutedStream, Router, Served};
use crate::providers::Completion;

/// A call's group and cache key, worked out before anything is sent.
struct Prepared<'r, 'n> {
    group: &'r Group,
    matched: Option<&'n str>,
    key: Option<String>,
    embeddings: bool,
}

impl Router {
    /// The call's group, checked against the model rules (the decision goes to `events`), and
    /// its cache key.
    fn prepare<'n>(
        &self,
        name: &'n str,
        stream: bool,
        body: &[u8],
        options: &CallOptions,
        events: &mut EventLog,
    ) -> Result<Prepared<'_, 'n>, crate::error::Error> {
        let (group, matched) = self.group_for(name)?;
        self.check_group(options, &group.name, name, events)?;
        let key = self.settings.cache_ttl.and_then(|_| {
            if options.no_cache && options.no_store {
                return None;
            }
            // A wildcard group answers many models: the name asked for keys the entry.
            let scope = if matched.is_some() { name } else { &group.name };
            cache::cache_key(scope, stream, body)
        });
        Ok(Prepared {
            group,
            matched,
            key,
            embeddings: false,
        })
    }

    fn new_call(
        &self,
        options: &CallOptions,
        stream: bool,
        body: &[u8],
        p: &Prepared,
        events: EventLog,
    ) -> Call {
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
            events,
            attempts: 0,
            stream,
            matched: p.matched.map(str::to_string),
            cache_key: p.key.clone().filter(|_| !options.no_cache),
            degraded: false,
            // Embeddings answer no tokens: their estimate is the input's.
            gov: self.govern(options, body, p.embeddings),
        }
    }

    /// The answer this process's cache holds for a call, found without waiting: callers that
    /// can answer at once (the JS binding) try this before starting a call.
    fn cached_now<T>(
        &self,
        name: &str,
        stream: bool,
        body: &[u8],
        options: &CallOptions,
        answer: impl FnOnce(&Cached) -> Option<T>,
    ) -> Option<Routed<T>> {
        if options.no_cache {
            return None;
        }
        let mut events = EventLog::default();
        // A call the model rules deny is refused on the async path, with its error.
        let p = self
            .prepare(name, stream, body, options, &mut events)
            .ok()?;
        let hit = self.state.cache_get(p.key.as_deref()?, now_ms())?;
        let value = answer(&hit)?;
        Some(Routed::from_cache(
            value,
            hit.usage(),
            events,
            p.group.name.clone(),
        ))
    }

    /// Whether the response cache is on.
    pub fn caching(&self) -> bool {
        self.settings.cache_ttl.is_some()
    }

    /// [`Self::complete`]'s answer when this process's cache holds it, without waiting.
    pub fn complete_cached(
        &self,
        name: &str,
        body: &[u8],
        options: &CallOptions,
    ) -> Option<Routed<Completion>> {
        self.cached_now(name, false, body, options, completion_from_cache)
    }

    /// [`Self::stream`]'s replay when this process's cache holds it, without waiting.
    pub fn stream_cached(
        &self,
        name: &str,
        body: &[u8],
        options: &CallOptions,
    ) -> Option<Routed<RoutedStream>> {
        self.cached_now(name, true, body, options, stream_from_cache)
    }

    /// Count one call on the group that served it (or was asked, when none did).
    pub(crate) fn record_call(&self, group: &str, outcome: &Outcome) {
        if let Some(g) = self.groups.get(group) {
            g.counters.record(outcome);
            self.state.record_outcome(g.slot, outcome);
        }
    }

    /// Run a prepared call through its group and fallbacks.
    async fn routed<T>(
        &self,
        p: &Prepared<'_, '_>,
        mut call: Call,
        attempt: impl Attempt<T>,
        span: tracing::Span,
    ) -> (Result<(T, Served), crate::error::Error>, EventLog) {
        let outcome = self.run(p.group, &mut call, attempt).instrument(span).await;
        (outcome, call.events)
    }

    /// One chat completion through `name` (a model group, a task type, or a name a wildcard
    /// group matches). `body` is the canonical request JSON; its `model` is replaced by each
    /// deployment's.
    pub async fn complete(
        &self,
        name: &str,
        body: &[u8],
        options: &CallOptions,
    ) -> Routed<Completion> {
        let mut events = EventLog::default();
        let p = match self.prepare(name, false, body, options, &mut events) {
            Ok(p) => p,
            Err(err) => return Routed::failed(err, events),
        };
        let call = self.new_call(options, false, body, &p, events);
        let limits = caller_limits(&call);
        let started = Instant::now();
        let request = Request {
            body,
            matched: p.matched,
            limits: &limits,
        };
        let attempt = CompleteAttempt {
            router: self,
            request,
        };
        let span = tracing::info_span!("router.complete", group = %p.group.name);
        let (outcome, events) = self.routed(&p, call, attempt, span).await;
        match outcome {
            Ok((completion, Served::Cache)) => {
                let usage = completion.usage;
                Routed::from_cache(completion, usage, events, p.group.name.clone())
            }
            Ok((completion, Served::Deployment(d))) => {
                let dep = &self.deployments[d];
                let model = dep.model_for(p.matched);
                let cost = completion
                    .usage
                    .as_ref()
                    .and_then(|u| self.cost(d, &model, u));
                self.record_call(
                    &dep.group,
                    &Outcome {
                        ok: true,
                        usage: completion.usage,
                        cost,
                        latency: Some(started.elapsed()),
                        ttft: None,
                    },
                );
                if let (Some(key), Some(ttl), false) =
                    (p.key, self.settings.cache_ttl, options.no_store)
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
                    deployment: Some(dep.id.clone()),
                    result: Ok(completion),
                    events,
                }
            }
            Err(err) => {
                self.record_call(&p.group.name, &Outcome::failed());
                Routed::failed(err, events)
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
        let mut events = EventLog::default();
        let p = match self.prepare(name, true, body, options, &mut events) {
            Ok(p) => p,
            Err(err) => return Routed::failed(err, events),
        };
        let call = self.new_call(options, true, body, &p, events);
        let limits = caller_limits(&call);
        let attempt = StreamAttempt {
            router: self,
            request: Request {
                body,
                matched: p.matched,
                limits: &limits,
            },
            cache_key: p.key.as_deref().filter(|_| !options.no_store),
        };
        let span = tracing::info_span!("router.stream", group = %p.group.name);
        let (outcome, events) = self.routed(&p, call, attempt, span).await;
        match outcome {
            Ok((replay, Served::Cache)) => {
                let usage = replay.cached_usage();
                Routed::from_cache(replay, usage, events, p.group.name.clone())
            }
            Ok((stream, Served::Deployment(d))) => Routed {
                deployment: Some(self.deployments[d].id.clone()),
                result: Ok(stream),
                events,
                usage: None,
                cost: None,
            },
            Err(err) => {
                self.record_call(&p.group.name, &Outcome::failed());
                Routed::failed(err, events)
            }
        }
    }

    /// Embeddings through `name`'s group, with its retries and fallbacks. `body` is OpenAI's
    /// `{ model, input }`; the answer is OpenAI's embeddings JSON.
    pub async fn embed(&self, name: &str, body: &[u8], options: &CallOptions) -> Routed<String> {
        let uncached = CallOptions {
            no_cache: true,
            no_store: true,
            ..options.clone()
        };
        let mut events = EventLog::default();
        let mut p = match self.prepare(name, false, body, &uncached, &mut events) {
            Ok(p) => p,
            Err(err) => return Routed::failed(err, events),
        };
        p.embeddings = true;
        let call = self.new_call(&uncached, false, body, &p, events);
        let limits = caller_limits(&call);
        let attempt = EmbedAttempt {
            router: self,
            request: Request {
                body,
                matched: p.matched,
                limits: &limits,
            },
        };
        let span = tracing::info_span!("router.embed", group = %p.group.name);
        match self.routed(&p, call, attempt, span).await {
            (Ok((json, served)), events) => Routed {
                deployment: match served {
                    Served::Deployment(d) => Some(self.deployments[d].id.clone()),
                    Served::Cache => None,
                },
                result: Ok(json),
                events,
                usage: None,
                cost: None,
            },
            (Err(err), events) => Routed::failed(err, events),
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
                            shared: self.state.shared_totals(d),
                        };
                        (dep.id.clone(), stats)
                    })
                    .collect();
                let stats = GroupStats {
                    stats: g.counters.snapshot(),
                    shared: self.state.shared_totals(g.slot),
                    deployments,
                };
                (g.name.clone(), stats)
            })
            .collect();
        RouterStats { model_stats }
    }
}

/// The caller's rate limits, kept apart from the call that moves into the routing loop.
fn caller_limits(call: &Call) -> Vec<RateLimit> {
    call.gov
        .as_ref()
        .map_or_else(Vec::new, |g| g.limits().to_vec())
}
