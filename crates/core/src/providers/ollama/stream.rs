//! The `/api/chat` NDJSON stream → canonical `chat.completion.chunk`s.

use super::response::{arguments_text, call_id, finish_reason, in_band_error, random_id, usage_of};
use super::wire::ChatAnswer;
use crate::canonical::ChunkWriter;
use crate::error::Error;
use crate::providers::support::parse_event;
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;

/// One `/api/chat` stream: NDJSON lines, each a message delta; the line with `done: true` ends it
/// with the reason and the token counts.
#[derive(Default)]
pub(super) struct OllamaStream {
    writer: Option<ChunkWriter>,
    /// Tool calls so far: Ollama sends each whole, possibly one per line.
    tool_calls: u32,
}

impl StreamDecode for OllamaStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let Some(line) = parse_event::<ChatAnswer>(event, "a stream line")? else {
            return Ok(EventOutcome::Continue);
        };
        if let Some(error) = line.error.clone().filter(|e| !e.is_null()) {
            return Err(in_band_error(error));
        }
        let writer = self.writer.get_or_insert_with(|| {
            let w = ChunkWriter::new(random_id("chatcmpl-"), line.model.clone());
            w.role(sink);
            w
        });
        if let Some(message) = &line.message {
            if let Some(thinking) = &message.thinking {
                writer.reasoning(sink, thinking);
            }
            if let Some(content) = &message.content {
                writer.text(sink, content);
            }
            for call in message.tool_calls.iter().flatten() {
                let index = self.tool_calls;
                self.tool_calls += 1;
                writer.tool_call_start(sink, index, &call_id(call), &call.function.name);
                writer.tool_call_arguments(
                    sink,
                    index,
                    &arguments_text(call.function.arguments.as_deref()),
                );
            }
        }
        if !line.done {
            return Ok(EventOutcome::Continue);
        }
        let reason = finish_reason(line.done_reason.as_deref(), self.tool_calls > 0);
        writer.finish(sink, reason, line.done_reason.as_deref().unwrap_or(""));
        writer.usage(sink, &usage_of(&line));
        Ok(EventOutcome::Done)
    }
}
