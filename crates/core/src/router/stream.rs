//! A routed stream: opened and peeked (its first batch read) inside the router's failover loop,
//! then handed over. Its usage, cost and latency are recorded when it ends, however it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::stats::Outcome;
use super::Router;
use crate::error::Error;
use crate::stream::{ChatStream, StreamProgress};

pub struct RoutedStream {
    router: Arc<Router>,
    deployment: usize,
    /// The batch read while opening, delivered first.
    first: Option<String>,
    inner: ChatStream,
    started: Instant,
    ttft: Duration,
    recorded: bool,
}

impl RoutedStream {
    /// Open a stream on deployment `d` and wait for its first batch (or its first error),
    /// within the deployment's (or router's) `stream_timeout`.
    pub(crate) async fn open(router: Arc<Router>, d: usize, body: Bytes) -> Result<Self, Error> {
        let started = Instant::now();
        let opened = Self::peek(&router, d, body).await;
        let (inner, first) = match opened {
            Ok(parts) => parts,
            Err(err) => {
                let dep = &router.deployments[d];
                router.record(
                    d,
                    &router.groups[&dep.group],
                    &Outcome {
                        ok: false,
                        usage: None,
                        cost: None,
                        latency: None,
                        ttft: None,
                    },
                );
                return Err(err);
            }
        };
        let ttft = started.elapsed();
        router.deployments[d].metrics.record_ttft(ttft);
        Ok(Self {
            router,
            deployment: d,
            first,
            inner,
            started,
            ttft,
            recorded: false,
        })
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

    /// The deployment serving this stream.
    pub fn deployment(&self) -> &str {
        &self.router.deployments[self.deployment].id
    }

    /// What has been delivered so far.
    pub fn progress(&self) -> &StreamProgress {
        self.inner.progress()
    }

    /// The next batch of canonical chunks as a JSON array text, `None` at the end.
    pub async fn next_batch(&mut self) -> Result<Option<String>, Error> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        if self.recorded {
            return Ok(None);
        }
        let out = self.inner.next_batch().await;
        if !matches!(out, Ok(Some(_))) {
            self.finish(out.is_ok(), true);
        }
        out
    }

    /// The usage and cost so far, at the serving deployment's price.
    pub fn cost(&self) -> Option<f64> {
        let usage = self.inner.progress().usage?;
        self.router.cost(self.deployment, &usage)
    }

    /// Record how the stream went: `ended` when it reached its end or an error, not when the
    /// caller stopped reading.
    fn finish(&mut self, ok: bool, ended: bool) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let router = &self.router;
        let d = self.deployment;
        let usage = self.inner.progress().usage;
        let whole = ok && ended;
        if whole {
            router.deployments[d]
                .metrics
                .record_latency(self.started.elapsed());
        }
        let group = &router.groups[&router.deployments[d].group];
        router.record(
            d,
            group,
            &Outcome {
                ok,
                usage,
                cost: usage.as_ref().and_then(|u| router.cost(d, u)),
                latency: whole.then(|| self.started.elapsed()),
                ttft: Some(self.ttft),
            },
        );
    }
}

impl Drop for RoutedStream {
    fn drop(&mut self) {
        // Stopped by the caller: not the deployment's failure, and what it used still counts.
        self.finish(true, false);
    }
}
