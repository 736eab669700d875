//! The named-event SSE stream (`message_start` … `message_stop`) as canonical
//! `chat.completion.chunk`s.

use super::response::{finish_reason, in_band_error};
use super::wire::{ResponseBlock, StreamDelta, StreamEvent, WireUsage};
use super::JSON_TOOL;
use crate::canonical::ChunkWriter;
use crate::error::Error;
use crate::providers::support::parse_event;
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;

/// What a content block of the stream turns into.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BlockState {
    Text,
    Thinking,
    /// A tool call: its canonical index (order among tool calls) and whether any argument text
    /// was sent.
    Tool {
        index: u32,
        sent: bool,
    },
    /// The `response_format` tool: its input is streamed as text content.
    Json {
        sent: bool,
    },
    /// Server tools, redacted thinking, …: nothing canonical.
    Other,
}

/// Folds Anthropic's stream events into canonical chunks.
#[derive(Debug, Default)]
pub(crate) struct AnthropicStream {
    writer: Option<ChunkWriter>,
    /// By Anthropic content index; a message has few blocks.
    blocks: Vec<(u32, BlockState)>,
    next_tool: u32,
    finished: bool,
    usage: WireUsage,
}

/// The stream's writer, opened (role chunk) on first use.
fn opened<'w>(
    slot: &'w mut Option<ChunkWriter>,
    sink: &mut StreamSink,
    id: &str,
    model: &str,
) -> &'w ChunkWriter {
    slot.get_or_insert_with(|| {
        let writer = ChunkWriter::new(id, model);
        writer.role(sink);
        writer
    })
}

impl AnthropicStream {
    fn block(&mut self, index: u32) -> Option<&mut BlockState> {
        self.blocks
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, state)| state)
    }

    fn start_block(&mut self, index: u32, block: ResponseBlock, sink: &mut StreamSink) {
        let writer = opened(&mut self.writer, sink, "", "");
        let state = match block.kind.as_str() {
            "text" => {
                writer.text(sink, block.text.as_deref().unwrap_or(""));
                BlockState::Text
            }
            "thinking" => {
                writer.reasoning(sink, block.thinking.as_deref().unwrap_or(""));
                BlockState::Thinking
            }
            "tool_use" => {
                // The input opens as `{}` and arrives as `input_json_delta`s; anything else here
                // is a complete input sent at once.
                let initial = block
                    .input
                    .filter(|i| i.as_object().is_none_or(|o| !o.is_empty()))
                    .map(|i| i.to_string());
                let name = block.name.unwrap_or_default();
                if name == JSON_TOOL {
                    if let Some(input) = &initial {
                        writer.text(sink, input);
                    }
                    BlockState::Json {
                        sent: initial.is_some(),
                    }
                } else {
                    let index = self.next_tool;
                    self.next_tool += 1;
                    writer.tool_call_start(sink, index, block.id.as_deref().unwrap_or(""), &name);
                    if let Some(input) = &initial {
                        writer.tool_call_arguments(sink, index, input);
                    }
                    BlockState::Tool {
                        index,
                        sent: initial.is_some(),
                    }
                }
            }
            _ => BlockState::Other,
        };
        self.blocks.push((index, state));
    }

    fn delta(&mut self, index: u32, delta: &StreamDelta<'_>, sink: &mut StreamSink) {
        let Some(state) = self
            .blocks
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, s)| s)
        else {
            return;
        };
        let writer = opened(&mut self.writer, sink, "", "");
        match (delta.kind.as_deref(), state) {
            (Some("text_delta"), _) => writer.text(sink, delta.text.as_deref().unwrap_or("")),
            (Some("thinking_delta"), _) => {
                writer.reasoning(sink, delta.thinking.as_deref().unwrap_or(""))
            }
            (Some("input_json_delta"), BlockState::Tool { index, sent }) => {
                let fragment = delta.partial_json.as_deref().unwrap_or("");
                *sent |= !fragment.is_empty();
                writer.tool_call_arguments(sink, *index, fragment);
            }
            (Some("input_json_delta"), BlockState::Json { sent }) => {
                let fragment = delta.partial_json.as_deref().unwrap_or("");
                *sent |= !fragment.is_empty();
                writer.text(sink, fragment);
            }
            // signature_delta, citations_delta: no canonical field.
            _ => {}
        }
    }

    /// A tool call whose input never arrived had no arguments: `{}`, as OpenAI sends it.
    fn stop_block(&mut self, index: u32, sink: &mut StreamSink) {
        let Some(state) = self.block(index).copied() else {
            return;
        };
        let writer = opened(&mut self.writer, sink, "", "");
        match state {
            BlockState::Tool { index, sent: false } => {
                writer.tool_call_arguments(sink, index, "{}")
            }
            BlockState::Json { sent: false } => writer.text(sink, "{}"),
            _ => {}
        }
    }
}

impl StreamDecode for AnthropicStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let Some(parsed) = parse_event::<StreamEvent>(event, "a stream event")? else {
            return Ok(EventOutcome::Continue);
        };
        let kind = parsed
            .kind
            .as_deref()
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                let (id, model) = parsed
                    .message
                    .as_ref()
                    .map_or(("", ""), |m| (m.id.as_str(), m.model.as_str()));
                opened(&mut self.writer, sink, id, model);
                if let Some(usage) = parsed.message.and_then(|m| m.usage) {
                    self.usage.merge(&usage);
                }
            }
            "content_block_start" => {
                let index = parsed.index.unwrap_or(0);
                let block = parsed.content_block.unwrap_or_default();
                self.start_block(index, block, sink);
            }
            "content_block_delta" => {
                if let Some(delta) = &parsed.delta {
                    self.delta(parsed.index.unwrap_or(0), delta, sink);
                }
            }
            "content_block_stop" => self.stop_block(parsed.index.unwrap_or(0), sink),
            "message_delta" => {
                if let Some(usage) = &parsed.usage {
                    self.usage.merge(usage);
                }
                let stop = parsed.delta.and_then(|d| d.stop_reason);
                let writer = opened(&mut self.writer, sink, "", "");
                match stop {
                    Some(raw) if !self.finished => {
                        self.finished = true;
                        writer.finish(sink, finish_reason(&raw, self.next_tool > 0), &raw);
                        writer.usage(sink, &self.usage.normalise());
                    }
                    // A later delta's counts are cumulative: the last usage chunk wins.
                    _ if self.finished && parsed.usage.is_some() => {
                        writer.usage(sink, &self.usage.normalise())
                    }
                    _ => {}
                }
            }
            "message_stop" => return Ok(EventOutcome::Done),
            "error" => {
                return Err(in_band_error(
                    serde_json::from_str(event.data.trim()).unwrap_or_default(),
                ))
            }
            // ping, and event types added later (Anthropic's versioning policy).
            _ => {}
        }
        Ok(EventOutcome::Continue)
    }
}
