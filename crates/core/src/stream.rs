//! Streamed answers, delivered in batches of whatever is ready so JS pays one callback per batch,
//! not per token.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc::{self, error::TryRecvError};
use tokio::task::AbortHandle;

use crate::error::{Error, Redactor};
use crate::framing::FrameDecoder;
use crate::providers::openai::passthrough_json;
use crate::providers::{ChatProvider, EventOutcome, Framing, Provider, StreamDecode};
use crate::sse::SseEvent;
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

/// Frames read ahead of the consumer. Bounded, so a stalled consumer stalls the upstream read
/// (TCP backpressure) instead of buffering without limit.
const READ_AHEAD: usize = 256;

/// Reads the body on its own task so frames keep arriving while JS handles a batch: hyper hands
/// out one frame at a time and decodes the next only when its connection task runs, so reading
/// in place would see one frame per batch.
fn pump(mut body: Body, tx: mpsc::Sender<reqwest::Result<Bytes>>) -> AbortHandle {
    tokio::spawn(async move {
        while let Some(frame) = body.next().await {
            let failed = frame.is_err();
            if tx.send(frame).await.is_err() || failed {
                break;
            }
        }
    })
    .abort_handle()
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// An open streamed answer. Dropping it aborts the upstream request.
pub struct ChatStream {
    frames: mpsc::Receiver<reqwest::Result<Bytes>>,
    reader: AbortHandle,
    frames_decoder: FrameDecoder,
    decoder: Box<dyn StreamDecode>,
    /// Scratch output of the decoder, moved into `events` at once.
    decoded: Vec<SseEvent>,
    events: VecDeque<SseEvent>,
    /// Raised once the events framed before it are decoded.
    framing_error: Option<Error>,
    sink: StreamSink,
    idle_timeout: Duration,
    redactor: Redactor,
    finished: bool,
    pending_error: Option<Error>,
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.reader.abort();
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
        let (tx, frames) = mpsc::channel(READ_AHEAD);
        Self {
            frames,
            reader: pump(Box::pin(response.bytes_stream()), tx),
            frames_decoder: FrameDecoder::new(framing),
            decoder,
            decoded: Vec::new(),
            events: VecDeque::new(),
            framing_error: None,
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
            let frame = if self.sink.len() == 0 {
                match tokio::time::timeout(self.idle_timeout, self.frames.recv()).await {
                    Ok(frame) => frame,
                    Err(_) => {
                        self.pending_error = Some(Error::Timeout {
                            phase: "waiting for the next stream chunk",
                            after: self.idle_timeout,
                        });
                        continue;
                    }
                }
            } else {
                match self.frames.try_recv() {
                    Ok(frame) => Some(frame),
                    Err(TryRecvError::Empty) => return Ok(self.sink.take_batch()),
                    Err(TryRecvError::Disconnected) => None,
                }
            };
            match frame {
                Some(Ok(bytes)) => self.decode(|decoder, out| decoder.feed(&bytes, out)),
                Some(Err(e)) => {
                    self.pending_error = Some(self.redactor.error(Error::from_transport(&e)))
                }
                None => {
                    self.decode(FrameDecoder::finish);
                    self.drain_events();
                    self.end_of_body();
                }
            }
        }
    }

    fn decode(
        &mut self,
        step: impl FnOnce(&mut FrameDecoder, &mut Vec<SseEvent>) -> Result<(), Error>,
    ) {
        let framed = step(&mut self.frames_decoder, &mut self.decoded);
        self.events.extend(self.decoded.drain(..));
        if let Err(e) = framed {
            // Events framed before the bad bytes are still delivered first.
            self.framing_error.get_or_insert(e);
        }
    }

    /// Decode pending events into the batch, up to its size limit; the rest wait for the next
    /// batch. Nothing after the end or an error is decoded.
    fn drain_events(&mut self) {
        while self.sink.len() < MAX_BATCH && !self.finished && self.pending_error.is_none() {
            let Some(event) = self.events.pop_front() else {
                if let Some(e) = self.framing_error.take() {
                    self.pending_error = Some(self.redactor.error(e));
                }
                return;
            };
            match self.decoder.decode(&event, &mut self.sink) {
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
        if self.decoder.ended_cleanly(&self.sink.progress) {
            self.finished = true;
        } else {
            self.pending_error = Some(Error::BadResponse(format!(
                "the stream ended after {} chunks without a finish reason or [DONE]",
                self.sink.progress.chunks
            )));
        }
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
