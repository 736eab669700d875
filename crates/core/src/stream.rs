//! Streamed answers, delivered in batches of whatever is ready so JS pays one callback per batch,
//! not per token.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::error::{Error, Redactor};
use crate::framing::FrameDecoder;
use crate::providers::openai::passthrough_json;
use crate::providers::{ChatProvider, EventOutcome, Framing, Provider, StreamDecode};
use crate::sse::SseEvent;
use crate::usage::Usage;

/// A batch never grows past this many chunks; it is also how far the pump decodes ahead of the
/// consumer, so a stalled consumer stalls the upstream read (TCP backpressure).
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

/// How the pump's side of the stream ended.
#[derive(Debug, Default)]
enum End {
    #[default]
    Open,
    Finished,
    Failed(Error),
    /// The end was handed to the consumer; later calls see a plain end.
    Reported,
}

/// Decoded chunks waiting for the consumer.
#[derive(Default)]
struct Ready {
    /// The first chunk, alone: the first token reaches the caller without waiting for (and
    /// parsing) everything that arrived with it.
    first: Option<(String, StreamProgress)>,
    sink: StreamSink,
    /// Progress as of the last batch handed out.
    delivered: StreamProgress,
    end: End,
}

impl Ready {
    fn is_ready(&self) -> bool {
        self.first.is_some() || self.sink.len() > 0 || !matches!(self.end, End::Open)
    }
}

struct Shared {
    ready: Mutex<Ready>,
    /// Wakes the consumer: a batch or the end is ready.
    data: Notify,
    /// Wakes the pump: the consumer took a batch.
    space: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        self.ready
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads and decodes the body on its own task, ahead of the consumer: decoding overlaps the
/// consumer's handling of the previous batch, and a batch is often ready before it is asked for.
struct Pump {
    body: Body,
    frames: FrameDecoder,
    decoder: Box<dyn StreamDecode>,
    events: Vec<SseEvent>,
    idle_timeout: Duration,
    redactor: Redactor,
    shared: Arc<Shared>,
    /// Whether the first batch was set apart.
    first_sealed: bool,
}

impl Pump {
    async fn run(mut self) {
        let end = self.read().await;
        let mut ready = self.shared.lock();
        ready.end = match end {
            Ok(()) => End::Finished,
            Err(e) => End::Failed(self.redactor.error(e)),
        };
        drop(ready);
        self.shared.data.notify_one();
    }

    /// Until the end marker, the end of the body or the first error.
    async fn read(&mut self) -> Result<(), Error> {
        loop {
            let frame = tokio::time::timeout(self.idle_timeout, self.body.next())
                .await
                .map_err(|_| Error::Timeout {
                    phase: "waiting for the next stream chunk",
                    after: self.idle_timeout,
                })?;
            let framed = match &frame {
                Some(Ok(bytes)) => self.frames.feed(bytes, &mut self.events),
                Some(Err(e)) => return Err(Error::from_transport(e)),
                None => self.frames.finish(&mut self.events),
            };
            // Events framed before bad bytes are still delivered first.
            if self.decode_events().await? {
                return Ok(());
            }
            framed?;
            if frame.is_none() {
                return self.end_of_body();
            }
        }
    }

    /// Decode the framed events into the batch; true at the end marker. Waits while the batch
    /// is full.
    async fn decode_events(&mut self) -> Result<bool, Error> {
        let mut done = false;
        let mut decoded = Ok(());
        for event in self.events.drain(..) {
            loop {
                if self.shared.lock().sink.len() < MAX_BATCH {
                    break;
                }
                self.shared.data.notify_one();
                self.shared.space.notified().await;
            }
            let mut ready = self.shared.lock();
            match self.decoder.decode(&event, &mut ready.sink) {
                Ok(EventOutcome::Continue) => {}
                Ok(EventOutcome::Done) => done = true,
                Err(e) => decoded = Err(e),
            }
            if !self.first_sealed && ready.sink.len() > 0 {
                self.first_sealed = true;
                let progress = ready.sink.progress.clone();
                ready.first = ready.sink.take_batch().map(|batch| (batch, progress));
                drop(ready);
                self.shared.data.notify_one();
            }
            if done || decoded.is_err() {
                break;
            }
        }
        self.shared.data.notify_one();
        decoded.map(|()| done)
    }

    /// A body that ends cleanly but before any finish reason or `[DONE]` may have lost tokens:
    /// say so instead of ending quietly.
    fn end_of_body(&self) -> Result<(), Error> {
        let progress = &self.shared.lock().sink.progress;
        if self.decoder.ended_cleanly(progress) {
            return Ok(());
        }
        Err(Error::BadResponse(format!(
            "the stream ended after {} chunks without a finish reason or [DONE]",
            progress.chunks
        )))
    }
}

/// An open streamed answer. Dropping it aborts the upstream request.
pub struct ChatStream {
    shared: Arc<Shared>,
    pump: AbortHandle,
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

impl ChatStream {
    pub(crate) fn new(
        response: reqwest::Response,
        provider: &Provider,
        model: &str,
        idle_timeout: Duration,
        redactor: Redactor,
    ) -> Self {
        Self::with_decoder(
            response,
            provider.framing(),
            provider.stream_decoder(model),
            idle_timeout,
            redactor,
        )
    }

    /// A stream of JSON values handed on unchanged, for provider endpoints that stream progress.
    pub(crate) fn passthrough(
        response: reqwest::Response,
        framing: Framing,
        idle_timeout: Duration,
        redactor: Redactor,
    ) -> Self {
        Self::with_decoder(
            response,
            framing,
            Box::new(PassthroughJson),
            idle_timeout,
            redactor,
        )
    }

    fn with_decoder(
        response: reqwest::Response,
        framing: Framing,
        decoder: Box<dyn StreamDecode>,
        idle_timeout: Duration,
        redactor: Redactor,
    ) -> Self {
        let shared = Arc::new(Shared {
            ready: Mutex::default(),
            data: Notify::new(),
            space: Notify::new(),
        });
        let pump = Pump {
            body: Box::pin(response.bytes_stream()),
            frames: FrameDecoder::new(framing),
            decoder,
            events: Vec::new(),
            idle_timeout,
            redactor,
            shared: shared.clone(),
            first_sealed: false,
        };
        Self {
            shared,
            pump: tokio::spawn(pump.run()).abort_handle(),
        }
    }

    /// What has been delivered so far.
    pub fn progress(&self) -> StreamProgress {
        self.shared.lock().delivered.clone()
    }

    /// Wait until the first batch or the end is ready, without taking it.
    pub(crate) async fn wait_ready(&self) {
        while !self.shared.lock().is_ready() {
            self.shared.data.notified().await;
        }
    }

    /// The next batch of canonical chunks as a JSON array text, `None` at the end. Waits only
    /// when nothing is ready. An error comes after every chunk that preceded it was delivered.
    pub async fn next_batch(&mut self) -> Result<Option<String>, Error> {
        loop {
            if let Some(out) = self.try_next_batch() {
                return out;
            }
            self.shared.data.notified().await;
        }
    }

    /// What [`Self::next_batch`] would answer without waiting, or `None` when nothing is ready.
    pub fn try_next_batch(&mut self) -> Option<Result<Option<String>, Error>> {
        let mut ready = self.shared.lock();
        if let Some((batch, progress)) = ready.first.take() {
            ready.delivered = progress;
            return Some(Ok(Some(batch)));
        }
        if let Some(batch) = ready.sink.take_batch() {
            ready.delivered = ready.sink.progress.clone();
            drop(ready);
            self.shared.space.notify_one();
            return Some(Ok(Some(batch)));
        }
        let out = match std::mem::take(&mut ready.end) {
            End::Open => return None,
            End::Failed(e) => Err(e),
            End::Finished | End::Reported => Ok(None),
        };
        ready.delivered = ready.sink.progress.clone();
        ready.end = End::Reported;
        Some(out)
    }
}

/// Validates each framed JSON value and hands it on as it came.
struct PassthroughJson;

impl StreamDecode for PassthroughJson {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        match event.data.trim() {
            "" => Ok(EventOutcome::Continue),
            "[DONE]" => Ok(EventOutcome::Done),
            data => {
                passthrough_json(data.as_bytes(), "a streamed value")?;
                sink.push_chunk(data);
                Ok(EventOutcome::Continue)
            }
        }
    }

    fn ended_cleanly(&self, _progress: &StreamProgress) -> bool {
        true
    }
}
