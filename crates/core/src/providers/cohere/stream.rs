//! Cohere's typed stream events (`message-start`, `content-delta`, `tool-call-*`, `message-end`,
//! …) → canonical chunks.

use std::collections::HashMap;

use super::response::{body_of, error_instead, finish_reason, generation_error, in_band_error};
use super::wire::{MessageEndDelta, StreamEvent};
use crate::canonical::ChunkWriter;
use crate::error::{Error, ErrorKind};
use crate::providers::openai::bad_json;
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;

/// One stream's state: Cohere's typed events in, canonical chunks out.
#[derive(Default)]
pub(super) struct CohereStream {
    /// The model asked for: Cohere's events do not name it.
    model: String,
    writer: Option<ChunkWriter>,
    /// Cohere's tool-call `index` → the canonical index (0, 1, … in order of appearance).
    tool_indexes: HashMap<u64, u32>,
    tools_started: u32,
    last_tool: Option<u32>,
}

impl CohereStream {
    pub(super) fn new(model: &str) -> Self {
        Self {
            model: model.to_string(),
            ..Self::default()
        }
    }

    /// The writer, opening the stream with the role chunk the first time.
    fn writer(&mut self, sink: &mut StreamSink, id: Option<String>) -> &ChunkWriter {
        self.writer.get_or_insert_with(|| {
            let writer = ChunkWriter::new(id.unwrap_or_default(), self.model.clone());
            writer.role(sink);
            writer
        })
    }

    fn tool_index(&mut self, cohere: Option<u64>, starting: bool) -> u32 {
        let index = if starting {
            let next = self.tools_started;
            self.tools_started += 1;
            if let Some(i) = cohere {
                self.tool_indexes.insert(i, next);
            }
            next
        } else {
            cohere
                .and_then(|i| self.tool_indexes.get(&i).copied())
                .or(self.last_tool)
                .unwrap_or(0)
        };
        self.last_tool = Some(index);
        index
    }

    fn event(&mut self, data: &str, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let event: StreamEvent = match serde_json::from_str(data) {
            Ok(event) => event,
            Err(e) => {
                return Err(error_instead(data.as_bytes())
                    .unwrap_or_else(|| bad_json("a stream event", e, data.as_bytes())))
            }
        };
        match event {
            StreamEvent::MessageStart { id } => {
                self.writer(sink, id);
            }
            StreamEvent::ContentStart { delta } | StreamEvent::ContentDelta { delta } => {
                let Some(content) = delta.and_then(|d| d.message).and_then(|m| m.content) else {
                    return Ok(EventOutcome::Continue);
                };
                let writer = self.writer(sink, None);
                if let Some(thinking) = &content.thinking {
                    writer.reasoning(sink, thinking);
                }
                if let Some(text) = &content.text {
                    writer.text(sink, text);
                }
            }
            StreamEvent::ToolPlanDelta { delta } => {
                if let Some(plan) = delta.and_then(|d| d.message).and_then(|m| m.tool_plan) {
                    self.writer(sink, None).reasoning(sink, &plan);
                }
            }
            StreamEvent::ToolCallStart { index, delta } => {
                let call = delta
                    .and_then(|d| d.message)
                    .and_then(|m| m.tool_calls)
                    .unwrap_or_default();
                let function = call.function.unwrap_or_default();
                let i = self.tool_index(index, true);
                let writer = self.writer(sink, None);
                writer.tool_call_start(
                    sink,
                    i,
                    call.id.as_deref().unwrap_or(""),
                    function.name.as_deref().unwrap_or(""),
                );
                writer.tool_call_arguments(sink, i, function.arguments.as_deref().unwrap_or(""));
            }
            StreamEvent::ToolCallDelta { index, delta } => {
                let arguments = delta
                    .and_then(|d| d.message)
                    .and_then(|m| m.tool_calls)
                    .and_then(|c| c.function)
                    .and_then(|f| f.arguments);
                if let Some(arguments) = arguments {
                    let i = self.tool_index(index, false);
                    self.writer(sink, None)
                        .tool_call_arguments(sink, i, &arguments);
                }
            }
            StreamEvent::MessageEnd { delta } => {
                let delta = delta.unwrap_or(MessageEndDelta {
                    finish_reason: None,
                    usage: None,
                    error: None,
                });
                let raw = delta.finish_reason.unwrap_or_default();
                let error = delta.error.as_deref().filter(|e| !e.is_empty());
                if let (true, Some(error)) = (raw.is_empty(), error) {
                    return Err(generation_error(ErrorKind::UpstreamError, error, "error"));
                }
                let reason = finish_reason(&raw, error)?;
                let writer = self.writer(sink, None).clone();
                writer.finish(sink, reason, &raw);
                if let Some(usage) = delta.usage {
                    writer.usage(sink, &usage.canonical());
                }
                return Ok(EventOutcome::Done);
            }
            StreamEvent::Other => {}
        }
        Ok(EventOutcome::Continue)
    }
}

impl StreamDecode for CohereStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let data = event.data.trim();
        // Cohere ends at `message-end`; an empty keep-alive or a `[DONE]` some proxies add
        // carries nothing.
        if data.is_empty() || data == "[DONE]" {
            return Ok(EventOutcome::Continue);
        }
        if event.event.as_deref() == Some("error") {
            return Err(in_band_error(body_of(data.as_bytes())));
        }
        self.event(data, sink)
    }
}
