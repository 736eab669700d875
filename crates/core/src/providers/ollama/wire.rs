//! Ollama's wire types: the `/api/chat` and `/api/embed` bodies we send, the answers we read, and
//! the OpenAI-shaped embeddings list we hand back.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

// ---- wire types: requests ---------------------------------------------------------------------

/// `POST /api/chat`.
#[derive(Serialize)]
pub(super) struct ChatBody<'a> {
    pub(super) model: &'a str,
    pub(super) messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tools: Option<Vec<WireTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) format: Option<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(super) options: Map<String, Value>,
    /// Ollama streams unless told otherwise: always stated.
    pub(super) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) think: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) keep_alive: Option<Value>,
}

#[derive(Serialize, Debug, PartialEq)]
pub(super) struct WireMessage {
    pub(super) role: &'static str,
    pub(super) content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) images: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tool_calls: Vec<WireToolCallOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_call_id: Option<String>,
}

#[derive(Serialize, Debug, PartialEq)]
pub(super) struct WireToolCallOut {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(super) id: String,
    pub(super) function: WireFunctionOut,
}

#[derive(Serialize, Debug, PartialEq)]
pub(super) struct WireFunctionOut {
    pub(super) index: usize,
    pub(super) name: String,
    /// A JSON object, not JSON text.
    pub(super) arguments: Value,
}

#[derive(Serialize)]
pub(super) struct WireTool<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: WireToolFunction<'a>,
}

#[derive(Serialize)]
pub(super) struct WireToolFunction<'a> {
    pub(super) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<&'a str>,
    pub(super) parameters: Cow<'a, Value>,
}

/// `POST /api/embed`.
#[derive(Serialize)]
pub(super) struct EmbedBody {
    pub(super) model: String,
    pub(super) input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) truncate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) keep_alive: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) options: Option<Map<String, Value>>,
}

/// OpenAI's embeddings request, as it reaches `embed_request`.
#[derive(Deserialize)]
pub(super) struct EmbedRequest {
    pub(super) model: String,
    pub(super) input: Value,
    #[serde(default)]
    pub(super) dimensions: Option<u32>,
    #[serde(default)]
    pub(super) encoding_format: Option<String>,
    #[serde(default)]
    pub(super) user: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Map<String, Value>,
}

// ---- wire types: answers ----------------------------------------------------------------------

/// A whole `/api/chat` answer, and equally one line of its stream.
#[derive(Deserialize)]
pub(super) struct ChatAnswer {
    #[serde(default)]
    pub(super) model: String,
    #[serde(default)]
    pub(super) message: Option<AnswerMessage>,
    #[serde(default)]
    pub(super) done: bool,
    #[serde(default)]
    pub(super) done_reason: Option<String>,
    /// Omitted when zero.
    #[serde(default)]
    pub(super) prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub(super) eval_count: Option<u64>,
    #[serde(default)]
    pub(super) error: Option<Value>,
}

#[derive(Deserialize, Default)]
pub(super) struct AnswerMessage {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) thinking: Option<String>,
    #[serde(default)]
    pub(super) tool_calls: Option<Vec<AnswerToolCall>>,
}

#[derive(Deserialize)]
pub(super) struct AnswerToolCall {
    /// Sent by newer servers only.
    #[serde(default)]
    pub(super) id: Option<String>,
    pub(super) function: AnswerFunction,
}

#[derive(Deserialize)]
pub(super) struct AnswerFunction {
    pub(super) name: String,
    #[serde(default)]
    pub(super) arguments: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
pub(super) struct EmbedAnswer<'a> {
    #[serde(default)]
    pub(super) model: String,
    #[serde(borrow, default)]
    pub(super) embeddings: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    pub(super) prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub(super) error: Option<Value>,
}
