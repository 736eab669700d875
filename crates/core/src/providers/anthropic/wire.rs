//! Anthropic's wire types: the Messages request, the Message answer, the stream's events and the
//! model list.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::usage::{CompletionDetails, PromptDetails, Usage};

// ---- request wire types -----------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub(super) struct MessagesRequest {
    pub(super) model: String,
    pub(super) max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) system: Option<System>,
    pub(super) messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_choice: Option<WireToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_k: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) thinking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stream: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum System {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Debug, Serialize)]
pub(super) struct WireMessage {
    pub(super) role: &'static str,
    pub(super) content: WireContent,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum WireContent {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block {
    Text {
        text: String,
    },
    Image {
        source: WireImage,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<WireContent>,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum WireImage {
    Url { url: String },
    Base64 { media_type: String, data: String },
}

#[derive(Debug, Serialize)]
pub(super) struct WireTool {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<String>,
    pub(super) input_schema: Value,
}

#[derive(Debug, Serialize)]
pub(super) struct WireToolChoice {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) disable_parallel_tool_use: Option<bool>,
}

impl WireToolChoice {
    pub(super) fn of(kind: &'static str, name: Option<String>) -> Self {
        Self {
            kind,
            name,
            disable_parallel_tool_use: None,
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Metadata {
    pub(super) user_id: String,
}

// ---- response wire types ----------------------------------------------------------------------

/// `POST /v1/messages` response (or an error object answered with a 200).
#[derive(Deserialize)]
pub(super) struct MessageResponse {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    pub(super) model: String,
    #[serde(default)]
    pub(super) content: Option<Vec<ResponseBlock>>,
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
    #[serde(default)]
    pub(super) error: Option<Value>,
}

/// One content block of a response, or the opening of one in a stream. Block types Switchyard
/// has no canonical form for (server tools, redacted thinking, …) leave `kind` unmatched.
#[derive(Deserialize, Default)]
pub(super) struct ResponseBlock {
    #[serde(rename = "type", default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) thinking: Option<String>,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) input: Option<Value>,
}

/// Token counts as Anthropic reports them. In a stream `message_start` carries the input side
/// and `message_delta` the cumulative output (and, on newer API versions, the input again).
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens_details: Option<OutputTokensDetails>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
pub(super) struct OutputTokensDetails {
    #[serde(default)]
    pub(super) thinking_tokens: Option<u64>,
}

impl WireUsage {
    pub(super) fn merge(&mut self, later: &WireUsage) {
        let pick = |a: &mut Option<u64>, b: Option<u64>| {
            if b.is_some() {
                *a = b;
            }
        };
        pick(&mut self.input_tokens, later.input_tokens);
        pick(&mut self.output_tokens, later.output_tokens);
        pick(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        pick(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
        if later.output_tokens_details.is_some() {
            self.output_tokens_details = later.output_tokens_details;
        }
    }

    /// OpenAI's counts. Anthropic's `input_tokens` excludes cached tokens: the whole prompt is
    /// `input + cache_creation + cache_read` (its docs' definition); cache reads are
    /// `cached_tokens`, cache writes count as ordinary prompt tokens.
    pub(super) fn normalise(&self) -> Usage {
        let prompt = self.input_tokens.unwrap_or(0)
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0);
        let completion = self.output_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            prompt_tokens_details: self
                .cache_read_input_tokens
                .map(|cached_tokens| PromptDetails { cached_tokens }),
            completion_tokens_details: self
                .output_tokens_details
                .and_then(|d| d.thinking_tokens)
                .map(|reasoning_tokens| CompletionDetails { reasoning_tokens }),
        }
    }
}

/// One stream event's data. Flat rather than tagged so a text delta costs one borrowed parse.
#[derive(Deserialize)]
pub(super) struct StreamEvent<'a> {
    #[serde(rename = "type", borrow, default)]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) index: Option<u32>,
    #[serde(borrow, default)]
    pub(super) delta: Option<StreamDelta<'a>>,
    #[serde(default)]
    pub(super) content_block: Option<ResponseBlock>,
    #[serde(default)]
    pub(super) message: Option<StartMessage>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

/// `content_block_delta.delta` or `message_delta.delta`.
#[derive(Deserialize)]
pub(super) struct StreamDelta<'a> {
    #[serde(rename = "type", borrow, default)]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) thinking: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct StartMessage {
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    pub(super) model: String,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

#[derive(Deserialize)]
pub(super) struct ModelList {
    #[serde(default)]
    pub(super) data: Option<Vec<Map<String, Value>>>,
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
}
