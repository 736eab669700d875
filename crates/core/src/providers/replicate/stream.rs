//! The prediction's event stream (`urls.stream`) as canonical chunks: `output` tokens, `error`
//! events and the closing `done`.

use serde_json::Value;

use super::response::failure;
use crate::canonical::{ChunkWriter, FinishReason};
use crate::error::Error;
use crate::providers::support::random_id;
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;

/// Replicate's event stream as canonical chunks.
pub(super) struct ReplicateStream {
    writer: ChunkWriter,
    opened: bool,
}

impl ReplicateStream {
    /// The stream of an answer of `model`, the model asked for.
    pub(super) fn new(model: &str) -> Self {
        // The stream names neither the prediction nor the model: the id is made up here and the
        // model is the one the request named.
        let id = random_id("replicate-");
        Self {
            writer: ChunkWriter::new(id, model),
            opened: false,
        }
    }

    fn open(&mut self, sink: &mut StreamSink) {
        if !self.opened {
            self.writer.role(sink);
            self.opened = true;
        }
    }
}

impl StreamDecode for ReplicateStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        match event.event.as_deref() {
            Some("output") => {
                self.open(sink);
                self.writer.text(sink, &event.data);
                Ok(EventOutcome::Continue)
            }
            Some("error") => {
                let data: Value = serde_json::from_str(&event.data)
                    .unwrap_or_else(|_| Value::String(event.data.clone()));
                let text = data
                    .get("detail")
                    .and_then(Value::as_str)
                    .map_or_else(|| event.data.clone(), str::to_string);
                Err(failure(&text, "event", data, true))
            }
            Some("done") => {
                let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
                match data.get("reason").and_then(Value::as_str).unwrap_or("") {
                    "" => {
                        self.open(sink);
                        self.writer.finish(sink, FinishReason::Stop, "succeeded");
                        Ok(EventOutcome::Done)
                    }
                    "canceled" => Err(failure("the prediction was canceled", "event", data, false)),
                    reason => Err(failure(
                        &format!("the prediction ended: {reason}"),
                        "event",
                        data,
                        true,
                    )),
                }
            }
            // `logs`, keep-alives and anything newer carry no answer.
            _ => Ok(EventOutcome::Continue),
        }
    }
}
