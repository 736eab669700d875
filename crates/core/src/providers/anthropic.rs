//! Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`).
//!
//! Canonical (OpenAI chat) requests become Messages requests: system prompts move to the
//! top-level `system`, tool calls and results become `tool_use` / `tool_result` blocks, images
//! become `image` blocks. `response_format` has no Messages equivalent on every model, so it is
//! answered with a forced tool ([`JSON_TOOL`]) whose input is the answer; that input comes back as
//! the text content. Answers and the named-event SSE stream become canonical completions and
//! `chat.completion.chunk`s.

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openai::bad_json;
use super::{header, join_url, ChatProvider, Completion, EventOutcome, StreamDecode, WireRequest};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, FunctionCall, ImageSource,
    Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::{classify_common, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::{CompletionDetails, PromptDetails, Usage};

const ID: &str = "anthropic";

/// The Messages API version every request names.
pub(crate) const API_VERSION: &str = "2023-06-01";

/// `max_tokens` is required by Anthropic; this is sent when the caller set none.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The tool that carries a `response_format` answer (LiteLLM's name for the same fallback). Its
/// `tool_use` input is turned back into the text content, so callers never see it as a call.
pub(crate) const JSON_TOOL: &str = "json_tool_call";

/// `reasoning_effort` → extended-thinking `budget_tokens` (LiteLLM's budgets; 1024 is the
/// minimum Anthropic takes).
const THINKING_BUDGETS: &[(&str, u64)] = &[("low", 1024), ("medium", 2048), ("high", 4096)];

#[derive(Debug, Clone)]
pub struct Anthropic;

impl Anthropic {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

// ---- request wire types -----------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct MessagesRequest {
    model: String,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<System>,
    messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<WireToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum System {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Debug, Serialize)]
struct WireMessage {
    role: &'static str,
    content: WireContent,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WireContent {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
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
enum WireImage {
    Url { url: String },
    Base64 { media_type: String, data: String },
}

#[derive(Debug, Serialize)]
struct WireTool {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    input_schema: Value,
}

#[derive(Debug, Serialize)]
struct WireToolChoice {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_parallel_tool_use: Option<bool>,
}

impl WireToolChoice {
    fn of(kind: &'static str, name: Option<String>) -> Self {
        Self {
            kind,
            name,
            disable_parallel_tool_use: None,
        }
    }
}

#[derive(Debug, Serialize)]
struct Metadata {
    user_id: String,
}

// ---- response wire types ----------------------------------------------------------------------

/// `POST /v1/messages` response (or an error object answered with a 200).
#[derive(Deserialize)]
struct MessageResponse {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    content: Option<Vec<ResponseBlock>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

/// One content block of a response, or the opening of one in a stream. Block types Switchyard
/// has no canonical form for (server tools, redacted thinking, …) leave `kind` unmatched.
#[derive(Deserialize, Default)]
struct ResponseBlock {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<Value>,
}

/// Token counts as Anthropic reports them. In a stream `message_start` carries the input side
/// and `message_delta` the cumulative output (and, on newer API versions, the input again).
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens_details: Option<OutputTokensDetails>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq)]
struct OutputTokensDetails {
    #[serde(default)]
    thinking_tokens: Option<u64>,
}

impl WireUsage {
    fn merge(&mut self, later: &WireUsage) {
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
    fn normalise(&self) -> Usage {
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
struct StreamEvent<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default)]
    delta: Option<StreamDelta<'a>>,
    #[serde(default)]
    content_block: Option<ResponseBlock>,
    #[serde(default)]
    message: Option<StartMessage>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// `content_block_delta.delta` or `message_delta.delta`.
#[derive(Deserialize)]
struct StreamDelta<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<WireUsage>,
}

// ---- request mapping --------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

/// Non-empty text as a block list.
fn text_blocks(text: &str) -> Vec<Block> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Block::Text {
            text: text.to_string(),
        }]
    }
}

fn image_block(url: &str) -> Block {
    let source = match ImageSource::parse(url) {
        ImageSource::Url(url) => WireImage::Url { url },
        ImageSource::Base64 { media_type, data } => WireImage::Base64 { media_type, data },
    };
    Block::Image { source }
}

/// A user (or tool result) content: text and images. Empty text parts are left out (Anthropic
/// refuses empty text blocks).
fn content_blocks(content: &Content, role: &str) -> Result<Vec<Block>, Error> {
    match content {
        Content::Text(text) => Ok(text_blocks(text)),
        Content::Parts(parts) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    Part::Text { text } => blocks.extend(text_blocks(text)),
                    // `detail` is a resolution hint with no Anthropic counterpart: Anthropic
                    // always reads the image at its own resolution.
                    Part::ImageUrl { image_url } => blocks.push(image_block(&image_url.url)),
                    Part::File { .. } => {
                        return Err(invalid(format!(
                            "{ID} cannot take file parts (OpenAI file ids) in {role} messages: send the document as text or an image"
                        )))
                    }
                }
            }
            Ok(blocks)
        }
    }
}

/// Text-only content (system prompts, assistant turns).
fn text_only(content: &Content, role: &str) -> Result<String, Error> {
    if let Content::Parts(parts) = content {
        if parts.iter().any(|p| !matches!(p, Part::Text { .. })) {
            return Err(invalid(format!(
                "{ID} takes only text in {role} messages (no image or file parts)"
            )));
        }
    }
    Ok(content.text())
}

fn tool_use_block(call: &ToolCall) -> Result<Block, Error> {
    if call.kind != "function" {
        return Err(invalid(format!(
            "{ID} cannot take tool calls of type {:?}",
            call.kind
        )));
    }
    let arguments = call.function.arguments.trim();
    let input = if arguments.is_empty() {
        json!({})
    } else {
        serde_json::from_str::<Value>(arguments).map_err(|e| {
            invalid(format!(
                "the arguments of tool call {:?} are not valid JSON ({e})",
                call.id
            ))
        })?
    };
    if !input.is_object() {
        return Err(invalid(format!(
            "{ID} takes tool call arguments only as a JSON object (tool call {:?})",
            call.id
        )));
    }
    Ok(Block::ToolUse {
        id: call.id.clone(),
        name: call.function.name.clone(),
        input,
    })
}

fn tool_result_block(message: &Message) -> Result<Block, Error> {
    let tool_use_id = message
        .tool_call_id
        .clone()
        .ok_or_else(|| invalid("a tool message needs its tool_call_id"))?;
    let content = match &message.content {
        None => None,
        Some(Content::Text(text)) if text.is_empty() => None,
        Some(Content::Text(text)) => Some(WireContent::Text(text.clone())),
        Some(content) => {
            let blocks = content_blocks(content, "tool")?;
            (!blocks.is_empty()).then_some(WireContent::Blocks(blocks))
        }
    };
    Ok(Block::ToolResult {
        tool_use_id,
        content,
    })
}

/// System prompts and the alternating turns. Consecutive turns of one role are merged (tool
/// results become one user turn), as Anthropic reads them anyway.
fn translate_messages(messages: &[Message]) -> Result<(Option<System>, Vec<WireMessage>), Error> {
    let mut system: Vec<String> = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Block>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => {
                if let Some(content) = &message.content {
                    let text = text_only(content, "system")?;
                    if !text.is_empty() {
                        system.push(text);
                    }
                }
                continue;
            }
            Role::User => (
                "user",
                match &message.content {
                    Some(content) => content_blocks(content, "user")?,
                    None => Vec::new(),
                },
            ),
            Role::Assistant => {
                let mut blocks = match &message.content {
                    Some(content) => text_blocks(&text_only(content, "assistant")?),
                    None => Vec::new(),
                };
                for call in message.tool_calls.iter().flatten() {
                    blocks.push(tool_use_block(call)?);
                }
                ("assistant", blocks)
            }
            Role::Tool => ("user", vec![tool_result_block(message)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, merged)) if *last == role => merged.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(System::Text),
        _ => Some(System::Blocks(
            system
                .into_iter()
                .map(|text| Block::Text { text })
                .collect(),
        )),
    };
    let messages = turns
        .into_iter()
        .map(|(role, mut blocks)| {
            let content = match blocks.as_slice() {
                [Block::Text { .. }] => match blocks.pop() {
                    Some(Block::Text { text }) => WireContent::Text(text),
                    _ => unreachable!("matched a single text block"),
                },
                _ => WireContent::Blocks(blocks),
            };
            WireMessage { role, content }
        })
        .collect();
    Ok((system, messages))
}

fn wire_tool(name: String, description: Option<String>, schema: Option<Value>) -> WireTool {
    WireTool {
        name,
        description,
        input_schema: schema.unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
    }
}

/// The forced tool standing in for `response_format`, if any.
fn response_tool(format: Option<&ResponseFormat>) -> Option<WireTool> {
    match format? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(wire_tool(
            JSON_TOOL.into(),
            Some(
                "Respond with the answer as a JSON object: the input of this tool is the answer."
                    .into(),
            ),
            Some(json!({ "type": "object" })),
        )),
        ResponseFormat::JsonSchema { json_schema } => Some(wire_tool(
            JSON_TOOL.into(),
            Some(json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with the answer ({}) as this tool's input: the input is the answer.",
                    json_schema.name
                )
            })),
            Some(
                json_schema
                    .schema
                    .clone()
                    .unwrap_or_else(|| json!({ "type": "object" })),
            ),
        )),
    }
}

/// `reasoning_effort` as an extended-thinking config.
fn thinking_for(effort: &str) -> Result<Value, Error> {
    if effort == "none" {
        return Ok(json!({ "type": "disabled" }));
    }
    THINKING_BUDGETS
        .iter()
        .find(|(name, _)| *name == effort)
        .map(|(_, budget)| json!({ "type": "enabled", "budget_tokens": budget }))
        .ok_or_else(|| {
            invalid(format!(
                "{ID} cannot take reasoning_effort {effort:?}: use none, low, medium or high"
            ))
        })
}

/// The Messages request for a canonical chat request.
fn messages_request(mut req: ChatRequest, stream: bool) -> Result<MessagesRequest, Error> {
    // Anthropic-native parameters a caller may pass beside the OpenAI ones.
    let top_k = req.extra.remove("top_k");
    let mut thinking = req.extra.remove("thinking");
    let named = req
        .messages
        .iter()
        .any(|m| m.role != Role::Tool && m.name.is_some());
    req.reject_extra(
        ID,
        &[
            ("seed", req.seed.is_some()),
            ("frequency_penalty", req.frequency_penalty.is_some()),
            ("presence_penalty", req.presence_penalty.is_some()),
            ("n", req.n.is_some_and(|n| n != 1)),
            ("messages[].name", named),
        ],
    )?;
    if let Some(effort) = &req.reasoning_effort {
        if thinking.is_some() {
            return Err(invalid(format!(
                "{ID} takes reasoning_effort or thinking, not both"
            )));
        }
        thinking = Some(thinking_for(effort)?);
    }
    let budget = thinking
        .as_ref()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64);

    let (system, messages) = translate_messages(&req.messages)?;

    let mut tools: Vec<WireTool> = Vec::new();
    for tool in req.tools.take().into_iter().flatten() {
        let f = tool.function;
        if f.name == JSON_TOOL {
            return Err(invalid(format!(
                "{ID} reserves the tool name {JSON_TOOL} for response_format: rename the tool"
            )));
        }
        tools.push(wire_tool(f.name, f.description, f.parameters));
    }
    let user_tools = !tools.is_empty();
    let structured = response_tool(req.response_format.as_ref());

    let mut tool_choice = match (&req.tool_choice, structured.is_some()) {
        (None, false) => None,
        (Some(ToolChoice::Mode(mode)), false) => Some(match mode.as_str() {
            "auto" => WireToolChoice::of("auto", None),
            "required" => WireToolChoice::of("any", None),
            "none" => WireToolChoice::of("none", None),
            other => return Err(invalid(format!("{ID} cannot take tool_choice {other:?}"))),
        }),
        (Some(ToolChoice::Function { function }), _) => {
            Some(WireToolChoice::of("tool", Some(function.name.clone())))
        }
        // The answer is a call of the JSON tool: forced when it is the only tool, else one of
        // the tools must be called (the caller's, or the JSON tool to answer).
        (None, true) => Some(if user_tools {
            WireToolChoice::of("any", None)
        } else {
            WireToolChoice::of("tool", Some(JSON_TOOL.into()))
        }),
        (Some(ToolChoice::Mode(mode)), true) => Some(match mode.as_str() {
            "auto" | "required" if user_tools => WireToolChoice::of("any", None),
            "auto" | "required" | "none" => WireToolChoice::of("tool", Some(JSON_TOOL.into())),
            other => return Err(invalid(format!("{ID} cannot take tool_choice {other:?}"))),
        }),
    };
    if let Some(tool) = structured {
        tools.push(tool);
    }
    if req.parallel_tool_calls == Some(false) && !tools.is_empty() {
        let choice = tool_choice.get_or_insert_with(|| WireToolChoice::of("auto", None));
        if choice.kind != "none" {
            choice.disable_parallel_tool_use = Some(true);
        }
    }
    if budget.is_some()
        && tool_choice
            .as_ref()
            .is_some_and(|c| matches!(c.kind, "any" | "tool"))
    {
        return Err(invalid(format!(
            "{ID} cannot force tool use (tool_choice required or a named function, or response_format, which {ID} answers with a forced tool) while extended thinking (reasoning_effort) is on"
        )));
    }

    let max_tokens = match (req.max_output_tokens(), budget) {
        (Some(max), Some(budget)) if u64::from(max) <= budget => {
            return Err(invalid(format!(
                "{ID} needs max_tokens above the thinking budget ({budget} tokens): raise max_tokens or lower reasoning_effort"
            )))
        }
        (Some(max), _) => max,
        (None, Some(budget)) => {
            u32::try_from(budget).unwrap_or(u32::MAX).saturating_add(DEFAULT_MAX_TOKENS)
        }
        (None, None) => DEFAULT_MAX_TOKENS,
    };
    let stop_sequences = req
        .stop
        .as_ref()
        .map(|s| s.to_vec())
        .filter(|s| !s.is_empty());

    Ok(MessagesRequest {
        model: req.model,
        max_tokens,
        system,
        messages,
        tools,
        tool_choice,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k,
        stop_sequences,
        metadata: req.user.map(|user_id| Metadata { user_id }),
        thinking,
        stream: stream.then_some(true),
    })
}

/// `{base}/v1/{path}`, also when the base URL already ends in `/v1`.
fn api_url(base_url: &str, path: &str) -> String {
    if base_url.trim_end_matches('/').ends_with("/v1") {
        join_url(base_url, path)
    } else {
        join_url(base_url, &format!("v1/{path}"))
    }
}

fn versioned(mut request: WireRequest) -> WireRequest {
    request.headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    request
}

// ---- answers ----------------------------------------------------------------------------------

/// Anthropic's `stop_reason` in OpenAI's terms. `tool_use` that called only the
/// `response_format` tool is an ordinary answer.
fn finish_reason(raw: &str, tool_calls: bool) -> FinishReason {
    match raw {
        "tool_use" if tool_calls => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn, tool_use of the JSON tool, and anything newer.
        _ => FinishReason::Stop,
    }
}

/// The kind an Anthropic error object names, refined by its message where Anthropic reuses
/// `invalid_request_error` (context length, content filtering). `None` when it names nothing
/// Anthropic documents.
fn error_kind(error: &Value) -> Option<ErrorKind> {
    let kind = error.get("type").and_then(Value::as_str)?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    Some(match kind {
        "rate_limit_error" => ErrorKind::RateLimited,
        "overloaded_error" => ErrorKind::Overloaded,
        "authentication_error" | "permission_error" => ErrorKind::Auth,
        "not_found_error" => ErrorKind::NotFound,
        "api_error" => ErrorKind::UpstreamError,
        "invalid_request_error" | "request_too_large" => {
            if says(&[
                "prompt is too long",
                "exceed context limit",
                "context window",
                "too many total text bytes",
            ]) {
                ErrorKind::ContextLengthExceeded
            } else if says(&["content filtering", "content policy", "usage policy"]) {
                ErrorKind::ContentFilter
            } else {
                ErrorKind::InvalidRequest
            }
        }
        _ => return None,
    })
}

/// Worth retrying the same call: rate limits, overload and server failures, unless the server
/// said `x-should-retry: false`.
fn transient(kind: ErrorKind, status: Option<u16>, headers: &[(String, String)]) -> bool {
    let refused = headers
        .iter()
        .any(|(name, value)| name == "x-should-retry" && value.trim() == "false");
    let server = status.is_none_or(|s| s >= 500);
    !refused
        && match kind {
            ErrorKind::RateLimited | ErrorKind::Overloaded => true,
            ErrorKind::UpstreamError | ErrorKind::Timeout => server,
            _ => false,
        }
}

/// An `{"type":"error","error":{…}}` object that arrived with a 200: inside a stream (an
/// `event: error`) or as a response body.
fn in_band_error(body: Value) -> Error {
    let kind = body
        .get("error")
        .and_then(error_kind)
        .unwrap_or(ErrorKind::UpstreamError);
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(body),
        kind,
        retryable: transient(kind, None, &[]),
        retry_after: None,
    }))
}

fn decode_message(body: &[u8]) -> Result<Completion, Error> {
    let parsed: MessageResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    if parsed.kind.as_deref() == Some("error") || parsed.error.is_some() {
        let value = serde_json::from_slice(body).unwrap_or_default();
        return Err(in_band_error(value));
    }
    let Some(blocks) = parsed.content else {
        return Err(Error::BadResponse(
            "the response has no content".to_string(),
        ));
    };
    let mut text = String::new();
    let mut answered = false;
    let mut reasoning: Option<String> = None;
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.kind.as_str() {
            "text" => text.push_str(block.text.as_deref().unwrap_or("")),
            "thinking" => reasoning
                .get_or_insert_with(String::new)
                .push_str(block.thinking.as_deref().unwrap_or("")),
            "tool_use" => {
                let input = block.input.unwrap_or_else(|| json!({}));
                let name = block.name.unwrap_or_default();
                if name == JSON_TOOL {
                    answered = true;
                    text.push_str(&input.to_string());
                } else {
                    tool_calls.push(ToolCall {
                        id: block.id.unwrap_or_default(),
                        kind: "function".into(),
                        function: FunctionCall {
                            name,
                            arguments: input.to_string(),
                        },
                    });
                }
            }
            _ => {}
        }
    }
    let content = if text.is_empty() && !answered && !tool_calls.is_empty() {
        None
    } else {
        Some(text)
    };
    let raw_reason = parsed.stop_reason;
    let usage = parsed.usage.map(|u| u.normalise());
    let writer = CompletionWriter {
        id: parsed.id,
        model: parsed.model,
        content,
        reasoning,
        finish_reason: Some(finish_reason(
            raw_reason.as_deref().unwrap_or(""),
            !tool_calls.is_empty(),
        )),
        tool_calls,
        provider_finish_reason: raw_reason,
        usage,
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}

/// Seconds since the epoch of an RFC 3339 time (`2025-02-19T00:00:00Z`), as OpenAI's `created`.
fn unix_seconds(time: &str) -> Option<i64> {
    let num = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = time.split_once(['T', 't', ' '])?;
    let mut ymd = date.splitn(3, '-');
    let (y, m, d) = (num(ymd.next()?)?, num(ymd.next()?)?, num(ymd.next()?)?);
    let clock_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let mut hms = rest[..clock_end].splitn(3, ':');
    let (h, mi, s) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
    let zone = rest[clock_end..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = zone.get(1..)?.split_once(':')?;
            sign * (num(zh)? * 3600 + num(zm)? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Option<Vec<Map<String, Value>>>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// `GET /v1/models` as OpenAI's model list, each entry keeping Anthropic's fields
/// (`display_name`, `created_at`, `max_input_tokens`, `capabilities`, …).
fn decode_model_list(body: &[u8]) -> Result<String, Error> {
    let parsed: ModelList =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if parsed.kind.as_deref() == Some("error") {
        return Err(in_band_error(
            serde_json::from_slice(body).unwrap_or_default(),
        ));
    }
    let data = parsed
        .data
        .ok_or_else(|| Error::BadResponse("the model list has no data".into()))?;
    let models: Vec<Value> = data
        .into_iter()
        .map(|mut model| {
            let mut out = Map::new();
            out.insert("id".into(), model.remove("id").unwrap_or_default());
            out.insert("object".into(), "model".into());
            let created = model
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(unix_seconds);
            out.insert("created".into(), created.map_or(Value::Null, Value::from));
            out.insert("owned_by".into(), ID.into());
            out.extend(model);
            Value::Object(out)
        })
        .collect();
    Ok(json!({ "object": "list", "data": models }).to_string())
}

impl ChatProvider for Anthropic {
    fn id(&self) -> &'static str {
        ID
    }

    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        header(headers, HeaderName::from_static("x-api-key"), api_key)
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        let request = messages_request(ChatRequest::parse(&body)?, stream)?;
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))?;
        Ok(versioned(WireRequest::post_json(
            api_url(base_url, "messages"),
            body,
        )))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_message(body)
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(AnthropicStream::default())
    }

    fn classify(&self, error: &mut UpstreamError) {
        match error.error_object().and_then(error_kind) {
            Some(kind) => error.kind = kind,
            None => classify_common(error),
        }
        error.retryable = transient(error.kind, error.status, &error.headers);
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        // One page of up to 1000 (the default page is 20).
        Ok(versioned(WireRequest::get(api_url(
            base_url,
            "models?limit=1000",
        ))))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        decode_model_list(body)
    }
}

// ---- streams ----------------------------------------------------------------------------------

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
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(EventOutcome::Continue);
        }
        let parsed: StreamEvent = serde_json::from_str(data)
            .map_err(|e| bad_json("a stream event", e, data.as_bytes()))?;
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
                    serde_json::from_str(data).unwrap_or_default(),
                ))
            }
            // ping, and event types added later (Anthropic's versioning policy).
            _ => {}
        }
        Ok(EventOutcome::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FrameDecoder;
    use crate::providers::Framing;
    use serde_json::json;

    fn wire(request: Value, stream: bool) -> Value {
        let req = Anthropic
            .chat_request(
                "https://api.anthropic.com",
                Bytes::from(request.to_string()),
                stream,
            )
            .unwrap();
        assert_eq!(req.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(req.headers["anthropic-version"], "2023-06-01");
        serde_json::from_slice(req.body.as_deref().unwrap()).unwrap()
    }

    fn refused(request: Value) -> String {
        let err = Anthropic
            .chat_request("https://x", Bytes::from(request.to_string()), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        err.to_string()
    }

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": text })
    }

    fn weather_tool() -> Value {
        json!({ "type": "function", "function": { "name": "get_weather", "description": "Weather for a city",
            "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } })
    }

    #[test]
    fn a_jaf_turn_becomes_a_messages_request() {
        let body = wire(
            json!({
                "model": "claude-sonnet-4-5-20250929",
                "messages": [{ "role": "system", "content": "You are terse." }, user("Hi")],
                "temperature": 0.3, "max_tokens": 64, "top_p": 0.9, "stop": "END", "user": "u-42",
                "stream": true, "stream_options": { "include_usage": true },
            }),
            true,
        );
        assert_eq!(
            body,
            json!({
                "model": "claude-sonnet-4-5-20250929",
                "max_tokens": 64,
                "system": "You are terse.",
                "messages": [{ "role": "user", "content": "Hi" }],
                "temperature": 0.3,
                "top_p": 0.9,
                "stop_sequences": ["END"],
                "metadata": { "user_id": "u-42" },
                "stream": true,
            })
        );
    }

    #[test]
    fn max_tokens_defaults_and_system_prompts_stay_apart() {
        let body = wire(
            json!({
                "model": "claude-haiku-4-5",
                "messages": [
                    { "role": "system", "content": "One." },
                    { "role": "developer", "content": [{ "type": "text", "text": "Two." }] },
                    user("a"), user("b"),
                    { "role": "assistant", "content": "" },
                    { "role": "assistant", "content": "prefill" },
                ],
                "max_completion_tokens": null,
            }),
            false,
        );
        assert_eq!(
            body,
            json!({
                "model": "claude-haiku-4-5",
                "max_tokens": DEFAULT_MAX_TOKENS,
                "system": [{ "type": "text", "text": "One." }, { "type": "text", "text": "Two." }],
                "messages": [
                    { "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] },
                    { "role": "assistant", "content": "prefill" },
                ],
            })
        );
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "max_completion_tokens": 99, "max_tokens": 5 }),
            false,
        );
        assert_eq!(body["max_tokens"], 99);
    }

    #[test]
    fn tool_calls_and_results_become_blocks() {
        let body = wire(
            json!({
                "model": "m",
                "messages": [
                    user("Weather and time in Paris?"),
                    { "role": "assistant", "content": "", "tool_calls": [
                        { "id": "toolu_01A", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                        { "id": "toolu_01B", "type": "function", "function": { "name": "get_time", "arguments": "" } },
                    ] },
                    { "role": "tool", "tool_call_id": "toolu_01A", "content": "{\"tempC\":21}" },
                    { "role": "tool", "tool_call_id": "toolu_01B", "content": [{ "type": "text", "text": "14:05" }] },
                    user("Thanks"),
                ],
                "tools": [weather_tool(), { "type": "function", "function": { "name": "get_time" } }],
                "tool_choice": "auto",
                "parallel_tool_calls": false,
            }),
            false,
        );
        assert_eq!(
            body,
            json!({
                "model": "m",
                "max_tokens": DEFAULT_MAX_TOKENS,
                "messages": [
                    { "role": "user", "content": "Weather and time in Paris?" },
                    { "role": "assistant", "content": [
                        { "type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": { "city": "Paris" } },
                        { "type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {} },
                    ] },
                    { "role": "user", "content": [
                        { "type": "tool_result", "tool_use_id": "toolu_01A", "content": "{\"tempC\":21}" },
                        { "type": "tool_result", "tool_use_id": "toolu_01B", "content": [{ "type": "text", "text": "14:05" }] },
                        { "type": "text", "text": "Thanks" },
                    ] },
                ],
                "tools": [
                    { "name": "get_weather", "description": "Weather for a city",
                      "input_schema": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } },
                    { "name": "get_time", "input_schema": { "type": "object", "properties": {} } },
                ],
                "tool_choice": { "type": "auto", "disable_parallel_tool_use": true },
            })
        );
    }

    #[test]
    fn tool_choice_takes_anthropic_forms() {
        let choice = |c: Value| {
            wire(json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": c }), false)
                ["tool_choice"]
                .clone()
        };
        assert_eq!(choice(json!("required")), json!({ "type": "any" }));
        assert_eq!(choice(json!("none")), json!({ "type": "none" }));
        assert_eq!(
            choice(json!({ "type": "function", "function": { "name": "get_weather" } })),
            json!({ "type": "tool", "name": "get_weather" })
        );
        assert!(refused(json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": "sometimes" }))
            .contains("tool_choice"));
    }

    #[test]
    fn response_format_becomes_a_forced_tool() {
        let schema = json!({ "type": "object", "properties": { "city": { "type": "string" }, "tempC": { "type": "number" } },
            "required": ["city", "tempC"], "additionalProperties": false });
        let format = json!({ "type": "json_schema", "json_schema": { "name": "WeatherAgent", "strict": true, "schema": schema } });
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "response_format": format }),
            false,
        );
        assert_eq!(
            body["tools"],
            json!([{ "name": JSON_TOOL, "description": "Respond with the answer (WeatherAgent) as this tool's input: the input is the answer.",
                     "input_schema": schema }])
        );
        assert_eq!(
            body["tool_choice"],
            json!({ "type": "tool", "name": JSON_TOOL })
        );

        // With the caller's tools the model must call one of them, or the JSON tool to answer.
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": "auto", "response_format": format }),
            false,
        );
        assert_eq!(body["tools"][0]["name"], "get_weather");
        assert_eq!(body["tools"][1]["name"], JSON_TOOL);
        assert_eq!(body["tool_choice"], json!({ "type": "any" }));

        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "response_format": { "type": "json_object" } }),
            false,
        );
        assert_eq!(
            body["tools"][0]["input_schema"],
            json!({ "type": "object" })
        );
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "response_format": { "type": "text" } }),
            false,
        );
        assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
    }

    #[test]
    fn images_by_url_and_base64() {
        let body = wire(
            json!({ "model": "m", "messages": [{ "role": "user", "content": [
                { "type": "text", "text": "What is this?" },
                { "type": "image_url", "image_url": { "url": "https://example.test/cat.png" } },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto" } },
            ] }] }),
            false,
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                { "type": "text", "text": "What is this?" },
                { "type": "image", "source": { "type": "url", "url": "https://example.test/cat.png" } },
                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" } },
            ])
        );
    }

    #[test]
    fn reasoning_effort_becomes_a_thinking_budget() {
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "high" }),
            false,
        );
        assert_eq!(
            body["thinking"],
            json!({ "type": "enabled", "budget_tokens": 4096 })
        );
        assert_eq!(body["max_tokens"], 4096 + DEFAULT_MAX_TOKENS);
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "low", "max_tokens": 3000 }),
            false,
        );
        assert_eq!(
            (
                body["thinking"]["budget_tokens"].clone(),
                body["max_tokens"].clone()
            ),
            (json!(1024), json!(3000))
        );
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "none" }),
            false,
        );
        assert_eq!(body["thinking"], json!({ "type": "disabled" }));
        // Anthropic's own parameters pass as they are.
        let body = wire(
            json!({ "model": "m", "messages": [user("x")], "top_k": 5, "thinking": { "type": "enabled", "budget_tokens": 2000 } }),
            false,
        );
        assert_eq!(
            (body["top_k"].clone(), body["max_tokens"].clone()),
            (json!(5), json!(2000 + DEFAULT_MAX_TOKENS))
        );

        assert!(refused(json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "medium", "max_tokens": 2048 }))
            .contains("thinking budget"));
        assert!(refused(
            json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "minimal" })
        )
        .contains("reasoning_effort"));
        let format = json!({ "type": "json_schema", "json_schema": { "name": "n", "schema": { "type": "object" } } });
        assert!(refused(json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "low", "response_format": format }))
            .contains("extended thinking"));
    }

    #[test]
    fn what_anthropic_cannot_take_is_refused_by_name() {
        let base = || json!({ "model": "m", "messages": [user("x")] });
        let with = |k: &str, v: Value| {
            let mut r = base();
            r[k] = v;
            refused(r)
        };
        assert_eq!(
            with("seed", json!(7)),
            "anthropic cannot take seed: remove it or use a provider that supports it"
        );
        assert!(with("logit_bias", json!({ "42": 1 })).contains("logit_bias"));
        assert!(with("frequency_penalty", json!(0.5)).contains("frequency_penalty"));
        assert!(with("presence_penalty", json!(0.5)).contains("presence_penalty"));
        assert!(with("n", json!(2)).contains("n"));
        wire(
            json!({ "model": "m", "messages": [user("x")], "n": 1 }),
            false,
        );
        assert!(with(
            "messages",
            json!([{ "role": "user", "content": "x", "name": "bob" }])
        )
        .contains("messages[].name"));
        assert!(with("messages", json!([{ "role": "user", "content": [{ "type": "file", "file": { "file_id": "file-1" } }] }]))
            .contains("file parts"));
        assert!(with("messages", json!([{ "role": "system", "content": [{ "type": "image_url", "image_url": { "url": "https://x/y.png" } }] }, user("x")]))
            .contains("only text"));
        assert!(
            with("messages", json!([{ "role": "tool", "content": "r" }])).contains("tool_call_id")
        );
        assert!(with("messages", json!([{ "role": "assistant", "tool_calls": [{ "id": "c", "type": "function", "function": { "name": "f", "arguments": "{oops" } }] }]))
            .contains("not valid JSON"));
        assert!(with(
            "tools",
            json!([{ "type": "function", "function": { "name": JSON_TOOL } }])
        )
        .contains("reserves"));
    }

    #[test]
    fn requests_carry_the_key_and_version() {
        let mut headers = HeaderMap::new();
        Anthropic.authorize("sk-ant-test", &mut headers).unwrap();
        assert_eq!(headers["x-api-key"], "sk-ant-test");
        assert!(headers["x-api-key"].is_sensitive());
        assert!(headers.get(http::header::AUTHORIZATION).is_none());
        let req = Anthropic.models_request("https://proxy.test/v1/").unwrap();
        assert_eq!(req.url, "https://proxy.test/v1/models?limit=1000");
        assert_eq!(req.headers["anthropic-version"], API_VERSION);
        assert_eq!(
            api_url("http://127.0.0.1:9", "messages"),
            "http://127.0.0.1:9/v1/messages"
        );
    }

    fn completion(body: Value) -> Value {
        let c = Anthropic
            .decode_completion(body.to_string().as_bytes(), "")
            .unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        assert_eq!(
            c.usage.map(|u| u.total_tokens),
            v["usage"]["total_tokens"].as_u64()
        );
        v
    }

    #[test]
    fn a_text_answer_decodes() {
        // The Messages API reference example.
        let v = completion(json!({
            "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [{ "type": "text", "text": "Hi! My name is Claude." }],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": { "input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0 },
        }));
        assert_eq!(v["id"], "msg_013Zva2CMHLNnXjNJJKqJ2EF");
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["model"], "claude-sonnet-4-5-20250929");
        assert_eq!(
            v["choices"][0],
            json!({ "index": 0, "message": { "role": "assistant", "content": "Hi! My name is Claude." },
                    "finish_reason": "stop", "provider_finish_reason": "end_turn" })
        );
        assert_eq!(
            v["usage"],
            json!({ "prompt_tokens": 2095, "completion_tokens": 503, "total_tokens": 2598, "prompt_tokens_details": { "cached_tokens": 0 } })
        );
    }

    #[test]
    fn tool_use_thinking_and_cache_usage_decode() {
        let v = completion(json!({
            "id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [
                { "type": "thinking", "thinking": "The user wants weather and time.", "signature": "EqQBCgIYAhIM" },
                { "type": "text", "text": "I'll check both." },
                { "type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": { "city": "Paris" } },
                { "type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {} },
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": { "input_tokens": 100, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 50, "output_tokens": 30,
                       "output_tokens_details": { "thinking_tokens": 12 } },
        }));
        let message = &v["choices"][0]["message"];
        assert_eq!(message["content"], "I'll check both.");
        assert_eq!(
            message["reasoning_content"],
            "The user wants weather and time."
        );
        assert_eq!(
            message["tool_calls"],
            json!([
                { "id": "toolu_01A09q90qw90lq917835lq9", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                { "id": "toolu_01B", "type": "function", "function": { "name": "get_time", "arguments": "{}" } },
            ])
        );
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(v["choices"][0]["provider_finish_reason"], "tool_use");
        assert_eq!(
            v["usage"],
            json!({ "prompt_tokens": 170, "completion_tokens": 30, "total_tokens": 200,
                    "prompt_tokens_details": { "cached_tokens": 50 }, "completion_tokens_details": { "reasoning_tokens": 12 } })
        );

        let v = completion(
            json!({ "id": "m", "model": "x", "content": [{ "type": "tool_use", "id": "t", "name": "f", "input": {} }],
            "stop_reason": "tool_use", "usage": { "input_tokens": 1, "output_tokens": 1 } }),
        );
        assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    }

    #[test]
    fn the_json_tool_answer_is_text_content() {
        let v = completion(json!({
            "id": "msg_x", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{ "type": "tool_use", "id": "toolu_x", "name": JSON_TOOL, "input": { "city": "Paris", "tempC": 21 } }],
            "stop_reason": "tool_use", "usage": { "input_tokens": 11, "output_tokens": 7 },
        }));
        let choice = &v["choices"][0];
        assert_eq!(
            serde_json::from_str::<Value>(choice["message"]["content"].as_str().unwrap()).unwrap(),
            json!({ "city": "Paris", "tempC": 21 })
        );
        assert!(choice["message"].get("tool_calls").is_none());
        assert_eq!(
            (
                choice["finish_reason"].clone(),
                choice["provider_finish_reason"].clone()
            ),
            (json!("stop"), json!("tool_use"))
        );
    }

    #[test]
    fn stop_reasons_normalise() {
        for (raw, tools, want) in [
            ("end_turn", false, FinishReason::Stop),
            ("stop_sequence", false, FinishReason::Stop),
            ("pause_turn", false, FinishReason::Stop),
            ("tool_use", true, FinishReason::ToolCalls),
            ("tool_use", false, FinishReason::Stop),
            ("max_tokens", false, FinishReason::Length),
            ("model_context_window_exceeded", false, FinishReason::Length),
            ("refusal", false, FinishReason::ContentFilter),
        ] {
            assert_eq!(finish_reason(raw, tools), want, "{raw}");
        }
    }

    #[test]
    fn bad_and_error_bodies_are_typed() {
        let e = Anthropic
            .decode_completion(b"<html>502</html>", "")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = Anthropic
            .decode_completion(
                br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                "",
            )
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.retryable(), e.to_string()),
            (ErrorKind::Overloaded, true, "Overloaded".to_string())
        );
        let e = Anthropic
            .decode_completion(br#"{"id":"x","type":"message"}"#, "")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
    }

    fn http_error(status: u16, body: Value, headers: &[(&str, &str)]) -> UpstreamError {
        let header_map: HeaderMap = headers
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect();
        let mut e = UpstreamError {
            status: Some(status),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: UpstreamBody::Json(body),
            kind: ErrorKind::from_status(status),
            retryable: crate::retry::status_is_retryable(status, &header_map),
            retry_after: None,
        };
        Anthropic.classify(&mut e);
        e
    }

    fn body(kind: &str, message: &str) -> Value {
        json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy" })
    }

    #[test]
    fn error_bodies_classify() {
        let cases = [
            (429, body("rate_limit_error", "This request would exceed your account's rate limit. Please try again later."), ErrorKind::RateLimited, true),
            (401, body("authentication_error", "invalid x-api-key"), ErrorKind::Auth, false),
            (403, body("permission_error", "Your API key does not have permission to use the specified resource."), ErrorKind::Auth, false),
            (404, body("not_found_error", "model: claude-nope"), ErrorKind::NotFound, false),
            (400, body("invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\""), ErrorKind::InvalidRequest, false),
            (400, body("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"), ErrorKind::ContextLengthExceeded, false),
            (400, body("invalid_request_error", "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again"), ErrorKind::ContextLengthExceeded, false),
            (400, body("invalid_request_error", "Output blocked by content filtering policy"), ErrorKind::ContentFilter, false),
            (413, body("request_too_large", "Request exceeds the maximum allowed number of bytes."), ErrorKind::InvalidRequest, false),
            (500, body("api_error", "Internal server error"), ErrorKind::UpstreamError, true),
            (529, body("overloaded_error", "Overloaded"), ErrorKind::Overloaded, true),
            (409, json!({ "error": { "message": "conflict" } }), ErrorKind::UpstreamError, false),
        ];
        for (status, body, kind, retryable) in cases {
            let e = http_error(status, body, &[]);
            assert_eq!(
                (e.kind, e.retryable),
                (kind, retryable),
                "{status} {:?}",
                e.body
            );
        }
        let e = http_error(
            429,
            body("rate_limit_error", "spend limit"),
            &[("x-should-retry", "false")],
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, false));
        let mut e = http_error(502, json!(null), &[]);
        e.body = UpstreamBody::Text("<html>bad gateway</html>".into());
        Anthropic.classify(&mut e);
        assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
    }

    #[test]
    fn models_decode_to_an_openai_list() {
        let out = Anthropic
            .decode_models(
                json!({
                    "data": [
                        { "type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z" },
                        { "type": "model", "id": "claude-3-haiku-20240307", "display_name": "Claude Haiku 3", "created_at": "2024-03-07T00:00:00Z", "max_input_tokens": 200000 },
                    ],
                    "has_more": false, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-3-haiku-20240307",
                })
                .to_string()
                .as_bytes(),
            )
            .unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["object"], "list");
        assert_eq!(
            v["data"][0],
            json!({ "id": "claude-sonnet-4-5-20250929", "object": "model", "created": 1_759_104_000, "owned_by": "anthropic",
                    "type": "model", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z" })
        );
        assert_eq!(v["data"][1]["max_input_tokens"], 200000);
        assert_eq!(v["data"][1]["created"], 1_709_769_600);
        let e = Anthropic
            .decode_models(
                body("authentication_error", "invalid x-api-key")
                    .to_string()
                    .as_bytes(),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
    }

    #[test]
    fn rfc3339_times_read_as_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-02-29T12:34:56.789Z"), Some(951_827_696));
        assert_eq!(
            unix_seconds("2024-03-07T02:00:00+02:00"),
            Some(1_709_769_600)
        );
        assert_eq!(unix_seconds("yesterday"), None);
    }

    // ---- streams ----

    /// Decode an SSE body split into `piece`-byte chunks; the chunks' JSON, with `created` zeroed.
    fn decode_sse(
        sse: &str,
        piece: usize,
    ) -> (Vec<Value>, Result<EventOutcome, Error>, StreamSink) {
        let mut framing = FrameDecoder::new(Framing::Sse);
        let mut events = Vec::new();
        for chunk in sse.as_bytes().chunks(piece) {
            framing.feed(chunk, &mut events).unwrap();
        }
        framing.finish(&mut events).unwrap();
        let mut decoder = Anthropic.stream_decoder("");
        let mut sink = StreamSink::default();
        let mut outcome = Ok(EventOutcome::Continue);
        for event in &events {
            outcome = decoder.decode(event, &mut sink);
            if !matches!(outcome, Ok(EventOutcome::Continue)) {
                break;
            }
        }
        let chunks = sink
            .take_batch()
            .map(|b| serde_json::from_str::<Vec<Value>>(&b).unwrap())
            .unwrap_or_default()
            .into_iter()
            .map(|mut c| {
                c["created"] = json!(0);
                c
            })
            .collect();
        (chunks, outcome, sink)
    }

    fn sse(events: &[Value]) -> String {
        events
            .iter()
            .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
            .collect()
    }

    fn choice(delta: Value) -> Value {
        json!([{ "index": 0, "delta": delta, "finish_reason": null }])
    }

    #[test]
    fn a_text_stream_decodes_whatever_the_splits() {
        // The shape of the streaming reference's basic example.
        let body = sse(&[
            json!({ "type": "message_start", "message": { "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant",
                "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 5, "output_tokens": 1 } } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "ping" }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "Héllo" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": " 世界!" } }),
            json!({ "type": "content_block_stop", "index": 0 }),
            json!({ "type": "message_delta", "delta": { "stop_reason": "end_turn", "stop_sequence": null }, "usage": { "output_tokens": 15 } }),
            json!({ "type": "message_stop" }),
        ]);
        let (expected, outcome, sink) = decode_sse(&body, body.len());
        assert!(matches!(outcome, Ok(EventOutcome::Done)));
        let head = |c: &Value| (c["id"].clone(), c["object"].clone(), c["model"].clone());
        assert!(expected.iter().all(|c| head(c)
            == (
                json!("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"),
                json!("chat.completion.chunk"),
                json!("claude-opus-4-6")
            )));
        let choices: Vec<Value> = expected.iter().map(|c| c["choices"].clone()).collect();
        assert_eq!(
            choices,
            vec![
                choice(json!({ "role": "assistant", "content": "" })),
                choice(json!({ "content": "Héllo" })),
                choice(json!({ "content": " 世界!" })),
                json!([{ "index": 0, "delta": {}, "finish_reason": "stop", "provider_finish_reason": "end_turn" }]),
                json!([]),
            ]
        );
        assert_eq!(
            expected[4]["usage"],
            json!({ "prompt_tokens": 30, "completion_tokens": 15, "total_tokens": 45, "prompt_tokens_details": { "cached_tokens": 5 } })
        );
        let p = &sink.progress;
        assert_eq!(
            (p.chunks, p.content_chars, p.finish_reason.as_deref()),
            (5, 9, Some("stop"))
        );
        assert_eq!(p.usage.map(|u| u.total_tokens), Some(45));
        for piece in [1, 2, 3, 7, 16, 64] {
            assert_eq!(decode_sse(&body, piece).0, expected, "piece {piece}");
        }
    }

    #[test]
    fn a_tool_stream_indexes_calls_in_order() {
        let body = sse(&[
            json!({ "type": "message_start", "message": { "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                "stop_sequence": null, "usage": { "input_tokens": 472, "output_tokens": 2 }, "content": [], "stop_reason": null } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "thinking", "thinking": "" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "thinking_delta", "thinking": "Two lookups." } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" } }),
            json!({ "type": "content_block_stop", "index": 0 }),
            json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "text_delta", "text": "Checking." } }),
            json!({ "type": "content_block_stop", "index": 1 }),
            json!({ "type": "content_block_start", "index": 2, "content_block": { "type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {} } }),
            json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "" } }),
            json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "{\"city\": \"Par" } }),
            json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "is\"}" } }),
            json!({ "type": "content_block_stop", "index": 2 }),
            json!({ "type": "content_block_start", "index": 3, "content_block": { "type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {} } }),
            json!({ "type": "content_block_delta", "index": 3, "delta": { "type": "input_json_delta", "partial_json": "" } }),
            json!({ "type": "content_block_stop", "index": 3 }),
            json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null }, "usage": { "output_tokens": 89 } }),
            json!({ "type": "message_stop" }),
        ]);
        let (chunks, outcome, sink) = decode_sse(&body, 13);
        assert!(matches!(outcome, Ok(EventOutcome::Done)));
        let choices: Vec<Value> = chunks.iter().map(|c| c["choices"].clone()).collect();
        let call = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
            let mut c = json!({ "index": index, "function": { "arguments": args } });
            if let (Some(id), Some(name)) = (id, name) {
                c["id"] = json!(id);
                c["type"] = json!("function");
                c["function"]["name"] = json!(name);
            }
            choice(json!({ "tool_calls": [c] }))
        };
        assert_eq!(
            choices,
            vec![
                choice(json!({ "role": "assistant", "content": "" })),
                choice(json!({ "reasoning_content": "Two lookups." })),
                choice(json!({ "content": "Checking." })),
                call(
                    0,
                    Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6"),
                    Some("get_weather"),
                    ""
                ),
                call(0, None, None, "{\"city\": \"Par"),
                call(0, None, None, "is\"}"),
                call(1, Some("toolu_02"), Some("get_time"), ""),
                call(1, None, None, "{}"),
                json!([{ "index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "tool_use" }]),
                json!([]),
            ]
        );
        assert_eq!(chunks[9]["usage"]["total_tokens"], 472 + 89);
        assert_eq!(sink.progress.tool_call_deltas, 5);
    }

    #[test]
    fn a_structured_stream_is_text() {
        // The shape of a forced-tool stream (Vercel AI SDK's recorded json-tool fixture).
        let body = sse(&[
            json!({ "type": "message_start", "message": { "model": "claude-haiku-4-5-20251001", "id": "msg_01K2JbSUMYhez5RHoK9ZCj9U", "type": "message",
                "role": "assistant", "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": 849, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                    "cache_creation": { "ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0 }, "output_tokens": 10, "service_tier": "standard" } } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "tool_use", "id": "toolu_01KFbKqPYSuAKujiL6mTfzYA", "name": JSON_TOOL, "input": {} } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "" } }),
            json!({ "type": "ping" }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "{\"city\": \"Paris\", \"tempC\": 21" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "}" } }),
            json!({ "type": "content_block_stop", "index": 0 }),
            json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null },
                "usage": { "input_tokens": 849, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 47 } }),
            json!({ "type": "message_stop" }),
        ]);
        let (chunks, _, sink) = decode_sse(&body, 5);
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({ "city": "Paris", "tempC": 21 })
        );
        assert!(chunks
            .iter()
            .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()));
        assert_eq!(sink.progress.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            sink.progress
                .usage
                .map(|u| (u.prompt_tokens, u.completion_tokens)),
            Some((849, 47))
        );
    }

    #[test]
    fn stream_error_events_are_typed() {
        let body = format!(
            "{}event: error\ndata: {}\n\n",
            sse(&[
                json!({ "type": "message_start", "message": { "id": "msg_1", "model": "claude-haiku-4-5", "content": [], "usage": { "input_tokens": 3, "output_tokens": 1 } } }),
                json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
                json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "partial" } }),
            ]),
            json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } })
        );
        let (chunks, outcome, sink) = decode_sse(&body, 9);
        assert_eq!(chunks.len(), 2);
        let e = outcome.unwrap_err();
        assert_eq!(
            (e.kind(), e.retryable(), e.to_string()),
            (ErrorKind::Overloaded, true, "Overloaded".to_string())
        );
        assert_eq!(e.upstream().unwrap().status, None);
        assert_eq!(sink.progress.content_chars, 7);

        let (_, outcome, _) = decode_sse("event: content_block_delta\ndata: {not json\n\n", 4);
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::BadResponse);
        // Unknown event types are skipped, per Anthropic's versioning policy.
        let (chunks, outcome, _) = decode_sse(
            "event: brand_new\ndata: {\"type\":\"brand_new\",\"x\":1}\n\n",
            64,
        );
        assert!(chunks.is_empty() && matches!(outcome, Ok(EventOutcome::Continue)));
    }

    #[test]
    fn a_stream_without_a_stop_reason_did_not_end_cleanly() {
        let body = sse(&[
            json!({ "type": "message_start", "message": { "id": "msg_1", "model": "m", "content": [], "usage": { "input_tokens": 3 } } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "cut" } }),
        ]);
        let (_, outcome, sink) = decode_sse(&body, 64);
        assert!(matches!(outcome, Ok(EventOutcome::Continue)));
        assert!(!AnthropicStream::default().ended_cleanly(&sink.progress));
    }
}
