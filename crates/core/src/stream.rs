//! Streamed answers, delivered in batches of whatever is ready so JS pays one callback per batch,
//! not per token.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt};

use crate::error::{Error, Redactor};
use crate::providers::{ChatProvider, EventOutcome, Provider};
use crate::sse::{SseDecoder, SseEvent};
use crate::usage::Usage;

/// A batch never grows past this many chunks, so a fast upstream cannot delay the first tokens.
const MAX_BATCH: usize = 256;

/// What a stream has delivered so far: reported with every stream error and on abort.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamProgress {
    pub chunks: u64,
    /// Characters of text content delivered.
    pub content_chars: u64,
    pub tool_call_deltas: u64,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

/// Collects canonical chunks into one JSON array text.
#[derive(Debug, Default)]
pub struct StreamSink {
    batch: String,
    batch_len: usize,
    pub progress: StreamProgress,
}

impl StreamSink {
    /// Append one canonical chunk; `json` must be a complete JSON value.
    pub fn push_chunk(&mut self, json: &str) {
        self.batch.push(if self.batch_len == 0 { '[' } else { ',' });
        self.batch.push_str(json);
        self.batch_len += 1;
        self.progress.chunks += 1;
    }

    fn len(&self) -> usize {
        self.batch_len
    }

    pub(crate) fn take_batch(&mut self) -> Option<String> {
        if self.batch_len == 0 {
            return None;
        }
        self.batch.push(']');
        self.batch_len = 0;
        Some(std::mem::take(&mut self.batch))
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// An open streamed answer. Dropping it aborts the upstream request.
pub struct ChatStream {
    body: Body,
    provider: Provider,
    decoder: SseDecoder,
    events: Vec<SseEvent>,
    sink: StreamSink,
    idle_timeout: Duration,
    redactor: Redactor,
    finished: bool,
    pending_error: Option<Error>,
}

impl ChatStream {
    pub(crate) fn new(
        response: reqwest::Response,
        provider: Provider,
        idle_timeout: Duration,
        redactor: Redactor,
    ) -> Self {
        Self {
            body: Box::pin(response.bytes_stream()),
            provider,
            decoder: SseDecoder::new(),
            events: Vec::new(),
            sink: StreamSink::default(),
            idle_timeout,
            redactor,
            finished: false,
            pending_error: None,
        }
    }

    /// What has been delivered so far.
    pub fn progress(&self) -> &StreamProgress {
        &self.sink.progress
    }

    /// The next batch of canonical chunks as a JSON array text, `None` at the end. Waits only
    /// when nothing is ready. An error comes after every chunk that preceded it was delivered.
    pub async fn next_batch(&mut self) -> Result<Option<String>, Error> {
        loop {
            self.drain_events();
            if self.sink.len() >= MAX_BATCH {
                return Ok(self.sink.take_batch());
            }
            if self.finished || self.pending_error.is_some() {
                if let Some(batch) = self.sink.take_batch() {
                    return Ok(Some(batch));
                }
                self.finished = true;
                return self.pending_error.take().map_or(Ok(None), Err);
            }
            let polled = if self.sink.len() == 0 {
                match tokio::time::timeout(self.idle_timeout, self.body.next()).await {
                    Ok(item) => item,
                    Err(_) => {
                        self.pending_error = Some(Error::Timeout {
                            phase: "waiting for the next stream chunk",
                            after: self.idle_timeout,
                        });
                        continue;
                    }
                }
            } else {
                match self.body.next().now_or_never() {
                    Some(item) => item,
                    None => return Ok(self.sink.take_batch()),
                }
            };
            match polled {
                Some(Ok(bytes)) => self.decoder.feed(&bytes, &mut self.events),
                Some(Err(e)) => {
                    self.pending_error = Some(self.redactor.error(Error::from_transport(&e)))
                }
                None => {
                    self.decoder.finish(&mut self.events);
                    self.drain_events();
                    self.end_of_body();
                }
            }
        }
    }

    fn drain_events(&mut self) {
        for event in self.events.drain(..) {
            if self.finished || self.pending_error.is_some() {
                break;
            }
            match self.provider.decode_event(&event, &mut self.sink) {
                Ok(EventOutcome::Continue) => {}
                Ok(EventOutcome::Done) => self.finished = true,
                Err(e) => self.pending_error = Some(self.redactor.error(e)),
            }
        }
    }

    /// A body that ends cleanly but before any finish reason or `[DONE]` may have lost tokens:
    /// say so instead of ending quietly.
    fn end_of_body(&mut self) {
        if self.finished || self.pending_error.is_some() {
            return;
        }
        if self.sink.progress.finish_reason.is_some() {
            self.finished = true;
        } else {
            self.pending_error = Some(Error::BadResponse(format!(
                "the stream ended after {} chunks without a finish reason or [DONE]",
                self.sink.progress.chunks
            )));
        }
    }
}
