//! A routed stream: opened and peeked (its first batch read) inside the router's failover loop,
//! then handed over; or a cached stream replayed batch by batch. A live stream's usage, cost and
//! latency are recorded when it ends, however it ends, and a complete one is cached when asked.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cache::Cached;
use super::spend::SpendHold;
use super::state::{now_ms, RateLimit};
use super::stats::Outcome;
use super::Router;
use crate::error::Error;
use crate::stream::ChatStream;
use crate::usage::{Price, Usage};

pub struct RoutedStream {
    source: Source,
}

enum Source {
    Live(Box<Live>),
    Replay(VecDeque<String>, Option<Usage>),
}

struct Live {
    router: Arc<Router>,
    deployment: usize,
    /// The model it serves, which prices it.
    model: String,
    /// The caller's rate limits its tokens count against.
    limits: Vec<RateLimit>,
    /// The batch read while opening, delivered first.
    first: Option<String>,
    inner: ChatStream,
    started: Instant,
    ttft: Duration,
    recorded: bool,
    /// Where the stream goes in the cache once it completes, with what it delivered so far.
    caching: Option<(String, Vec<String>)>,
    /// Budget spend held for the stream, settled when it ends.
    spend: Option<SpendHold>,
}

impl RoutedStream {
    /// Open a stream on deployment `d` and wait for its first batch (or its first error),
    /// within the deployment's (or router's) `stream_timeout`.
    pub(crate) async fn open(
        router: Arc<Router>,
        d: usize,
        body: Bytes,
        model: String,
        cache_key: Option<String>,
        limits: Vec<RateLimit>,
    ) -> Result<Self, Error> {
        let started = Instant::now();
        let (inner, first) = match Self::peek(&router, d, body).await {
            Ok(parts) => parts,
            Err(err) => {
                router.record(d, &Outcome::failed());
                return Err(err);
            }
        };
        let ttft = started.elapsed();
        router.deployments[d].metrics.record_ttft(ttft);
        Ok(Self {
            source: Source::Live(Box::new(Live {
                router,
                deployment: d,
                model,
                limits,
                first,
                inner,
                started,
                ttft,
                recorded: false,
                caching: cache_key.map(|key| (key, Vec::new())),
                spend: None,
            })),
        })
    }

    /// A cached stream, replayed as it was delivered.
    pub(crate) fn replay(batches: Vec<String>, usage: Option<Usage>) -> Self {
        Self {
            source: Source::Replay(batches.into(), usage),
        }
    }

    /// The usage a replayed stream was cached with; `None` for a live one until it ends.
    pub fn cached_usage(&self) -> Option<Usage> {
        match &self.source {
            Source::Replay(_, usage) => *usage,
            Source::Live(_) => None,
        }
    }

    async fn peek(
        router: &Router,
        d: usize,
        body: Bytes,
    ) -> Result<(ChatStream, Option<String>), Error> {
        let dep = &router.deployments[d];
        let wait = dep.stream_timeout.or(router.settings.stream_timeout);
        let opening = async {
            let mut stream = dep.client.stream(body).await?;
            let first = stream.next_batch().await?;
            Ok((stream, first))
        };
        match wait {
            Some(wait) => {
                tokio::time::timeout(wait, opening)
                    .await
                    .unwrap_or(Err(Error::Timeout {
                        phase: "waiting for the first stream chunk (stream_timeout)",
                        after: wait,
                    }))
            }
            None => opening.await,
        }
    }

    /// The next batch of canonical chunks as a JSON array text, `None` at the end.
    pub async fn next_batch(&mut self) -> Result<Option<String>, Error> {
        match &mut self.source {
            Source::Replay(batches, _) => Ok(batches.pop_front()),
            Source::Live(live) => live.next_batch().await,
        }
    }

    /// What [`Self::next_batch`] would answer without waiting, or `None` when nothing is ready.
    pub fn try_next_batch(&mut self) -> Option<Result<Option<String>, Error>> {
        match &mut self.source {
            Source::Replay(batches, _) => Some(Ok(batches.pop_front())),
            Source::Live(live) => {
                let out = match live.first.take() {
                    Some(first) => Ok(Some(first)),
                    None if live.recorded => return Some(Ok(None)),
                    None => live.inner.try_next_batch()?,
                };
                Some(live.after(out))
            }
        }
    }

    /// Settle `hold` with what the stream cost once it ends (a replay costs nothing).
    pub(crate) fn keep_spend(&mut self, hold: SpendHold) {
        match &mut self.source {
            Source::Live(live) => live.spend = Some(hold),
            Source::Replay(..) => hold.settle(0.0),
        }
    }

    /// The price this stream is billed at: its deployment's; nothing for a cached replay.
    /// Known when it is handed over, so even an aborted stream is priced right.
    pub fn price(&self) -> Option<Price> {
        match &self.source {
            Source::Live(live) => live.router.price_of(live.deployment, &live.model),
            Source::Replay(..) => Some(Price::FREE),
        }
    }
}

impl Live {
    async fn next_batch(&mut self) -> Result<Option<String>, Error> {
        let out = match self.first.take() {
            Some(first) => Ok(Some(first)),
            None if self.recorded => return Ok(None),
            None => self.inner.next_batch().await,
        };
        self.after(out)
    }

    /// Keep a delivered batch for the cache; record the end.
    fn after(&mut self, out: Result<Option<String>, Error>) -> Result<Option<String>, Error> {
        match &out {
            Ok(Some(batch)) => {
                if let Some((_, batches)) = &mut self.caching {
                    batches.push(batch.clone());
                }
            }
            Ok(None) => self.finish(true, true),
            Err(_) => {
                self.caching = None;
                self.finish(false, true);
            }
        }
        out
    }

    /// Record how the stream went: `ended` when it reached its end or an error, not when the
    /// caller stopped reading. A complete stream is cached when the call asked for it.
    fn finish(&mut self, ok: bool, ended: bool) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let router = &self.router;
        let d = self.deployment;
        let progress = self.inner.progress();
        let usage = progress.usage;
        if let Some(hold) = self.spend.take() {
            // Ended before the upstream reported usage (an abort, a broken stream): what was
            // delivered, at about four characters a token.
            let used = usage.unwrap_or_else(|| hold.usage_from(progress.content_chars));
            let estimate = hold.estimate().usd;
            hold.settle(router.cost(d, &self.model, &used).unwrap_or(estimate));
        }
        if let Some(u) = usage.filter(|_| !self.limits.is_empty()) {
            router
                .state
                .record_limit_tokens(&self.limits, u.total_tokens, now_ms());
        }
        let whole = ok && ended;
        if whole {
            router.deployments[d]
                .metrics
                .record_latency(self.started.elapsed());
            if let (Some((key, batches)), Some(ttl)) =
                (self.caching.take(), router.settings.cache_ttl)
            {
                let value = Arc::new(Cached::Stream { batches, usage });
                router
                    .state
                    .cache_put(key, value, now_ms() + ttl.as_millis() as u64);
            }
        }
        let outcome = Outcome {
            ok,
            usage,
            cost: usage.as_ref().and_then(|u| router.cost(d, &self.model, u)),
            latency: whole.then(|| self.started.elapsed()),
            ttft: Some(self.ttft),
        };
        router.record(d, &outcome);
        router.record_call(&router.deployments[d].group, &outcome);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Stopped by the caller: not the deployment's failure, and what it used still counts.
        self.finish(true, false);
    }
}
