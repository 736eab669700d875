//! ConverseStream events (one AWS event-stream message each, named by its `:event-type`) →
//! canonical chunks.

use std::collections::HashMap;

use serde::Deserialize;

use super::response::{finish_reason, is_exception, stream_exception};
use super::wire::{BlockDelta, BlockStart, MessageStop, Metadata};
use super::JSON_TOOL;
use crate::canonical::ChunkWriter;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::random_id;
use crate::providers::{EventOutcome, StreamDecode};
use crate::sse::SseEvent;
use crate::stream::StreamSink;

#[derive(Debug, Clone, Copy)]
enum OpenBlock {
    /// A caller's tool call, at this OpenAI tool index.
    Tool(u32),
    /// The structured answer: its input is the message text.
    Json,
}

/// Folds ConverseStream events into canonical chunks.
pub(super) struct ConverseStream {
    writer: ChunkWriter,
    started: bool,
    blocks: HashMap<u32, OpenBlock>,
    tool_calls: u32,
    finished: bool,
}

impl ConverseStream {
    pub(super) fn new(model: &str) -> Self {
        Self {
            writer: ChunkWriter::new(random_id("chatcmpl-bedrock-"), model),
            started: false,
            blocks: HashMap::new(),
            tool_calls: 0,
            finished: false,
        }
    }

    fn start(&mut self, sink: &mut StreamSink) {
        if !self.started {
            self.started = true;
            self.writer.role(sink);
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(event: &str, data: &'a str) -> Result<T, Error> {
    serde_json::from_str(data)
        .map_err(|e| bad_json(&format!("a {event} event"), e, data.as_bytes()))
}

impl StreamDecode for ConverseStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let Some(name) = event.event.as_deref() else {
            return Ok(EventOutcome::Continue);
        };
        let data = event.data.as_str();
        match name {
            "messageStart" => self.start(sink),
            "contentBlockStart" => {
                let start: BlockStart = parse(name, data)?;
                if let Some(tool) = start.start.and_then(|s| s.tool_use) {
                    self.start(sink);
                    let block = if tool.name == JSON_TOOL {
                        OpenBlock::Json
                    } else {
                        let index = self.tool_calls;
                        self.tool_calls += 1;
                        self.writer
                            .tool_call_start(sink, index, &tool.tool_use_id, &tool.name);
                        OpenBlock::Tool(index)
                    };
                    self.blocks.insert(start.content_block_index, block);
                }
            }
            "contentBlockDelta" => {
                let delta: BlockDelta = parse(name, data)?;
                self.start(sink);
                if let Some(text) = &delta.delta.text {
                    self.writer.text(sink, text);
                }
                if let Some(r) = delta.delta.reasoning_content.and_then(|r| r.text) {
                    self.writer.reasoning(sink, &r);
                }
                if let Some(tool) = &delta.delta.tool_use {
                    match self.blocks.get(&delta.content_block_index) {
                        Some(OpenBlock::Tool(index)) => {
                            self.writer.tool_call_arguments(sink, *index, &tool.input)
                        }
                        Some(OpenBlock::Json) => self.writer.text(sink, &tool.input),
                        None => {
                            return Err(Error::BadResponse(format!(
                            "tool input arrived for content block {} before its contentBlockStart",
                            delta.content_block_index
                        )))
                        }
                    }
                }
            }
            "contentBlockStop" => {}
            "messageStop" => {
                let stop: MessageStop = parse(name, data)?;
                self.start(sink);
                let reason = finish_reason(&stop.stop_reason, self.tool_calls > 0);
                self.writer.finish(sink, reason, &stop.stop_reason);
                self.finished = true;
            }
            "metadata" => {
                let meta: Metadata = parse(name, data)?;
                if let Some(usage) = meta.usage {
                    self.writer.usage(sink, &usage.to_usage());
                }
                // The last event: after the finish, the stream is complete.
                if self.finished {
                    return Ok(EventOutcome::Done);
                }
            }
            other if is_exception(other) => return Err(stream_exception(other, data)),
            // A newer event kind: nothing to say in OpenAI's format.
            _ => {}
        }
        Ok(EventOutcome::Continue)
    }
}
