//! Cohere's chat wire types: the `POST /v2/chat` request body, the whole answer, and the typed
//! stream events.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::ToolCall;

// ---- wire types: requests ---------------------------------------------------------------------

#[derive(Serialize)]
pub(super) struct ChatBody<'a> {
    pub(super) model: &'a str,
    pub(super) messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tools: Option<Vec<WireTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response_format: Option<WireResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) thinking: Option<Thinking>,
    pub(super) stream: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(super) enum WireMessage<'a> {
    System {
        content: WireContent<'a>,
    },
    User {
        content: WireContent<'a>,
    },
    Assistant {
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<WireContent<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_plan: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_calls: Option<&'a [ToolCall]>,
    },
    Tool {
        tool_call_id: &'a str,
        content: WireContent<'a>,
    },
}

/// A string, or content parts.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum WireContent<'a> {
    Text(&'a str),
    Parts(Vec<WirePart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum WirePart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: WireImageUrl<'a> },
}

#[derive(Serialize)]
pub(super) struct WireImageUrl<'a> {
    /// An `http(s)` URL or a `data:<mime>;base64,…` URL: Cohere takes both as they are.
    pub(super) url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct WireTool<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: WireFunction<'a>,
}

#[derive(Serialize)]
pub(super) struct WireFunction<'a> {
    pub(super) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<&'a str>,
    pub(super) parameters: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum WireResponseFormat {
    Text,
    JsonObject {
        #[serde(skip_serializing_if = "Option::is_none")]
        json_schema: Option<Value>,
    },
}

#[derive(Serialize)]
pub(super) struct Thinking {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) token_budget: Option<u32>,
}

// ---- wire types: answers ----------------------------------------------------------------------

/// `POST /v2/chat` response (non-streamed).
#[derive(Deserialize)]
pub(super) struct ChatResponse {
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
    #[serde(default)]
    pub(super) message: Option<ResponseMessage>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

/// The assistant message, or (in an error body sent with a 200) the error text.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum ResponseMessage {
    Assistant(AssistantMessage),
    // The whole body is kept on the error; the text only tells the two apart.
    Error(#[allow(dead_code)] String),
}

#[derive(Deserialize)]
pub(super) struct AssistantMessage {
    #[serde(default)]
    pub(super) content: Option<Vec<ContentItem>>,
    #[serde(default)]
    pub(super) tool_calls: Option<Vec<WireToolCall>>,
    #[serde(default)]
    pub(super) tool_plan: Option<String>,
}

/// `{"type":"text","text":…}` or `{"type":"thinking","thinking":…}`.
#[derive(Deserialize)]
pub(super) struct ContentItem {
    #[serde(rename = "type", default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) thinking: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct WireToolCall {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) function: Option<WireFunctionCall>,
}

#[derive(Deserialize, Default)]
pub(super) struct WireFunctionCall {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) arguments: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) billed_units: Option<Units>,
    #[serde(default)]
    pub(super) tokens: Option<Units>,
    /// Prompt tokens served from Cohere's cache, when reported.
    #[serde(default)]
    pub(super) cached_tokens: Option<f64>,
}

/// Cohere reports counts as JSON numbers that may carry a fraction (`12.0`).
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
pub(super) struct Units {
    #[serde(default)]
    pub(super) input_tokens: Option<f64>,
    #[serde(default)]
    pub(super) output_tokens: Option<f64>,
}

/// One streamed event, named by its `type`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(super) enum StreamEvent {
    MessageStart {
        #[serde(default)]
        id: Option<String>,
    },
    ContentStart {
        #[serde(default)]
        delta: Option<MessageDelta<ContentDelta>>,
    },
    ContentDelta {
        #[serde(default)]
        delta: Option<MessageDelta<ContentDelta>>,
    },
    ToolPlanDelta {
        #[serde(default)]
        delta: Option<MessageDelta<ToolPlanDelta>>,
    },
    ToolCallStart {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<MessageDelta<ToolCallsDelta>>,
    },
    ToolCallDelta {
        #[serde(default)]
        index: Option<u64>,
        #[serde(default)]
        delta: Option<MessageDelta<ToolCallsDelta>>,
    },
    MessageEnd {
        #[serde(default)]
        delta: Option<MessageEndDelta>,
    },
    /// content-end, tool-call-end, citation-start/-end, debug and anything newer.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
pub(super) struct MessageDelta<T> {
    pub(super) message: Option<T>,
}

#[derive(Deserialize)]
pub(super) struct ContentDelta {
    #[serde(default)]
    pub(super) content: Option<ContentItem>,
}

#[derive(Deserialize)]
pub(super) struct ToolPlanDelta {
    #[serde(default)]
    pub(super) tool_plan: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ToolCallsDelta {
    #[serde(default)]
    pub(super) tool_calls: Option<WireToolCall>,
}

#[derive(Deserialize)]
pub(super) struct MessageEndDelta {
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
    #[serde(default)]
    pub(super) error: Option<String>,
}

/// The body of a Cohere failure: `{"message": …}` (sometimes with an `id`).
#[derive(Deserialize)]
pub(super) struct ErrorBody {
    #[allow(dead_code)] // Only its presence matters: it tells an error body from an answer.
    pub(super) message: String,
}
