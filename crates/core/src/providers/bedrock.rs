//! AWS Bedrock Converse / ConverseStream, Titan and Cohere embeddings (InvokeModel).
//!
//! Requests are signed with SigV4 (service `bedrock`) from the AWS keys, or carry a Bedrock API
//! key as `Authorization: Bearer …` instead. Streams are `application/vnd.amazon.eventstream`
//! ([`crate::eventstream`]): one message per Converse event, named by its `:event-type`.
//!
//! Structured output has no native Converse field: `response_format` becomes a forced tool
//! ([`JSON_TOOL`]) whose input is handed back as the message's JSON text.

use std::collections::HashMap;
use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openai::bad_json;
use super::{join_url, ChatProvider, Completion, EventOutcome, Framing, StreamDecode, WireRequest};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, FunctionCall, ImageSource,
    Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sigv4::{self, Credentials};
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::{PromptDetails, Usage};

const ID: &str = "bedrock";
/// The SigV4 service name of `bedrock-runtime`.
const SERVICE: &str = "bedrock";
const DEFAULT_REGION: &str = "us-east-1";
/// The tool a structured answer (`response_format`) is forced through. Reserved: a caller's
/// tool may not use the name.
pub const JSON_TOOL: &str = "json_tool_call";
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

#[derive(Debug, Clone)]
enum Auth {
    /// A Bedrock API key, sent as `Authorization: Bearer` by [`ChatProvider::authorize`].
    ApiKey,
    SigV4(Credentials),
}

#[derive(Debug, Clone)]
pub struct Bedrock {
    region: String,
    auth: Auth,
}

impl Bedrock {
    pub fn from_settings(settings: &ProviderSettings) -> Result<Self, Error> {
        let set = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let region = set(&settings.region).unwrap_or_else(|| DEFAULT_REGION.to_string());
        let auth = if set(&settings.api_key).is_some() {
            Auth::ApiKey
        } else {
            match (
                set(&settings.aws_access_key_id),
                set(&settings.aws_secret_access_key),
            ) {
                (Some(access_key_id), Some(secret_access_key)) => Auth::SigV4(Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: set(&settings.aws_session_token),
                }),
                (id, secret) => {
                    let missing = match (id, secret) {
                        (Some(_), None) => "an AWS secret access key (awsSecretAccessKey or AWS_SECRET_ACCESS_KEY)",
                        (None, Some(_)) => "an AWS access key id (awsAccessKeyId or AWS_ACCESS_KEY_ID)",
                        _ => "AWS credentials: awsAccessKeyId and awsSecretAccessKey (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key (apiKey)",
                    };
                    return Err(Error::InvalidInput(format!("bedrock needs {missing}")));
                }
            }
        };
        Ok(Self { region, auth })
    }
}

// ---- wire types: requests ---------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseRequest {
    messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<SystemBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inference_config: Option<InferenceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig>,
}

#[derive(Debug, Serialize)]
struct SystemBlock {
    text: String,
}

#[derive(Debug, Serialize)]
struct WireMessage {
    role: &'static str,
    content: Vec<Block>,
}

/// A `ContentBlock` union member: `{"text": …}`, `{"image": …}`, `{"toolUse": …}`, ….
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum Block {
    Text(String),
    Image(ImageBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
}

#[derive(Debug, Serialize)]
struct ImageBlock {
    format: &'static str,
    source: ImageBytes,
}

/// Blobs travel base64-encoded in Bedrock's JSON protocol.
#[derive(Debug, Serialize)]
struct ImageBytes {
    bytes: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolUseBlock {
    tool_use_id: String,
    name: String,
    input: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolResultBlock {
    tool_use_id: String,
    content: Vec<ToolResultContent>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum ToolResultContent {
    Text(String),
    Image(ImageBlock),
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct InferenceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig {
    tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<WireToolChoice>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WireTool {
    tool_spec: ToolSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolSpec {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    input_schema: InputSchema,
}

#[derive(Debug, Serialize)]
struct InputSchema {
    json: Value,
}

#[derive(Debug, Serialize)]
struct Empty {}

#[derive(Debug, Serialize)]
struct NamedTool {
    name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum WireToolChoice {
    Auto(Empty),
    Any(Empty),
    Tool(NamedTool),
}

// ---- wire types: answers ----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    #[serde(default)]
    output: Option<Output>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    message: Option<OutMessage>,
}

#[derive(Debug, Deserialize)]
struct OutMessage {
    #[serde(default)]
    content: Vec<OutBlock>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutBlock {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<OutToolUse>,
    #[serde(default)]
    reasoning_content: Option<OutReasoning>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutReasoning {
    #[serde(default)]
    reasoning_text: Option<ReasoningText>,
}

#[derive(Debug, Deserialize)]
struct ReasoningText {
    #[serde(default)]
    text: String,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    /// OpenAI counts cached prompt tokens inside `prompt_tokens`; Bedrock reports cache reads
    /// and writes beside `inputTokens`.
    fn to_usage(self) -> Usage {
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let prompt = self.input_tokens + cache_read + self.cache_write_input_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: self.output_tokens,
            total_tokens: prompt + self.output_tokens,
            prompt_tokens_details: self
                .cache_read_input_tokens
                .map(|cached_tokens| PromptDetails { cached_tokens }),
            completion_tokens_details: None,
        }
    }
}

/// `contentBlockStart`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockStart {
    content_block_index: u32,
    #[serde(default)]
    start: Option<StartBody>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartBody {
    #[serde(default)]
    tool_use: Option<StartToolUse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartToolUse {
    tool_use_id: String,
    name: String,
}

/// `contentBlockDelta`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlockDelta {
    content_block_index: u32,
    delta: DeltaBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolUseDelta {
    #[serde(default)]
    input: String,
}

#[derive(Debug, Deserialize)]
struct ReasoningDelta {
    #[serde(default)]
    text: Option<String>,
}

/// `messageStop`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageStop {
    stop_reason: String,
}

/// `metadata`.
#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<TokenUsage>,
}

// ---- requests ---------------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn image_block(url: &str, detail: Option<&str>) -> Result<ImageBlock, Error> {
    if let Some(d) = detail.filter(|d| *d != "auto") {
        return Err(invalid(format!(
            "bedrock cannot take image detail {d:?}: Converse has no detail setting; remove it"
        )));
    }
    match ImageSource::parse(url) {
        ImageSource::Url(_) => Err(invalid(
            "bedrock cannot take images by URL: the Converse API only takes image bytes; send the image as a data: URL (data:image/png;base64,…)",
        )),
        ImageSource::Base64 { media_type, data } => {
            let format = match media_type.to_ascii_lowercase().as_str() {
                "image/png" => "png",
                "image/jpeg" | "image/jpg" => "jpeg",
                "image/gif" => "gif",
                "image/webp" => "webp",
                other => {
                    return Err(invalid(format!(
                        "bedrock cannot take {other:?} images: Converse takes png, jpeg, gif and webp"
                    )))
                }
            };
            Ok(ImageBlock {
                format,
                source: ImageBytes { bytes: data },
            })
        }
    }
}

fn file_part_error() -> Error {
    invalid("bedrock cannot take file parts by file_id: Converse has no file store; send the document's text instead")
}

/// A user message's blocks: text and inline images.
fn user_blocks(content: &Content) -> Result<Vec<Block>, Error> {
    match content {
        Content::Text(t) if blank(t) => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![Block::Text(t.clone())]),
        Content::Parts(parts) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part {
                    Part::Text { text } if blank(text) => {}
                    Part::Text { text } => blocks.push(Block::Text(text.clone())),
                    Part::ImageUrl { image_url } => blocks.push(Block::Image(image_block(
                        &image_url.url,
                        image_url.detail.as_deref(),
                    )?)),
                    Part::File { .. } => return Err(file_part_error()),
                }
            }
            Ok(blocks)
        }
    }
}

fn text_only(content: &Content, role: &str) -> Result<String, Error> {
    if let Content::Parts(parts) = content {
        if parts.iter().any(|p| !matches!(p, Part::Text { .. })) {
            return Err(invalid(format!(
                "bedrock cannot take images or files in {role} messages: Converse takes them in user messages only"
            )));
        }
    }
    Ok(content.text())
}

fn tool_result(message: &Message) -> Result<Block, Error> {
    let tool_use_id = message
        .tool_call_id
        .clone()
        .ok_or_else(|| invalid("a tool message needs tool_call_id"))?;
    let content = match &message.content {
        None => Vec::new(),
        Some(Content::Text(t)) if blank(t) => Vec::new(),
        Some(Content::Text(t)) => vec![ToolResultContent::Text(t.clone())],
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for part in parts {
                match part {
                    Part::Text { text } if blank(text) => {}
                    Part::Text { text } => out.push(ToolResultContent::Text(text.clone())),
                    Part::ImageUrl { image_url } => out.push(ToolResultContent::Image(
                        image_block(&image_url.url, image_url.detail.as_deref())?,
                    )),
                    Part::File { .. } => return Err(file_part_error()),
                }
            }
            out
        }
    };
    Ok(Block::ToolResult(ToolResultBlock {
        tool_use_id,
        content,
    }))
}

fn tool_use(call: &ToolCall) -> Result<Block, Error> {
    let args = call.function.arguments.trim();
    let input = if args.is_empty() {
        json!({})
    } else {
        serde_json::from_str(args).map_err(|e| {
            invalid(format!(
                "tool call {:?} has arguments that are not JSON ({e}); Converse takes them as a JSON value",
                call.id
            ))
        })?
    };
    Ok(Block::ToolUse(ToolUseBlock {
        tool_use_id: call.id.clone(),
        name: call.function.name.clone(),
        input,
    }))
}

/// Converse wants user and assistant turns to alternate: consecutive turns of one role (tool
/// results and the user message after them, say) become one message.
fn push(messages: &mut Vec<WireMessage>, role: &'static str, blocks: Vec<Block>) {
    if blocks.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(WireMessage {
            role,
            content: blocks,
        }),
    }
}

fn translate_messages(req: &ChatRequest) -> Result<(Vec<SystemBlock>, Vec<WireMessage>), Error> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for m in &req.messages {
        if m.name.is_some() && m.role != Role::Tool {
            return Err(invalid(
                "bedrock cannot take a message name: Converse messages have no participant names; remove it",
            ));
        }
        match m.role {
            Role::System | Role::Developer => {
                let text = match &m.content {
                    Some(c) => text_only(c, "system")?,
                    None => String::new(),
                };
                if !blank(&text) {
                    system.push(SystemBlock { text });
                }
            }
            Role::User => {
                let blocks = match &m.content {
                    Some(c) => user_blocks(c)?,
                    None => Vec::new(),
                };
                push(&mut messages, "user", blocks);
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                if let Some(c) = &m.content {
                    let text = text_only(c, "assistant")?;
                    if !blank(&text) {
                        blocks.push(Block::Text(text));
                    }
                }
                for call in m.tool_calls.iter().flatten() {
                    blocks.push(tool_use(call)?);
                }
                push(&mut messages, "assistant", blocks);
            }
            Role::Tool => push(&mut messages, "user", vec![tool_result(m)?]),
        }
    }
    Ok((system, messages))
}

fn structured_tool(format: &ResponseFormat) -> Option<WireTool> {
    let (schema, description) = match format {
        ResponseFormat::Text => return None,
        ResponseFormat::JsonObject => (
            json!({ "type": "object" }),
            "Respond with a JSON object.".to_string(),
        ),
        ResponseFormat::JsonSchema { json_schema } => (
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({ "type": "object" })),
            json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with a JSON object that matches the {} schema.",
                    json_schema.name
                )
            }),
        ),
    };
    Some(WireTool {
        tool_spec: ToolSpec {
            name: JSON_TOOL.to_string(),
            description: Some(description),
            input_schema: InputSchema { json: schema },
        },
    })
}

fn has_tool_blocks(messages: &[WireMessage]) -> bool {
    messages.iter().any(|m| {
        m.content
            .iter()
            .any(|b| matches!(b, Block::ToolUse(_) | Block::ToolResult(_)))
    })
}

fn tool_config(req: &ChatRequest, messages: &[WireMessage]) -> Result<Option<ToolConfig>, Error> {
    let mut tools = Vec::new();
    for tool in req.tools.iter().flatten() {
        let f = &tool.function;
        if f.name == JSON_TOOL {
            return Err(invalid(format!(
                "bedrock reserves the tool name {JSON_TOOL:?} for structured output; rename the tool"
            )));
        }
        tools.push(WireTool {
            tool_spec: ToolSpec {
                name: f.name.clone(),
                description: f.description.clone(),
                input_schema: InputSchema {
                    json: f
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
                },
            },
        });
    }
    let structured = req.response_format.as_ref().and_then(structured_tool);
    let forced = |tools: Vec<WireTool>, name: &str| ToolConfig {
        tools,
        tool_choice: Some(WireToolChoice::Tool(NamedTool {
            name: name.to_string(),
        })),
    };
    let mode = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(m)) => Some(m.as_str()),
        Some(ToolChoice::Function { function }) => {
            if !tools.iter().any(|t| t.tool_spec.name == function.name) {
                return Err(invalid(format!(
                    "tool_choice names {:?}, which is not among the tools",
                    function.name
                )));
            }
            tools.extend(structured);
            return Ok(Some(forced(tools, &function.name)));
        }
    };
    Ok(match (mode, structured) {
        (Some("none"), Some(s)) => Some(forced(vec![s], JSON_TOOL)),
        (Some("none"), None) if has_tool_blocks(messages) => {
            return Err(invalid(
                "bedrock cannot take tool_choice \"none\" in a conversation with tool calls: Converse needs the tools defined then and has no way to forbid calling them",
            ))
        }
        (Some("none"), None) => None,
        (Some("auto") | None, None) if tools.is_empty() => None,
        (Some("auto"), None) => Some(ToolConfig {
            tools,
            tool_choice: Some(WireToolChoice::Auto(Empty {})),
        }),
        (None, None) => Some(ToolConfig {
            tools,
            tool_choice: None,
        }),
        (Some("required"), None) if tools.is_empty() => {
            return Err(invalid("tool_choice \"required\" needs tools"))
        }
        (Some("required"), None) => Some(ToolConfig {
            tools,
            tool_choice: Some(WireToolChoice::Any(Empty {})),
        }),
        // The answer must come through the structured tool, or through one of the caller's.
        (Some("auto" | "required") | None, Some(s)) if tools.is_empty() => {
            Some(forced(vec![s], JSON_TOOL))
        }
        (Some("auto" | "required") | None, Some(s)) => {
            tools.push(s);
            Some(ToolConfig {
                tools,
                tool_choice: Some(WireToolChoice::Any(Empty {})),
            })
        }
        (Some(other), _) => {
            return Err(invalid(format!(
                "bedrock cannot take tool_choice {other:?}: use \"auto\", \"required\", \"none\" or a function"
            )))
        }
    })
}

fn converse_request(req: &ChatRequest) -> Result<ConverseRequest, Error> {
    req.reject_extra(
        ID,
        &[
            ("seed", req.seed.is_some()),
            ("frequency_penalty", req.frequency_penalty.is_some()),
            ("presence_penalty", req.presence_penalty.is_some()),
            ("reasoning_effort", req.reasoning_effort.is_some()),
            ("user", req.user.is_some()),
            ("n", req.n.is_some_and(|n| n != 1)),
            (
                "parallel_tool_calls=false",
                req.parallel_tool_calls == Some(false),
            ),
        ],
    )?;
    let (system, messages) = translate_messages(req)?;
    let tool_config = tool_config(req, &messages)?;
    let inference = InferenceConfig {
        max_tokens: req.max_output_tokens(),
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: req.stop.as_ref().map(|s| s.to_vec()),
    };
    let set = inference.max_tokens.is_some()
        || inference.temperature.is_some()
        || inference.top_p.is_some()
        || inference.stop_sequences.is_some();
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: set.then_some(inference),
        tool_config,
    })
}

/// `model/{modelId}/{action}`, the model id encoded as one path segment (`:` → `%3A`).
fn model_path(model: &str, action: &str) -> Result<String, Error> {
    if model.trim().is_empty() {
        return Err(invalid("the request needs a model"));
    }
    Ok(format!("model/{}/{action}", sigv4::uri_encode(model, true)))
}

// ---- answers ----------------------------------------------------------------------------------

fn completion_id() -> String {
    format!("chatcmpl-bedrock-{:016x}", fastrand::u64(..))
}

/// Bedrock's stop reason → OpenAI's. `tool_use` is `tool_calls` only when a caller's tool was
/// called (a structured answer through [`JSON_TOOL`] is a plain stop).
fn finish_reason(stop: &str, called_tools: bool) -> FinishReason {
    match stop {
        "tool_use" if called_tools => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

fn decode_converse(body: &[u8]) -> Result<Completion, Error> {
    let parsed: ConverseResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    let message = parsed
        .output
        .and_then(|o| o.message)
        .ok_or_else(|| Error::BadResponse("the response has no output message".into()))?;
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut calls = Vec::new();
    for block in message.content {
        if let Some(t) = block.text {
            text.get_or_insert_with(String::new).push_str(&t);
        }
        if let Some(r) = block.reasoning_content.and_then(|r| r.reasoning_text) {
            reasoning.get_or_insert_with(String::new).push_str(&r.text);
        }
        if let Some(call) = block.tool_use {
            if call.name == JSON_TOOL {
                text.get_or_insert_with(String::new)
                    .push_str(&call.input.to_string());
            } else {
                calls.push(ToolCall {
                    id: call.tool_use_id,
                    kind: "function".into(),
                    function: FunctionCall {
                        name: call.name,
                        arguments: call.input.to_string(),
                    },
                });
            }
        }
    }
    let raw_reason = parsed.stop_reason.unwrap_or_default();
    let usage = parsed.usage.map(TokenUsage::to_usage);
    let writer = CompletionWriter {
        id: completion_id(),
        model: String::new(),
        content: if text.is_none() && calls.is_empty() {
            Some(String::new())
        } else {
            text
        },
        reasoning,
        finish_reason: Some(finish_reason(&raw_reason, !calls.is_empty())),
        tool_calls: calls,
        provider_finish_reason: Some(raw_reason),
        usage,
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}

// ---- errors -----------------------------------------------------------------------------------

const CONTEXT_LENGTH: &[&str] = &[
    "too many input tokens",
    "input is too long",
    "prompt is too long",
    "too many tokens",
    "context length",
    "context window",
    "maximum context",
    "input token count",
];

const CONTENT_FILTER: &[&str] = &[
    "content filter",
    "content_filter",
    "guardrail",
    "content policy",
    "responsible ai",
];

/// The kind of a Bedrock error from its type (`ThrottlingException`, `throttlingException`, …)
/// and message; `status` decides when neither says.
fn error_kind(error_type: &str, message: &str, status: Option<u16>) -> ErrorKind {
    let t = error_type.to_ascii_lowercase();
    let t = t.trim_end_matches("exception");
    let m = message.to_ascii_lowercase();
    let by_message = || {
        if CONTEXT_LENGTH.iter().any(|n| m.contains(n)) {
            Some(ErrorKind::ContextLengthExceeded)
        } else if CONTENT_FILTER.iter().any(|n| m.contains(n)) {
            Some(ErrorKind::ContentFilter)
        } else {
            None
        }
    };
    match t {
        "throttling" | "servicequotaexceeded" | "toomanyrequests" => ErrorKind::RateLimited,
        "modelnotready" | "serviceunavailable" => ErrorKind::Overloaded,
        "accessdenied"
        | "unrecognizedclient"
        | "invalidsignature"
        | "signaturedoesnotmatch"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "expiredtoken"
        | "invalidclienttokenid"
        | "unauthorized" => ErrorKind::Auth,
        "resourcenotfound" => ErrorKind::NotFound,
        "modeltimeout" => ErrorKind::Timeout,
        "validation" => by_message().unwrap_or(ErrorKind::InvalidRequest),
        "modelerror" | "modelstreamerror" | "internalserver" | "internalfailure" => {
            by_message().unwrap_or(ErrorKind::UpstreamError)
        }
        _ => by_message()
            .unwrap_or_else(|| status.map_or(ErrorKind::UpstreamError, ErrorKind::from_status)),
    }
}

/// Retry what capacity or a server fault caused; the same request fails the same way otherwise.
fn retryable(kind: ErrorKind, error_type: &str, status: Option<u16>) -> bool {
    let t = error_type.to_ascii_lowercase();
    match kind {
        ErrorKind::RateLimited | ErrorKind::Overloaded => true,
        ErrorKind::UpstreamError => {
            status.is_some_and(|s| s >= 500)
                || t.starts_with("internalserver")
                || t.starts_with("internalfailure")
        }
        _ => false,
    }
}

fn message_of(body: &Value) -> &str {
    ["message", "Message"]
        .iter()
        .find_map(|k| body.get(k).and_then(Value::as_str))
        .unwrap_or("")
}

/// A stream exception (`throttlingException`, …) as an upstream error. The payload stays as the
/// body's `error` object, with the exception type beside its fields.
fn stream_exception(name: &str, data: &str) -> Error {
    let payload: Value = serde_json::from_str(data).unwrap_or_else(|_| json!({ "message": data }));
    let kind = error_kind(name, message_of(&payload), None);
    let mut error = match payload {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("message".into(), other);
            map
        }
    };
    error.insert("type".into(), name.into());
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({ "error": error })),
        kind,
        retryable: retryable(kind, name, None),
        retry_after: None,
    }))
}

/// Whether an unknown event name is an exception or error rather than a newer event kind.
fn is_exception(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("exception")
        || n.ends_with("error")
        || n.ends_with("failure")
        || n.contains("throttl")
}

// ---- streams ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum OpenBlock {
    /// A caller's tool call, at this OpenAI tool index.
    Tool(u32),
    /// The structured answer: its input is the message text.
    Json,
}

/// Folds ConverseStream events into canonical chunks.
struct ConverseStream {
    writer: ChunkWriter,
    started: bool,
    blocks: HashMap<u32, OpenBlock>,
    tool_calls: u32,
    finished: bool,
}

impl ConverseStream {
    fn new() -> Self {
        Self {
            writer: ChunkWriter::new(completion_id(), ""),
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

// ---- embeddings -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct EmbedRequest {
    model: String,
    input: Value,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u32>,
    /// Cohere's `input_type` (`search_document`, `search_query`, `classification`, `clustering`).
    #[serde(default)]
    input_type: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn embed_inputs(input: &Value) -> Result<Vec<String>, Error> {
    let texts = match input {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    match texts {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(invalid(
            "bedrock embeddings take input as a string or an array of strings (not token ids)",
        )),
    }
}

fn embed_body(req: &EmbedRequest) -> Result<Value, Error> {
    if !req.extra.is_empty() {
        let names: Vec<&str> = req.extra.keys().map(String::as_str).collect();
        return Err(invalid(format!(
            "bedrock embeddings cannot take {}: remove {}",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )));
    }
    if let Some(f) = req.encoding_format.as_deref().filter(|f| *f != "float") {
        return Err(invalid(format!(
            "bedrock embeddings cannot take encoding_format {f:?}: Bedrock answers floats"
        )));
    }
    let texts = embed_inputs(&req.input)?;
    let model = req.model.as_str();
    if model.contains("cohere.embed") {
        let mut body = json!({
            "texts": texts,
            // Required by Cohere's v3+ models; OpenAI's request has no such field.
            "input_type": req.input_type.as_deref().unwrap_or("search_document"),
        });
        if let Some(d) = req.dimensions {
            if !model.contains("embed-v4") {
                return Err(invalid(format!(
                    "bedrock's {model} cannot take dimensions: only cohere.embed-v4 sets an output dimension"
                )));
            }
            body["output_dimension"] = d.into();
        }
        Ok(body)
    } else if model.contains("amazon.titan-embed") {
        if req.input_type.is_some() {
            return Err(invalid(
                "bedrock's Titan embeddings cannot take input_type (a Cohere field); remove it",
            ));
        }
        let [text] = texts.as_slice() else {
            return Err(invalid(format!(
                "bedrock's {model} embeds one input per request (InvokeModel takes one inputText), got {}: send them one at a time, or use cohere.embed-* for batches",
                texts.len()
            )));
        };
        let mut body = json!({ "inputText": text });
        if let Some(d) = req.dimensions {
            body["dimensions"] = d.into();
        }
        Ok(body)
    } else {
        Err(invalid(format!(
            "bedrock embeddings support amazon.titan-embed-* and cohere.embed-* models, not {model:?}"
        )))
    }
}

fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    let vectors: Vec<Value> = if let Some(v) = value.get("embedding") {
        // Titan: one vector.
        vec![v.clone()]
    } else {
        // Cohere: `embeddings` is the list of vectors, or by type (`{"float": [...]}`).
        let list = match value.get("embeddings") {
            Some(Value::Object(by_type)) => by_type.get("float"),
            other => other,
        };
        list.and_then(Value::as_array).cloned().ok_or_else(|| {
            Error::BadResponse("the embeddings response has no float embeddings".into())
        })?
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| json!({ "object": "embedding", "index": index, "embedding": embedding }))
        .collect();
    let mut out = json!({ "object": "list", "data": data });
    if let Some(tokens) = value.get("inputTextTokenCount").and_then(Value::as_u64) {
        out["usage"] = json!({ "prompt_tokens": tokens, "total_tokens": tokens });
    }
    Ok(out.to_string())
}

// ---- the provider -----------------------------------------------------------------------------

impl ChatProvider for Bedrock {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        let req = ChatRequest::parse(&body)?;
        let converse = converse_request(&req)?;
        let action = if stream {
            "converse-stream"
        } else {
            "converse"
        };
        let url = join_url(base_url, &model_path(&req.model, action)?);
        let body = serde_json::to_vec(&converse)
            .map_err(|e| Error::Internal(format!("cannot write the Converse request: {e}")))?;
        let mut wire = WireRequest::post_json(url, body);
        if stream {
            wire.headers
                .insert(http::header::ACCEPT, HeaderValue::from_static(EVENT_STREAM));
        }
        Ok(wire)
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_converse(body)
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(ConverseStream::new())
    }

    fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        // The client appends a request's own headers after the shared ones: the last `accept`
        // (the event stream's, for ConverseStream) is the one meant.
        let headers = request.headers_mut();
        if let Some(accept) = headers
            .get_all(http::header::ACCEPT)
            .iter()
            .next_back()
            .cloned()
        {
            headers.insert(http::header::ACCEPT, accept);
        }
        match &self.auth {
            Auth::ApiKey => Ok(()),
            Auth::SigV4(credentials) => sigv4::sign_request(
                request,
                credentials,
                &self.region,
                SERVICE,
                SystemTime::now(),
            )
            .map(|_| ()),
        }
    }

    fn classify(&self, error: &mut UpstreamError) {
        let header_type = error
            .headers
            .iter()
            .find(|(k, _)| k == "x-amzn-errortype")
            .map(|(_, v)| v.split(':').next().unwrap_or("").to_string());
        let (body_type, message) = match &error.body {
            UpstreamBody::Json(v) => (
                ["__type", "code", "Code"]
                    .iter()
                    .find_map(|k| v.get(k).and_then(Value::as_str))
                    .map(|t| t.rsplit('#').next().unwrap_or(t).to_string()),
                message_of(v).to_string(),
            ),
            UpstreamBody::Text(t) => (None, t.clone()),
            UpstreamBody::Empty => (None, String::new()),
        };
        let error_type = header_type.or(body_type).unwrap_or_default();
        let kind = error_kind(&error_type, &message, error.status);
        error.kind = kind;
        error.retryable = retryable(kind, &error_type, error.status);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        let req: EmbedRequest = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("invalid embeddings request: {e}")))?;
        let wire_body = embed_body(&req)?;
        Ok(WireRequest::post_json(
            join_url(base_url, &model_path(&req.model, "invoke")?),
            wire_body.to_string(),
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        decode_embeddings(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventstream::tests::{event as frame, exception as exception_frame};
    use crate::framing::FrameDecoder;

    fn provider() -> Bedrock {
        Bedrock::from_settings(&ProviderSettings {
            region: Some("eu-west-1".into()),
            aws_access_key_id: Some("AKIDEXAMPLE".into()),
            aws_secret_access_key: Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            aws_session_token: Some("token".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn request(body: Value, stream: bool) -> Result<(String, Value), Error> {
        let wire = provider().chat_request(
            "https://bedrock-runtime.eu-west-1.amazonaws.com/",
            Bytes::from(body.to_string()),
            stream,
        )?;
        let sent: Value = serde_json::from_slice(wire.body.as_deref().unwrap()).unwrap();
        Ok((wire.url, sent))
    }

    fn translate(body: Value) -> Value {
        request(body, false).unwrap().1
    }

    fn rejection(body: Value) -> String {
        let err = request(body, false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        err.to_string()
    }

    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    #[test]
    fn a_whole_conversation_translates_field_for_field() {
        let (url, sent) = request(
            json!({
                "model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "messages": [
                    {"role": "system", "content": "You are terse."},
                    {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
                    {"role": "user", "content": [
                        {"type": "text", "text": "Weather in Paris?"},
                        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}},
                        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"}}
                    ]},
                    {"role": "assistant", "content": "", "tool_calls": [
                        {"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                        {"id": "call_t1", "type": "function", "function": {"name": "get_time", "arguments": ""}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_w1", "content": "{\"tempC\":21}"},
                    {"role": "tool", "tool_call_id": "call_t1", "name": "get_time", "content": [{"type": "text", "text": "14:05"}]},
                    {"role": "user", "content": "And tomorrow?"}
                ],
                "tools": [
                    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                    {"type": "function", "function": {"name": "get_time"}}
                ],
                "tool_choice": "auto",
                "parallel_tool_calls": true,
                "temperature": 0.3,
                "top_p": 0.9,
                "max_completion_tokens": 300,
                "stop": "END",
                "n": 1,
                "stream": false,
                "stream_options": {"include_usage": true}
            }),
            false,
        )
        .unwrap();
        assert_eq!(
            url,
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        );
        assert_eq!(
            sent,
            json!({
                "system": [{"text": "You are terse."}, {"text": "Use metric units."}],
                "messages": [
                    {"role": "user", "content": [
                        {"text": "Weather in Paris?"},
                        {"image": {"format": "png", "source": {"bytes": PNG}}},
                        {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}
                    ]},
                    {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}},
                        {"toolUse": {"toolUseId": "call_t1", "name": "get_time", "input": {}}}
                    ]},
                    {"role": "user", "content": [
                        {"toolResult": {"toolUseId": "call_w1", "content": [{"text": "{\"tempC\":21}"}]}},
                        {"toolResult": {"toolUseId": "call_t1", "content": [{"text": "14:05"}]}},
                        {"text": "And tomorrow?"}
                    ]}
                ],
                "inferenceConfig": {"maxTokens": 300, "temperature": 0.3, "topP": 0.9, "stopSequences": ["END"]},
                "toolConfig": {
                    "tools": [
                        {"toolSpec": {"name": "get_weather", "description": "Weather for a city", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}},
                        {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
                    ],
                    "toolChoice": {"auto": {}}
                }
            })
        );
    }

    #[test]
    fn streams_go_to_converse_stream_and_ask_for_an_event_stream() {
        let wire = provider()
            .chat_request(
                "http://127.0.0.1:9/base",
                Bytes::from(
                    json!({"model": "arn:aws:bedrock:us-east-1:123:inference-profile/us.x:0", "messages": [{"role": "user", "content": "hi"}], "stream": true})
                        .to_string(),
                ),
                true,
            )
            .unwrap();
        assert_eq!(
            wire.url,
            "http://127.0.0.1:9/base/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x%3A0/converse-stream"
        );
        assert_eq!(wire.headers[http::header::ACCEPT], EVENT_STREAM);
        assert_eq!(
            serde_json::from_slice::<Value>(wire.body.as_deref().unwrap()).unwrap(),
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
        );
        assert_eq!(provider().framing(), Framing::AwsEventStream);
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": text})
    }

    fn weather_tool() -> Value {
        json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}})
    }

    const SCHEMA: &str = r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"#;

    fn structured() -> Value {
        json!({"type": "json_schema", "json_schema": {"name": "WeatherAgent", "strict": true, "schema": serde_json::from_str::<Value>(SCHEMA).unwrap()}})
    }

    fn json_tool(description: &str, schema: Value) -> Value {
        json!({"toolSpec": {"name": JSON_TOOL, "description": description, "inputSchema": {"json": schema}}})
    }

    #[test]
    fn structured_output_is_a_forced_tool() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let described = "Respond with a JSON object that matches the WeatherAgent schema.";
        let sent = translate(
            json!({"model": "m", "messages": [user("hi")], "response_format": structured()}),
        );
        assert_eq!(
            sent["toolConfig"],
            json!({"tools": [json_tool(described, schema.clone())], "toolChoice": {"tool": {"name": JSON_TOOL}}})
        );
        let sent = translate(
            json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "json_object"}}),
        );
        assert_eq!(
            sent["toolConfig"],
            json!({"tools": [json_tool("Respond with a JSON object.", json!({"type": "object"}))], "toolChoice": {"tool": {"name": JSON_TOOL}}})
        );
        // With the caller's tools: some tool must be called, theirs or the answer.
        let sent = translate(
            json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "response_format": structured()}),
        );
        assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
        assert_eq!(
            sent["toolConfig"]["tools"][1],
            json_tool(described, schema.clone())
        );
        // tool_choice none hides the caller's tools but still forces the answer.
        let sent = translate(
            json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": "none", "response_format": structured()}),
        );
        assert_eq!(
            sent["toolConfig"],
            json!({"tools": [json_tool(described, schema)], "toolChoice": {"tool": {"name": JSON_TOOL}}})
        );
        let sent = translate(
            json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "text"}}),
        );
        assert!(sent.get("toolConfig").is_none());
    }

    #[test]
    fn tool_choice_modes_translate() {
        let with = |choice: Value| {
            translate(json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": choice}))["toolConfig"].clone()
        };
        assert_eq!(with(json!("required"))["toolChoice"], json!({"any": {}}));
        assert_eq!(
            with(json!({"type": "function", "function": {"name": "get_weather"}}))["toolChoice"],
            json!({"tool": {"name": "get_weather"}})
        );
        // none with no tool calls in the conversation: the tools are not offered at all.
        assert_eq!(with(json!("none")), Value::Null);
        let sent =
            translate(json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()]}));
        assert!(sent["toolConfig"].get("toolChoice").is_none());
        let sent =
            translate(json!({"model": "m", "messages": [user("hi")], "tool_choice": "auto"}));
        assert!(sent.get("toolConfig").is_none());
    }

    #[test]
    fn what_converse_cannot_take_is_refused_by_name() {
        let base = || json!({"model": "m", "messages": [user("hi")]});
        let with = |field: &str, value: Value| {
            let mut b = base();
            b[field] = value;
            rejection(b)
        };
        assert!(with("seed", json!(7)).contains("cannot take seed:"));
        assert_eq!(
            with("logit_bias", json!({"42": 1})),
            "bedrock cannot take logit_bias: remove it or use a provider that supports it"
        );
        assert!(with("frequency_penalty", json!(0.5)).contains("frequency_penalty"));
        assert!(with("presence_penalty", json!(0.5)).contains("presence_penalty"));
        assert!(with("reasoning_effort", json!("low")).contains("reasoning_effort"));
        assert!(with("user", json!("u-1")).contains("cannot take user:"));
        assert!(with("n", json!(2)).contains("cannot take n:"));
        assert!(with("parallel_tool_calls", json!(false)).contains("parallel_tool_calls"));
        let msg = |m: Value| rejection(json!({"model": "m", "messages": [m]}));
        assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}]})).contains("images by URL"));
        assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "high"}}]})).contains("image detail"));
        assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AA"}}]})).contains("image/tiff"));
        assert!(msg(
            json!({"role": "user", "content": [{"type": "file", "file": {"file_id": "f1"}}]})
        )
        .contains("file"));
        assert!(
            msg(json!({"role": "user", "name": "bob", "content": "hi"})).contains("message name")
        );
        assert!(msg(json!({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]})).contains("user messages only"));
        assert!(msg(json!({"role": "tool", "content": "x"})).contains("tool_call_id"));
        assert!(msg(json!({"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]})).contains("not JSON"));
        let tools = |extra: Value| {
            let mut b = json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()]});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            rejection(b)
        };
        assert!(
            tools(json!({"tool_choice": {"type": "function", "function": {"name": "nope"}}}))
                .contains("not among the tools")
        );
        assert!(tools(json!({"tool_choice": "sometimes"})).contains("sometimes"));
        assert!(rejection(
            json!({"model": "m", "messages": [user("hi")], "tool_choice": "required"})
        )
        .contains("needs tools"));
        assert!(rejection(json!({"model": "m", "messages": [user("hi")], "tools": [{"type": "function", "function": {"name": JSON_TOOL}}]})).contains("reserves"));
        assert!(rejection(json!({"model": "m", "messages": [
            user("hi"),
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "sunny"}
        ], "tools": [weather_tool()], "tool_choice": "none"})).contains("\"none\""));
        assert!(rejection(json!({"model": "", "messages": [user("hi")]})).contains("model"));
        assert!(rejection(json!({"messages": []})).contains("invalid chat request"));
    }

    fn without_volatile(mut v: Value) -> Value {
        let strip = |v: &mut Value| {
            if let Some(o) = v.as_object_mut() {
                o.remove("id");
                o.remove("created");
            }
        };
        if let Some(items) = v.as_array_mut() {
            items.iter_mut().for_each(strip);
        } else {
            strip(&mut v);
        }
        v
    }

    #[test]
    fn decodes_a_converse_response() {
        // Shaped as the Converse API reference documents it, with prompt caching and reasoning.
        let body = br#"{
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Need the weather tool.", "signature": "EqoBCkgIARABGAIiQL"}}},
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "get_weather", "input": {"city": "Paris"}}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 12, "outputTokens": 40, "totalTokens": 1076, "cacheReadInputTokens": 1024, "cacheWriteInputTokens": 0},
            "metrics": {"latencyMs": 1175}
        }"#;
        let c = provider().decode_completion(body, "").unwrap();
        let json: Value = serde_json::from_str(&c.json).unwrap();
        assert!(json["id"]
            .as_str()
            .unwrap()
            .starts_with("chatcmpl-bedrock-"));
        assert_eq!(
            without_volatile(json),
            json!({
                "object": "chat.completion",
                "model": "",
                "choices": [{
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Let me check.",
                        "reasoning_content": "Need the weather tool.",
                        "tool_calls": [{"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
                    },
                    "finish_reason": "tool_calls",
                    "provider_finish_reason": "tool_use"
                }],
                "usage": {"prompt_tokens": 1036, "completion_tokens": 40, "total_tokens": 1076, "prompt_tokens_details": {"cached_tokens": 1024}}
            })
        );
        assert_eq!(c.usage.unwrap().cached_tokens(), 1024);
    }

    #[test]
    fn stop_reasons_normalise() {
        let decode = |content: &str, stop: &str| {
            let body = format!(
                r#"{{"output":{{"message":{{"role":"assistant","content":{content}}}}},"stopReason":"{stop}","usage":{{"inputTokens":1,"outputTokens":2,"totalTokens":3}}}}"#
            );
            let v: Value = serde_json::from_str(
                &provider()
                    .decode_completion(body.as_bytes(), "")
                    .unwrap()
                    .json,
            )
            .unwrap();
            (
                v["choices"][0]["finish_reason"].clone(),
                v["choices"][0]["message"]["content"].clone(),
            )
        };
        let text = r#"[{"text":"hi"}]"#;
        assert_eq!(decode(text, "end_turn"), (json!("stop"), json!("hi")));
        assert_eq!(decode(text, "stop_sequence").0, json!("stop"));
        assert_eq!(decode(text, "max_tokens").0, json!("length"));
        assert_eq!(
            decode(text, "model_context_window_exceeded").0,
            json!("length")
        );
        assert_eq!(
            decode(text, "guardrail_intervened").0,
            json!("content_filter")
        );
        assert_eq!(decode(text, "content_filtered").0, json!("content_filter"));
        assert_eq!(decode("[]", "end_turn"), (json!("stop"), json!("")));
        // The structured answer is the message text, and a plain stop.
        let answer = format!(
            r#"[{{"toolUse":{{"toolUseId":"tooluse_1","name":"{JSON_TOOL}","input":{{"city":"Paris","tempC":21}}}}}}]"#
        );
        assert_eq!(
            decode(&answer, "tool_use"),
            (json!("stop"), json!("{\"city\":\"Paris\",\"tempC\":21}"))
        );
    }

    #[test]
    fn bad_completions_are_bad_responses() {
        for body in [
            &b"<html>gateway</html>"[..],
            br#"{"stopReason":"end_turn"}"#,
            br#"{"output":{}}"#,
        ] {
            let e = provider().decode_completion(body, "").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BadResponse, "{e}");
        }
    }

    /// Binary frames → framing (split in `piece`-byte chunks) → the decoder → canonical chunks.
    fn run_stream(
        frames: &[Vec<u8>],
        piece: usize,
    ) -> (Result<EventOutcome, Error>, Vec<Value>, StreamSink) {
        let bytes = frames.concat();
        let mut framing = FrameDecoder::new(Framing::AwsEventStream);
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece) {
            framing.feed(chunk, &mut events).unwrap();
        }
        framing.finish(&mut events).unwrap();
        let mut decoder = provider().stream_decoder("");
        let mut sink = StreamSink::default();
        let mut outcome = Ok(EventOutcome::Continue);
        for e in &events {
            outcome = decoder.decode(e, &mut sink);
            if !matches!(outcome, Ok(EventOutcome::Continue)) {
                break;
            }
        }
        let chunks = sink
            .take_batch()
            .map(|b| serde_json::from_str::<Value>(&b).unwrap())
            .map(without_volatile)
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let clean = decoder.ended_cleanly(&sink.progress);
        assert_eq!(clean, sink.progress.finish_reason.is_some());
        (outcome, chunks, sink)
    }

    fn chunk(delta: Value) -> Value {
        json!({"object": "chat.completion.chunk", "model": "", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
    }

    /// A ConverseStream transcript as Bedrock sends it: text, two tool calls, the stop reason,
    /// then usage, every payload padded with `p`.
    fn transcript() -> Vec<Vec<u8>> {
        vec![
            frame("messageStart", r#"{"p":"abcdefgh","role":"assistant"}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Two lookups."}},"p":"abc"}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqoB"}},"p":"abc"}"#,
            ),
            frame("contentBlockStop", r#"{"contentBlockIndex":0,"p":"ab"}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":"Checking"},"p":"abcdefghijk"}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":" both."},"p":"abcdefghijklmnopqr"}"#,
            ),
            frame(
                "contentBlockStop",
                r#"{"contentBlockIndex":1,"p":"abcdefghijklmnopqrstuvwxy"}"#,
            ),
            frame(
                "contentBlockStart",
                r#"{"contentBlockIndex":2,"p":"abc","start":{"toolUse":{"name":"get_weather","toolUseId":"tooluse_w1"}}}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":""}},"p":"abcd"}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\": \"Pa"}},"p":"abcd"}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"ris\"}"}},"p":"abcd"}"#,
            ),
            frame("contentBlockStop", r#"{"contentBlockIndex":2,"p":"abcd"}"#),
            frame(
                "contentBlockStart",
                r#"{"contentBlockIndex":3,"start":{"toolUse":{"name":"get_time","toolUseId":"tooluse_t1"}},"p":"a"}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{\"city\":\"Paris\"}"}},"p":"abcd"}"#,
            ),
            frame("contentBlockStop", r#"{"contentBlockIndex":3,"p":"abcd"}"#),
            frame(
                "messageStop",
                r#"{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM","stopReason":"tool_use"}"#,
            ),
            frame(
                "metadata",
                r#"{"metrics":{"latencyMs":1516},"p":"abcdefghijk","usage":{"inputTokens":420,"outputTokens":96,"totalTokens":516}}"#,
            ),
        ]
    }

    #[test]
    fn a_stream_transcript_becomes_canonical_chunks_at_any_split() {
        let expected = vec![
            chunk(json!({"role": "assistant", "content": ""})),
            chunk(json!({"reasoning_content": "Two lookups."})),
            chunk(json!({"content": "Checking"})),
            chunk(json!({"content": " both."})),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "tooluse_w1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Pa"}}]}),
            ),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ris\"}"}}]})),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "tooluse_t1", "type": "function", "function": {"name": "get_time", "arguments": ""}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\":\"Paris\"}"}}]}),
            ),
            json!({"object": "chat.completion.chunk", "model": "", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "tool_use"}]}),
            json!({"object": "chat.completion.chunk", "model": "", "choices": [], "usage": {"prompt_tokens": 420, "completion_tokens": 96, "total_tokens": 516}}),
        ];
        let frames = transcript();
        let total: usize = frames.iter().map(Vec::len).sum();
        for piece in [1, 2, 3, 7, 16, 100, total] {
            let (outcome, chunks, sink) = run_stream(&frames, piece);
            assert_eq!(outcome.unwrap(), EventOutcome::Done, "piece {piece}");
            assert_eq!(chunks, expected, "piece {piece}");
            let p = &sink.progress;
            assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (11, 14, 5));
            assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
            assert_eq!(p.usage.unwrap().total_tokens, 516);
        }
    }

    #[test]
    fn a_structured_answer_streams_as_text() {
        let frames = vec![
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame(
                "contentBlockStart",
                &format!(
                    r#"{{"contentBlockIndex":0,"start":{{"toolUse":{{"name":"{JSON_TOOL}","toolUseId":"tooluse_j"}}}}}}"#
                ),
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"city\":"}}}"#,
            ),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#,
            ),
            frame("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            frame("messageStop", r#"{"stopReason":"tool_use"}"#),
            frame(
                "metadata",
                r#"{"usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14,"cacheReadInputTokens":3}}"#,
            ),
        ];
        let (outcome, chunks, sink) = run_stream(&frames, 5);
        assert_eq!(outcome.unwrap(), EventOutcome::Done);
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, r#"{"city":"Paris"}"#);
        assert_eq!(sink.progress.tool_call_deltas, 0);
        assert_eq!(sink.progress.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            chunks.last().unwrap()["usage"],
            json!({"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17, "prompt_tokens_details": {"cached_tokens": 3}})
        );
    }

    #[test]
    fn a_stream_without_its_stop_is_not_clean_and_unknown_events_pass() {
        let frames = vec![
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame("someFutureEvent", r#"{"x":1}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"partial"}}"#,
            ),
        ];
        let (outcome, chunks, sink) = run_stream(&frames, 4);
        assert_eq!(outcome.unwrap(), EventOutcome::Continue);
        assert_eq!(chunks.len(), 2);
        assert!(!provider().stream_decoder("").ended_cleanly(&sink.progress));
        // Usage before the stop does not end the stream.
        let frames = vec![frame(
            "metadata",
            r#"{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"#,
        )];
        assert_eq!(run_stream(&frames, 9).0.unwrap(), EventOutcome::Continue);
        // Garbage and orphan tool input are bad responses.
        let e = run_stream(&[frame("contentBlockDelta", "not json")], 9)
            .0
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = run_stream(
            &[frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":4,"delta":{"toolUse":{"input":"{}"}}}"#,
            )],
            9,
        )
        .0
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
    }

    #[test]
    fn stream_exceptions_are_typed_upstream_errors() {
        let cases = [
            (
                "throttlingException",
                "Too many requests, please wait before trying again.",
                ErrorKind::RateLimited,
                true,
            ),
            (
                "serviceUnavailableException",
                "Bedrock is unable to process your request.",
                ErrorKind::Overloaded,
                true,
            ),
            (
                "modelNotReadyException",
                "Model is not ready.",
                ErrorKind::Overloaded,
                true,
            ),
            (
                "internalServerException",
                "Internal server error",
                ErrorKind::UpstreamError,
                true,
            ),
            (
                "modelStreamErrorException",
                "The model stream failed.",
                ErrorKind::UpstreamError,
                false,
            ),
            (
                "validationException",
                "The model returned the following errors: Input is too long for requested model.",
                ErrorKind::ContextLengthExceeded,
                false,
            ),
            (
                "validationException",
                "This request has been blocked by our content filters.",
                ErrorKind::ContentFilter,
                false,
            ),
            (
                "validationException",
                "messages: text content blocks must contain non-whitespace text",
                ErrorKind::InvalidRequest,
                false,
            ),
        ];
        for (name, message, kind, retry) in cases {
            let payload = json!({"message": message}).to_string();
            let frames = vec![
                frame("messageStart", r#"{"role":"assistant"}"#),
                frame(
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
                ),
                exception_frame(name, &payload),
            ];
            let (outcome, chunks, _) = run_stream(&frames, 11);
            let e = outcome.unwrap_err();
            assert_eq!(
                (e.kind(), e.retryable()),
                (kind, retry),
                "{name}: {message}"
            );
            assert_eq!(e.to_string(), message);
            let u = e.upstream().unwrap();
            assert_eq!(u.status, None);
            assert_eq!(u.error_object().unwrap()["type"], name);
            assert_eq!(
                chunks.len(),
                2,
                "what came before the exception is delivered"
            );
        }
        // An `error` message (`:message-type error`).
        let error = crate::eventstream::tests::encode(
            &[
                (
                    ":message-type",
                    crate::eventstream::tests::Value::Str("error".into()),
                ),
                (
                    ":error-code",
                    crate::eventstream::tests::Value::Str("InternalFailure".into()),
                ),
                (
                    ":error-message",
                    crate::eventstream::tests::Value::Str("boom".into()),
                ),
            ],
            b"",
        );
        let e = run_stream(&[error], 3).0.unwrap_err();
        assert_eq!(
            (e.kind(), e.retryable(), e.to_string()),
            (ErrorKind::UpstreamError, true, "boom".to_string())
        );
    }

    fn classified(status: u16, error_type: Option<&str>, body: Value) -> (ErrorKind, bool) {
        let mut e = UpstreamError {
            status: Some(status),
            headers: error_type
                .map(|t| {
                    vec![(
                        "x-amzn-errortype".to_string(),
                        format!("{t}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                    )]
                })
                .unwrap_or_default(),
            body: UpstreamBody::Json(body),
            kind: ErrorKind::from_status(status),
            retryable: false,
            retry_after: None,
        };
        provider().classify(&mut e);
        (e.kind, e.retryable)
    }

    #[test]
    fn http_errors_are_classified_from_the_error_type_and_message() {
        let m = |s: &str| json!({"message": s});
        let cases = [
            (429, Some("ThrottlingException"), m("Too many requests, please wait before trying again."), ErrorKind::RateLimited, true),
            (429, Some("ModelNotReadyException"), m("Model is not ready"), ErrorKind::Overloaded, true),
            (503, Some("ServiceUnavailableException"), m("Bedrock is unable to process your request."), ErrorKind::Overloaded, true),
            (500, Some("InternalServerException"), m("Internal error"), ErrorKind::UpstreamError, true),
            (424, Some("ModelErrorException"), m("The model failed."), ErrorKind::UpstreamError, false),
            (408, Some("ModelTimeoutException"), m("Model timed out."), ErrorKind::Timeout, false),
            (403, Some("AccessDeniedException"), m("You don't have access to the model with the specified model ID."), ErrorKind::Auth, false),
            (403, Some("UnrecognizedClientException"), m("The security token included in the request is invalid."), ErrorKind::Auth, false),
            (403, Some("InvalidSignatureException"), m("The request signature we calculated does not match the signature you provided."), ErrorKind::Auth, false),
            (404, Some("ResourceNotFoundException"), m("Model not found"), ErrorKind::NotFound, false),
            (400, Some("ServiceQuotaExceededException"), m("Your request exceeds the service quota for your account."), ErrorKind::RateLimited, true),
            (400, Some("ValidationException"), m("The model returned the following errors: prompt is too long: 200049 tokens > 200000 maximum"), ErrorKind::ContextLengthExceeded, false),
            (400, Some("ValidationException"), m("Input is too long for requested model."), ErrorKind::ContextLengthExceeded, false),
            (400, Some("ValidationException"), m("This request has been blocked by our content filters."), ErrorKind::ContentFilter, false),
            (400, Some("ValidationException"), m("Malformed input request"), ErrorKind::InvalidRequest, false),
            // No header: the body's `__type`, then the status.
            (400, None, json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}), ErrorKind::InvalidRequest, false),
            (429, None, m("slow down"), ErrorKind::RateLimited, true),
            (502, None, json!({}), ErrorKind::UpstreamError, true),
        ];
        for (status, t, body, kind, retry) in cases {
            assert_eq!(
                classified(status, t, body.clone()),
                (kind, retry),
                "{status} {t:?} {body}"
            );
        }
        let mut e = UpstreamError {
            status: Some(503),
            headers: vec![],
            body: UpstreamBody::Text("<html>Service Unavailable</html>".into()),
            kind: ErrorKind::UpstreamError,
            retryable: true,
            retry_after: None,
        };
        provider().classify(&mut e);
        assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
    }

    #[test]
    fn credentials_come_from_keys_or_an_api_key() {
        let err = Bedrock::from_settings(&ProviderSettings::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("AWS credentials"), "{err}");
        let err = Bedrock::from_settings(&ProviderSettings {
            aws_access_key_id: Some("AKID".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("secret access key"), "{err}");
        let keyed = Bedrock::from_settings(&ProviderSettings {
            api_key: Some("bedrock-key".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(keyed.auth, Auth::ApiKey));
        assert_eq!(keyed.region, "us-east-1");
        // An API key goes out as a bearer token, untouched by signing.
        let mut headers = http::HeaderMap::new();
        keyed.authorize("bedrock-key", &mut headers).unwrap();
        let client = reqwest::Client::new();
        let mut req = client
            .post("https://x.test/model/m/converse")
            .headers(headers)
            .body("{}")
            .build()
            .unwrap();
        keyed.sign(&mut req).unwrap();
        assert_eq!(req.headers()["authorization"], "Bearer bedrock-key");
        assert!(req.headers().get("x-amz-date").is_none());
        // Keys sign with SigV4 for the region; the stream's own accept header wins.
        let mut req = client
            .post("https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse-stream")
            .header("accept", "application/json")
            .header("accept", EVENT_STREAM)
            .header("content-type", "application/json")
            .body("{}")
            .build()
            .unwrap();
        provider().sign(&mut req).unwrap();
        let h = req.headers();
        assert_eq!(h.get_all("accept").iter().count(), 1);
        assert_eq!(h["accept"], EVENT_STREAM);
        assert_eq!(h["x-amz-security-token"], "token");
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="), "{auth}");
    }

    fn embed(body: Value) -> Result<(String, Value), Error> {
        let wire = provider().embed_request("https://rt.test", Bytes::from(body.to_string()))?;
        Ok((
            wire.url,
            serde_json::from_slice(wire.body.as_deref().unwrap()).unwrap(),
        ))
    }

    #[test]
    fn embeddings_use_titan_or_cohere_bodies() {
        assert_eq!(
            embed(json!({"model": "amazon.titan-embed-text-v2:0", "input": "hello", "dimensions": 512, "encoding_format": "float"})).unwrap(),
            ("https://rt.test/model/amazon.titan-embed-text-v2%3A0/invoke".to_string(), json!({"inputText": "hello", "dimensions": 512}))
        );
        assert_eq!(
            embed(json!({"model": "amazon.titan-embed-text-v1", "input": ["one"]}))
                .unwrap()
                .1,
            json!({"inputText": "one"})
        );
        assert_eq!(
            embed(json!({"model": "cohere.embed-english-v3", "input": ["a", "b"]})).unwrap(),
            (
                "https://rt.test/model/cohere.embed-english-v3/invoke".to_string(),
                json!({"texts": ["a", "b"], "input_type": "search_document"})
            )
        );
        assert_eq!(
            embed(json!({"model": "us.cohere.embed-v4:0", "input": "q", "input_type": "search_query", "dimensions": 256})).unwrap().1,
            json!({"texts": ["q"], "input_type": "search_query", "output_dimension": 256})
        );
        let refused = |body: Value| {
            let e = embed(body).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            e.to_string()
        };
        assert!(
            refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": ["a", "b"]}))
                .contains("one input per request")
        );
        assert!(refused(
            json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "user": "u"})
        )
        .contains("user"));
        assert!(refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "encoding_format": "base64"})).contains("base64"));
        assert!(refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "input_type": "search_query"})).contains("input_type"));
        assert!(
            refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": [[1, 2]]}))
                .contains("token ids")
        );
        assert!(refused(
            json!({"model": "cohere.embed-english-v3", "input": "a", "dimensions": 256})
        )
        .contains("dimensions"));
        assert!(
            refused(json!({"model": "amazon.nova-lite-v1:0", "input": "a"}))
                .contains("titan-embed")
        );
    }

    #[test]
    fn embeddings_answers_become_openai_lists() {
        let titan = provider()
            .decode_embeddings(br#"{"embedding":[0.1,-0.2],"inputTextTokenCount":4,"embeddingsByType":{"float":[0.1,-0.2]}}"#)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&titan).unwrap(),
            json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}], "usage": {"prompt_tokens": 4, "total_tokens": 4}})
        );
        let cohere = provider()
            .decode_embeddings(br#"{"embeddings":[[0.1],[0.2]],"id":"e1","response_type":"embeddings_floats","texts":["a","b"]}"#)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&cohere).unwrap(),
            json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}, {"object": "embedding", "index": 1, "embedding": [0.2]}]})
        );
        let by_type = provider()
            .decode_embeddings(br#"{"embeddings":{"float":[[0.3]]},"id":"e2","response_type":"embeddings_by_type"}"#)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&by_type).unwrap()["data"][0]["embedding"],
            json!([0.3])
        );
        for bad in [&b"nope"[..], br#"{"embeddings":{"int8":[[1]]}}"#] {
            assert_eq!(
                provider().decode_embeddings(bad).unwrap_err().kind(),
                ErrorKind::BadResponse
            );
        }
        // The model list lives on another host (bedrock, not bedrock-runtime).
        assert_eq!(
            provider()
                .models_request("https://rt.test")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
}
