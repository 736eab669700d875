//! Streamed answers (`:streamGenerateContent?alt=sse`) → canonical chunks.

use super::response::{
    arguments_json, block_reason, blocked_prompt, call_id, finish_reason, in_band_error,
};
use super::wire::GenerateContentResponse;
use crate::canonical::ChunkWriter;
use crate::error::Error;
use crate::providers::support::{parse_event, random_id};
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

/// Stream state: Gemini sends whole `GenerateContentResponse`s, each with the new text and the
/// running usage; the last carries the finish reason. There is no end marker: the body ends.
pub(super) struct GeminiStream {
    /// The requested model, for a stream whose first event has no `modelVersion`.
    model: String,
    writer: Option<ChunkWriter>,
    response_id: String,
    tool_calls: usize,
    finished: bool,
    usage: Option<Usage>,
    usage_sent: Option<Usage>,
}

impl GeminiStream {
    pub(super) fn new(model: &str) -> Self {
        Self {
            model: model.to_string(),
            writer: None,
            response_id: String::new(),
            tool_calls: 0,
            finished: false,
            usage: None,
            usage_sent: None,
        }
    }
}

impl StreamDecode for GeminiStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let Some(response) = parse_event::<GenerateContentResponse>(event, "a stream event")?
        else {
            return Ok(EventOutcome::Continue);
        };
        if let Some(error) = response.error.clone().filter(|e| !e.is_null()) {
            return Err(in_band_error(error));
        }
        if response.candidates.is_empty() {
            if let Some(feedback) = block_reason(&response) {
                return Err(blocked_prompt(feedback));
            }
        }
        let writer = self.writer.get_or_insert_with(|| {
            self.response_id = response
                .response_id
                .clone()
                .unwrap_or_else(|| random_id(""));
            let w = ChunkWriter::new(
                response
                    .response_id
                    .clone()
                    .unwrap_or_else(|| format!("chatcmpl-{}", self.response_id)),
                response
                    .model_version
                    .clone()
                    .unwrap_or_else(|| self.model.clone()),
            );
            w.role(sink);
            w
        });
        if let Some(candidate) = response.candidates.first() {
            for part in candidate.content.iter().flat_map(|c| &c.parts) {
                if let Some(call) = &part.function_call {
                    let index = self.tool_calls;
                    let id = call_id(
                        call.id.as_deref(),
                        &self.response_id,
                        index,
                        part.thought_signature.as_deref(),
                    );
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    writer.tool_call_start(sink, index, &id, &call.name);
                    writer.tool_call_arguments(sink, index, &arguments_json(call.args.as_ref()));
                    self.tool_calls += 1;
                } else if let Some(text) = &part.text {
                    if part.thought == Some(true) {
                        writer.reasoning(sink, text);
                    } else {
                        writer.text(sink, text);
                    }
                }
            }
            if let Some(usage) = response.usage_metadata {
                self.usage = Some(usage.to_usage());
            }
            if let (Some(reason), false) = (&candidate.finish_reason, self.finished) {
                self.finished = true;
                writer.finish(sink, finish_reason(reason, self.tool_calls > 0), reason);
            }
        } else if let Some(usage) = response.usage_metadata {
            self.usage = Some(usage.to_usage());
        }
        // Usage follows the finish chunk (and is sent again if a later event revises it).
        if self.finished && self.usage.is_some() && self.usage != self.usage_sent {
            if let Some(usage) = &self.usage {
                writer.usage(sink, usage);
            }
            self.usage_sent = self.usage;
        }
        Ok(EventOutcome::Continue)
    }
}
