//! Ollama's native API: `POST /api/chat` (NDJSON stream), `POST /api/embed`, `GET /api/tags`.
//!
//! Ollama streams by default, so every chat request states `stream`. Tool-call arguments travel as
//! JSON objects (canonical JSON text on our side); tool results are `role: "tool"` messages naming
//! the tool (`tool_name`) and, for servers that know it, the call (`tool_call_id`). Servers older
//! than tool-call ids send none: those calls get a fresh `call_…` id, kept for the whole answer.
//! Images go inline as base64; Ollama cannot fetch image URLs, so those are refused. Structured
//! output is native: `format` takes a JSON schema, or `"json"` for JSON mode.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::openai::bad_json;
use super::{join_url, ChatProvider, Completion, EventOutcome, Framing, StreamDecode, WireRequest};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, FunctionCall, ImageSource,
    Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

const ID: &str = "ollama";

#[derive(Debug, Clone, Default)]
pub struct Ollama;

impl Ollama {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        // Local servers need no key; Ollama's cloud takes `Authorization: Bearer <key>`, which the
        // default `authorize` sends when a key is configured.
        Ok(Self)
    }
}

// ---- wire types: requests ---------------------------------------------------------------------

/// `POST /api/chat`.
#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<WireTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    options: Map<String, Value>,
    /// Ollama streams unless told otherwise: always stated.
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    think: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_alive: Option<Value>,
}

#[derive(Serialize, Debug, PartialEq)]
struct WireMessage {
    role: &'static str,
    content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCallOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
}

#[derive(Serialize, Debug, PartialEq)]
struct WireToolCallOut {
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
    function: WireFunctionOut,
}

#[derive(Serialize, Debug, PartialEq)]
struct WireFunctionOut {
    index: usize,
    name: String,
    /// A JSON object, not JSON text.
    arguments: Value,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireToolFunction<'a>,
}

#[derive(Serialize)]
struct WireToolFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: Cow<'a, Value>,
}

/// `POST /api/embed`.
#[derive(Serialize)]
struct EmbedBody {
    model: String,
    input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_alive: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<Map<String, Value>>,
}

/// OpenAI's embeddings request, as it reaches `embed_request`.
#[derive(Deserialize)]
struct EmbedRequest {
    model: String,
    input: Value,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

// ---- wire types: answers ----------------------------------------------------------------------

/// A whole `/api/chat` answer, and equally one line of its stream.
#[derive(Deserialize)]
struct ChatAnswer {
    #[serde(default)]
    model: String,
    #[serde(default)]
    message: Option<AnswerMessage>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    /// Omitted when zero.
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize, Default)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<AnswerToolCall>>,
}

#[derive(Deserialize)]
struct AnswerToolCall {
    /// Sent by newer servers only.
    #[serde(default)]
    id: Option<String>,
    function: AnswerFunction,
}

#[derive(Deserialize)]
struct AnswerFunction {
    name: String,
    #[serde(default)]
    arguments: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct EmbedAnswer<'a> {
    #[serde(default)]
    model: String,
    #[serde(borrow, default)]
    embeddings: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Serialize)]
struct EmbeddingsOut<'a> {
    object: &'static str,
    data: Vec<EmbeddingOut<'a>>,
    model: &'a str,
    usage: EmbeddingUsage,
}

#[derive(Serialize)]
struct EmbeddingOut<'a> {
    object: &'static str,
    index: usize,
    embedding: &'a RawValue,
}

#[derive(Serialize)]
struct EmbeddingUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

// ---- requests ---------------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

fn random_id(prefix: &str) -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    format!("{prefix}{tail}")
}

/// Ollama options the caller may also set by their own name (Ollama's `num_ctx`, which
/// `normalizeParameters` produces from `context` / `ctx_size`).
const NATIVE_TOP_LEVEL_OPTIONS: &[&str] = &["num_ctx"];

/// The options object: canonical sampling fields under Ollama's names, plus the caller's own
/// Ollama `options` (a key set both ways is refused rather than one silently winning).
fn options_of(req: &mut ChatRequest) -> Result<Map<String, Value>, Error> {
    let mut options = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            options.insert(key.to_string(), v);
        }
    };
    set("temperature", req.temperature.map(Value::from));
    set("top_p", req.top_p.map(Value::from));
    set("num_predict", req.max_output_tokens().map(Value::from));
    set("stop", req.stop.as_ref().map(|s| Value::from(s.to_vec())));
    set("seed", req.seed.map(Value::from));
    set("frequency_penalty", req.frequency_penalty.map(Value::from));
    set("presence_penalty", req.presence_penalty.map(Value::from));
    for name in NATIVE_TOP_LEVEL_OPTIONS {
        if let Some(v) = req.extra.remove(*name) {
            options.insert((*name).to_string(), v);
        }
    }
    match req.extra.remove("options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(native)) => {
            for (key, value) in native {
                if options.contains_key(&key) {
                    return Err(invalid(format!(
                        "ollama got options.{key} and the request's own {key}: set it once"
                    )));
                }
                options.insert(key, value);
            }
        }
        Some(_) => return Err(invalid("ollama's options must be an object")),
    }
    Ok(options)
}

/// `think` from `reasoning_effort`, or from Ollama's own `think` passed as is.
fn think_of(req: &mut ChatRequest) -> Result<Option<Value>, Error> {
    let native = match req.extra.remove("think") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Bool(_)) => Some(v),
        Some(Value::String(s)) if matches!(s.as_str(), "low" | "medium" | "high") => {
            Some(Value::String(s))
        }
        Some(other) => {
            return Err(invalid(format!(
                "ollama's think is true, false, \"low\", \"medium\" or \"high\", got {other}"
            )))
        }
    };
    let effort = match req.reasoning_effort.as_deref() {
        None => None,
        Some("none") => Some(Value::Bool(false)),
        Some(level @ ("low" | "medium" | "high")) => Some(Value::from(level)),
        Some(other) => {
            return Err(invalid(format!(
                "ollama cannot take reasoning_effort {other:?}: use none, low, medium or high"
            )))
        }
    };
    match (native, effort) {
        (Some(_), Some(_)) => Err(invalid(
            "ollama got both think and reasoning_effort: set one",
        )),
        (native, effort) => Ok(native.or(effort)),
    }
}

fn keep_alive_of(req: &mut ChatRequest) -> Result<Option<Value>, Error> {
    keep_alive(req.extra.remove("keep_alive"))
}

fn keep_alive(value: Option<Value>) -> Result<Option<Value>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(Some(v)),
        Some(_) => Err(invalid(
            "ollama's keep_alive is a duration (\"5m\") or a number of seconds",
        )),
    }
}

/// `format`: a JSON schema, or `"json"` for JSON mode.
fn format_of(req: &ChatRequest) -> Option<Value> {
    match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(Value::from("json")),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| Value::from("json")),
        ),
    }
}

/// Whether the request's tools are sent: Ollama has no `tool_choice`. `auto` is its behaviour;
/// `none` is kept by not offering the tools; a forced call cannot be expressed.
fn offer_tools(req: &ChatRequest) -> Result<bool, Error> {
    match &req.tool_choice {
        None => Ok(true),
        Some(ToolChoice::Mode(mode)) if mode == "auto" => Ok(true),
        Some(ToolChoice::Mode(mode)) if mode == "none" => Ok(false),
        Some(choice) => Err(invalid(format!(
            "ollama cannot take tool_choice {}: it cannot force a tool call; use \"auto\" or \"none\"",
            match choice {
                ToolChoice::Mode(m) => format!("{m:?}"),
                ToolChoice::Function { function } => format!("for function {:?}", function.name),
            }
        ))),
    }
}

fn tools_of(req: &ChatRequest) -> Result<Option<Vec<WireTool<'_>>>, Error> {
    let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if !offer_tools(req)? {
        return Ok(None);
    }
    Ok(Some(
        tools
            .iter()
            .map(|t| WireTool {
                kind: "function",
                function: WireToolFunction {
                    name: &t.function.name,
                    description: t.function.description.as_deref(),
                    parameters: t.function.parameters.as_ref().map_or_else(
                        || Cow::Owned(json!({ "type": "object", "properties": {} })),
                        Cow::Borrowed,
                    ),
                },
            })
            .collect(),
    ))
}

/// Text and base64 images of a message's content.
fn split_content(content: Option<&Content>, at: usize) -> Result<(String, Vec<String>), Error> {
    let Some(content) = content else {
        return Ok((String::new(), Vec::new()));
    };
    let mut images = Vec::new();
    if let Content::Parts(parts) = content {
        for part in parts {
            match part {
                Part::Text { .. } => {}
                Part::ImageUrl { image_url } => {
                    if let Some(detail) = image_url.detail.as_deref().filter(|d| *d != "auto") {
                        return Err(invalid(format!(
                            "ollama cannot take image detail {detail:?} (messages[{at}]): remove it"
                        )));
                    }
                    match ImageSource::parse(&image_url.url) {
                        ImageSource::Base64 { media_type, data } => {
                            if !media_type.starts_with("image/") {
                                return Err(invalid(format!(
                                    "ollama takes image data only, got {media_type} in an image_url (messages[{at}])"
                                )));
                            }
                            images.push(data);
                        }
                        ImageSource::Url(_) => {
                            return Err(invalid(format!(
                                "ollama takes images only inline as base64 data URLs (data:image/png;base64,…) and cannot fetch an image URL (messages[{at}]): download the image and send its data"
                            )))
                        }
                    }
                }
                Part::File { .. } => {
                    return Err(invalid(format!(
                        "ollama cannot take file content parts (messages[{at}])"
                    )))
                }
            }
        }
    }
    Ok((content.text(), images))
}

/// JSON text of tool-call arguments as the object Ollama wants.
fn arguments_object(call: &ToolCall) -> Result<Value, Error> {
    let text = call.function.arguments.trim();
    if text.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(invalid(format!(
            "ollama takes tool-call arguments as a JSON object; the arguments of {} ({}) are not one",
            call.function.name, call.id
        ))),
    }
}

/// The name of the tool that produced a result: the message's `name`, or the call it answers.
fn tool_name_for(messages: &[Message], at: usize) -> Option<String> {
    let msg = &messages[at];
    if let Some(name) = &msg.name {
        return Some(name.clone());
    }
    let id = msg.tool_call_id.as_deref()?;
    messages[..at]
        .iter()
        .rev()
        .filter_map(|m| m.tool_calls.as_ref())
        .flatten()
        .find(|c| c.id == id)
        .map(|c| c.function.name.clone())
}

fn messages_of(messages: &[Message]) -> Result<Vec<WireMessage>, Error> {
    messages
        .iter()
        .enumerate()
        .map(|(at, msg)| {
            let role = match msg.role {
                Role::System | Role::Developer => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            };
            if msg.name.is_some() && msg.role != Role::Tool {
                return Err(invalid(format!(
                    "ollama cannot take a participant name (messages[{at}].name): remove it"
                )));
            }
            let (content, images) = split_content(msg.content.as_ref(), at)?;
            let tool_calls = msg
                .tool_calls
                .iter()
                .flatten()
                .enumerate()
                .map(|(index, call)| {
                    Ok(WireToolCallOut {
                        id: call.id.clone(),
                        function: WireFunctionOut {
                            index,
                            name: call.function.name.clone(),
                            arguments: arguments_object(call)?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let (tool_name, tool_call_id) = if msg.role == Role::Tool {
                (tool_name_for(messages, at), msg.tool_call_id.clone())
            } else {
                (None, None)
            };
            Ok(WireMessage {
                role,
                content,
                images,
                tool_calls,
                tool_name,
                tool_call_id,
            })
        })
        .collect()
}

fn chat_body(body: &[u8], stream: bool) -> Result<Vec<u8>, Error> {
    let mut req = ChatRequest::parse(body)?;
    // Ollama's own fields, taken by their names; everything else unknown is refused below.
    let options = options_of(&mut req)?;
    let think = think_of(&mut req)?;
    let keep_alive = keep_alive_of(&mut req)?;
    req.reject_extra(
        ID,
        &[
            ("n", req.n.is_some_and(|n| n != 1)),
            ("user", req.user.is_some()),
            (
                "parallel_tool_calls: false",
                req.parallel_tool_calls == Some(false),
            ),
        ],
    )?;
    let wire = ChatBody {
        model: &req.model,
        messages: messages_of(&req.messages)?,
        tools: tools_of(&req)?,
        format: format_of(&req),
        options,
        stream,
        think,
        keep_alive,
    };
    serde_json::to_vec(&wire).map_err(|e| Error::Internal(format!("encoding the request: {e}")))
}

// ---- answers ----------------------------------------------------------------------------------

/// The kind an Ollama error message implies, beyond its status.
fn kind_from_message(message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if says(&[
        "context length",
        "context_length",
        "context window",
        "maximum context",
        "prompt too long",
        "too many tokens",
    ]) {
        Some(ErrorKind::ContextLengthExceeded)
    } else if says(&[
        "content_filter",
        "content filter",
        "content policy",
        "content_policy",
        "safety",
    ]) {
        Some(ErrorKind::ContentFilter)
    } else if says(&["server busy", "maximum pending requests", "overloaded"]) {
        Some(ErrorKind::Overloaded)
    } else {
        None
    }
}

/// Ollama's error text: `{"error": "…"}`, or whatever else a proxy in front of it sent.
fn error_text(body: &UpstreamBody) -> String {
    match body {
        UpstreamBody::Json(v) => match v.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(e) => e
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| e.to_string(), str::to_string),
            None => v.to_string(),
        },
        UpstreamBody::Text(t) => t.clone(),
        UpstreamBody::Empty => String::new(),
    }
}

fn refine(error: &mut UpstreamError) {
    crate::error::classify_common(error);
    let kind = kind_from_message(&error_text(&error.body)).or_else(|| {
        // 503 is Ollama's "server busy" (its request queue is full).
        (error.status == Some(503)).then_some(ErrorKind::Overloaded)
    });
    if let Some(kind) = kind {
        error.kind = kind;
        error.retryable = matches!(kind, ErrorKind::Overloaded | ErrorKind::RateLimited);
    }
}

/// An `{"error": …}` that came with a 200: inside a stream, or in place of an answer.
fn in_band_error(error: Value) -> Error {
    let mut upstream = UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({ "error": error })),
        kind: ErrorKind::UpstreamError,
        retryable: false,
        retry_after: None,
    };
    refine(&mut upstream);
    Error::Upstream(Box::new(upstream))
}

fn usage_of(answer: &ChatAnswer) -> Usage {
    let prompt = answer.prompt_eval_count.unwrap_or(0);
    let completion = answer.eval_count.unwrap_or(0);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        ..Default::default()
    }
}

/// Ollama says `stop` for a finished answer whether or not it called tools.
fn finish_reason(done_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Arguments as canonical JSON text, in the order Ollama wrote them.
fn arguments_text(arguments: Option<&RawValue>) -> String {
    match arguments.map(RawValue::get) {
        None | Some("null") => "{}".to_string(),
        // Some proxies send the arguments already as JSON text.
        Some(raw) if raw.starts_with('"') => {
            serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
        }
        Some(raw) => raw.to_string(),
    }
}

fn call_id(call: &AnswerToolCall) -> String {
    call.id
        .clone()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| random_id("call_"))
}

fn decode_completion(body: &[u8]) -> Result<Completion, Error> {
    let answer: ChatAnswer =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    if let Some(error) = answer.error.clone().filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let Some(message) = &answer.message else {
        return Err(Error::BadResponse("the response has no message".into()));
    };
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .iter()
        .flatten()
        .map(|call| ToolCall {
            id: call_id(call),
            kind: "function".into(),
            function: FunctionCall {
                name: call.function.name.clone(),
                arguments: arguments_text(call.function.arguments.as_deref()),
            },
        })
        .collect();
    let content = message.content.clone().unwrap_or_default();
    let usage = usage_of(&answer);
    let writer = CompletionWriter {
        id: random_id("chatcmpl-"),
        model: answer.model.clone(),
        content: (!content.is_empty() || tool_calls.is_empty()).then_some(content),
        reasoning: message.thinking.clone().filter(|t| !t.is_empty()),
        finish_reason: Some(finish_reason(
            answer.done_reason.as_deref(),
            !tool_calls.is_empty(),
        )),
        provider_finish_reason: answer.done_reason.clone(),
        tool_calls,
        usage: Some(usage),
    };
    Ok(Completion {
        json: writer.to_json(),
        usage: Some(usage),
    })
}

/// One `/api/chat` stream: NDJSON lines, each a message delta; the line with `done: true` ends it
/// with the reason and the token counts.
#[derive(Default)]
struct OllamaStream {
    writer: Option<ChunkWriter>,
    /// Tool calls so far: Ollama sends each whole, possibly one per line.
    tool_calls: u32,
}

impl StreamDecode for OllamaStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(EventOutcome::Continue);
        }
        let line: ChatAnswer = serde_json::from_str(data)
            .map_err(|e| bad_json("a stream line", e, data.as_bytes()))?;
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

fn embed_body(body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut req: EmbedRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("invalid embeddings request: {e}")))?;
    let text_only = match &req.input {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    if !text_only {
        return Err(invalid(
            "ollama embeds text only: input must be a string or an array of strings",
        ));
    }
    let truncate = match req.extra.remove("truncate") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(_) => return Err(invalid("ollama's truncate is true or false")),
    };
    let keep_alive = keep_alive(req.extra.remove("keep_alive"))?;
    let options = match req.extra.remove("options") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => return Err(invalid("ollama's options must be an object")),
    };
    let mut refused: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    if req.encoding_format.as_deref().is_some_and(|f| f != "float") {
        refused.push("encoding_format (other than float)");
    }
    if req.user.is_some() {
        refused.push("user");
    }
    if !refused.is_empty() {
        return Err(invalid(format!(
            "{ID} cannot take {} for embeddings: remove {}",
            refused.join(", "),
            if refused.len() == 1 { "it" } else { "them" }
        )));
    }
    let wire = EmbedBody {
        model: req.model,
        input: req.input,
        dimensions: req.dimensions,
        truncate,
        keep_alive,
        options,
    };
    serde_json::to_vec(&wire).map_err(|e| Error::Internal(format!("encoding the request: {e}")))
}

fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    let answer: EmbedAnswer =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    if let Some(error) = answer.error.filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let Some(embeddings) = answer.embeddings else {
        return Err(Error::BadResponse(
            "the embeddings response has no embeddings".into(),
        ));
    };
    let tokens = answer.prompt_eval_count.unwrap_or(0);
    let out = EmbeddingsOut {
        object: "list",
        data: embeddings
            .into_iter()
            .enumerate()
            .map(|(index, embedding)| EmbeddingOut {
                object: "embedding",
                index,
                embedding,
            })
            .collect(),
        model: &answer.model,
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    serde_json::to_string(&out).map_err(|e| Error::Internal(format!("encoding embeddings: {e}")))
}

/// `/api/tags` → `{"object":"list","data":[{"id": name, "object": "model", …everything Ollama
/// said: model, modified_at, size, digest, details}]}`.
fn decode_models(body: &[u8]) -> Result<String, Error> {
    let mut tags: Value =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if let Some(error) = tags.get("error").filter(|e| !e.is_null()) {
        return Err(in_band_error(error.clone()));
    }
    let Some(Value::Array(models)) = tags.get_mut("models").map(Value::take) else {
        return Err(Error::BadResponse("the model list has no models".into()));
    };
    let data = models
        .into_iter()
        .filter_map(|m| {
            let Value::Object(fields) = m else {
                return None;
            };
            let id = fields
                .get("name")
                .or_else(|| fields.get("model"))
                .and_then(Value::as_str)?
                .to_string();
            let mut entry = Map::new();
            entry.insert("id".into(), id.into());
            entry.insert("object".into(), "model".into());
            entry.extend(
                fields
                    .into_iter()
                    .filter(|(k, _)| k != "id" && k != "object"),
            );
            Some(Value::Object(entry))
        })
        .collect::<Vec<_>>();
    Ok(json!({ "object": "list", "data": data }).to_string())
}

impl ChatProvider for Ollama {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "api/chat"),
            chat_body(&body, stream)?,
        ))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_completion(body)
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(OllamaStream::default())
    }

    fn classify(&self, error: &mut UpstreamError) {
        refine(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "api/embed"),
            embed_body(&body)?,
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        decode_embeddings(body)
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(base_url, "api/tags")))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        decode_models(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FrameDecoder;

    fn wire(request: Value, stream: bool) -> Value {
        let bytes = chat_body(request.to_string().as_bytes(), stream).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn refused(request: Value) -> String {
        let err = chat_body(request.to_string().as_bytes(), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        err.to_string()
    }

    fn user(content: Value) -> Value {
        json!({ "model": "llama3.1", "messages": [{ "role": "user", "content": content }] })
    }

    #[test]
    fn text_request_states_stream_false_and_maps_sampling_to_options() {
        let body = wire(
            json!({
                "model": "llama3.1",
                "messages": [
                    { "role": "system", "content": "You are terse." },
                    { "role": "developer", "content": [{ "type": "text", "text": "Be exact." }] },
                    { "role": "user", "content": "What is the weather in Paris?" }
                ],
                "temperature": 0.3,
                "max_tokens": 64
            }),
            false,
        );
        assert_eq!(
            body,
            json!({
                "model": "llama3.1",
                "messages": [
                    { "role": "system", "content": "You are terse." },
                    { "role": "system", "content": "Be exact." },
                    { "role": "user", "content": "What is the weather in Paris?" }
                ],
                "options": { "temperature": 0.3, "num_predict": 64 },
                "stream": false
            })
        );
    }

    #[test]
    fn every_sampling_field_lands_in_options() {
        let body = wire(
            json!({
                "model": "llama3.1",
                "messages": [{ "role": "user", "content": "hi" }],
                "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "max_tokens": 10,
                "stop": "END", "seed": 7, "frequency_penalty": 0.5, "presence_penalty": 0.25,
                "n": 1, "parallel_tool_calls": true,
                "stream": true, "stream_options": { "include_usage": true }
            }),
            true,
        );
        assert_eq!(
            body,
            json!({
                "model": "llama3.1",
                "messages": [{ "role": "user", "content": "hi" }],
                "options": {
                    "temperature": 0.2, "top_p": 0.9, "num_predict": 50, "stop": ["END"],
                    "seed": 7, "frequency_penalty": 0.5, "presence_penalty": 0.25
                },
                "stream": true
            })
        );
    }

    #[test]
    fn tools_calls_and_results_translate_to_ollama_shapes() {
        let body = wire(
            json!({
                "model": "llama3.1",
                "messages": [
                    { "role": "user", "content": "Weather and time in Paris?" },
                    { "role": "assistant", "content": null, "tool_calls": [
                        { "id": "call_w1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}" } },
                        { "id": "call_t1", "type": "function", "function": { "name": "get_time", "arguments": "" } }
                    ] },
                    { "role": "tool", "tool_call_id": "call_w1", "content": "{\"tempC\":21}" },
                    { "role": "tool", "tool_call_id": "call_t1", "name": "get_time", "content": [{ "type": "text", "text": "14:05" }] },
                    { "role": "tool", "tool_call_id": "call_unknown", "content": "?" }
                ],
                "tools": [
                    { "type": "function", "function": { "name": "get_weather", "description": "Weather for a city", "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } },
                    { "type": "function", "function": { "name": "get_time" } }
                ],
                "tool_choice": "auto"
            }),
            false,
        );
        assert_eq!(
            body,
            json!({
                "model": "llama3.1",
                "messages": [
                    { "role": "user", "content": "Weather and time in Paris?" },
                    { "role": "assistant", "content": "", "tool_calls": [
                        { "id": "call_w1", "function": { "index": 0, "name": "get_weather", "arguments": { "city": "Paris", "unit": "c" } } },
                        { "id": "call_t1", "function": { "index": 1, "name": "get_time", "arguments": {} } }
                    ] },
                    { "role": "tool", "content": "{\"tempC\":21}", "tool_name": "get_weather", "tool_call_id": "call_w1" },
                    { "role": "tool", "content": "14:05", "tool_name": "get_time", "tool_call_id": "call_t1" },
                    { "role": "tool", "content": "?", "tool_call_id": "call_unknown" }
                ],
                "tools": [
                    { "type": "function", "function": { "name": "get_weather", "description": "Weather for a city", "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } },
                    { "type": "function", "function": { "name": "get_time", "parameters": { "type": "object", "properties": {} } } }
                ],
                "stream": false
            })
        );
    }

    #[test]
    fn tool_choice_none_withholds_tools_and_forced_calls_are_refused() {
        let mut req = user(json!("hi"));
        req["tools"] = json!([{ "type": "function", "function": { "name": "f", "parameters": { "type": "object" } } }]);
        req["tool_choice"] = json!("none");
        assert!(wire(req.clone(), false).get("tools").is_none());
        req["tool_choice"] = json!("required");
        assert!(refused(req.clone()).contains("tool_choice"));
        req["tool_choice"] = json!({ "type": "function", "function": { "name": "f" } });
        assert!(refused(req).contains("tool_choice"));
    }

    #[test]
    fn structured_output_is_native() {
        let schema = json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"], "additionalProperties": false });
        let mut req = user(json!("hi"));
        req["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "Weather", "strict": true, "schema": schema } });
        assert_eq!(wire(req.clone(), false)["format"], schema);
        req["response_format"] = json!({ "type": "json_object" });
        assert_eq!(wire(req.clone(), false)["format"], "json");
        req["response_format"] = json!({ "type": "text" });
        assert!(wire(req, false).get("format").is_none());
    }

    #[test]
    fn images_go_inline_and_urls_are_refused() {
        let body = wire(
            user(json!([
                { "type": "text", "text": "What is this?" },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=" } },
                { "type": "image_url", "image_url": { "url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto" } }
            ])),
            false,
        );
        assert_eq!(
            body["messages"],
            json!([{ "role": "user", "content": "What is this?", "images": ["iVBORw0KGgo=", "/9j/4AAQ"] }])
        );
        let url = refused(user(
            json!([{ "type": "image_url", "image_url": { "url": "https://example.test/cat.png" } }]),
        ));
        assert!(url.contains("image"), "{url}");
        let detail = refused(user(
            json!([{ "type": "image_url", "image_url": { "url": "data:image/png;base64,AA", "detail": "high" } }]),
        ));
        assert!(detail.contains("detail"), "{detail}");
        let pdf = refused(user(
            json!([{ "type": "image_url", "image_url": { "url": "data:application/pdf;base64,AA" } }]),
        ));
        assert!(pdf.contains("application/pdf"), "{pdf}");
        let file = refused(user(
            json!([{ "type": "file", "file": { "file_id": "f1" } }]),
        ));
        assert!(file.contains("file"), "{file}");
    }

    #[test]
    fn fields_without_a_translation_are_refused_by_name() {
        let with = |field: &str, value: Value| {
            let mut req = user(json!("hi"));
            req[field] = value;
            refused(req)
        };
        assert_eq!(
            with("logit_bias", json!({ "42": 1 })),
            "ollama cannot take logit_bias: remove it or use a provider that supports it"
        );
        assert!(with("n", json!(2)).contains("cannot take n"));
        assert!(with("user", json!("u-1")).contains("cannot take user"));
        assert!(with("parallel_tool_calls", json!(false)).contains("parallel_tool_calls"));
        assert!(with("reasoning_effort", json!("minimal")).contains("reasoning_effort"));
        assert!(with("keep_alive", json!(true)).contains("keep_alive"));
        assert!(with("think", json!("max")).contains("think"));
        let mut named = user(json!("hi"));
        named["messages"][0]["name"] = json!("alice");
        assert!(refused(named).contains("messages[0].name"));
        let bad_args = json!({ "model": "m", "messages": [
            { "role": "assistant", "tool_calls": [{ "id": "c", "type": "function", "function": { "name": "f", "arguments": "[1]" } }] }
        ] });
        assert!(refused(bad_args).contains("JSON object"));
    }

    #[test]
    fn ollama_native_fields_pass_by_their_own_names() {
        let mut req = user(json!("hi"));
        req["temperature"] = json!(0.1);
        req["num_ctx"] = json!(8192);
        req["options"] = json!({ "top_k": 20, "repeat_penalty": 1.1 });
        req["keep_alive"] = json!("10m");
        req["reasoning_effort"] = json!("high");
        let body = wire(req.clone(), true);
        assert_eq!(
            body["options"],
            json!({ "temperature": 0.1, "num_ctx": 8192, "top_k": 20, "repeat_penalty": 1.1 })
        );
        assert_eq!(
            (&body["think"], &body["keep_alive"]),
            (&json!("high"), &json!("10m"))
        );

        req["reasoning_effort"] = json!("none");
        assert_eq!(wire(req.clone(), false)["think"], false);
        req["think"] = json!(true);
        assert!(refused(req.clone()).contains("think and reasoning_effort"));
        let mut twice = user(json!("hi"));
        twice["temperature"] = json!(0.1);
        twice["options"] = json!({ "temperature": 0.9 });
        assert!(refused(twice).contains("options.temperature"));
    }

    fn completion(body: &str) -> Value {
        serde_json::from_str(&decode_completion(body.as_bytes()).unwrap().json).unwrap()
    }

    #[test]
    fn decodes_a_whole_answer() {
        // The /api/chat example of Ollama's API reference.
        let c = completion(
            r#"{"model":"gemma3","created_at":"2025-10-17T23:14:07.414671Z","message":{"role":"assistant","content":"Hello! How can I help you today?"},"done":true,"done_reason":"stop","total_duration":174560334,"load_duration":101397084,"prompt_eval_count":11,"prompt_eval_duration":13074791,"eval_count":18,"eval_duration":52479709}"#,
        );
        assert!(c["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert_eq!(c["object"], "chat.completion");
        assert_eq!(c["model"], "gemma3");
        assert_eq!(
            c["choices"][0],
            json!({
                "index": 0,
                "message": { "role": "assistant", "content": "Hello! How can I help you today?" },
                "finish_reason": "stop",
                "provider_finish_reason": "stop"
            })
        );
        assert_eq!(
            c["usage"],
            json!({ "prompt_tokens": 11, "completion_tokens": 18, "total_tokens": 29 })
        );
    }

    #[test]
    fn decodes_tool_calls_with_and_without_ids() {
        // The tool-calling example of Ollama's API reference: no ids.
        let c = completion(
            r#"{"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},"done_reason":"stop","done":true,"total_duration":885095291,"load_duration":3753500,"prompt_eval_count":122,"prompt_eval_duration":328493000,"eval_count":33,"eval_duration":552222000}"#,
        );
        let choice = &c["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["provider_finish_reason"], "stop");
        assert_eq!(choice["message"]["content"], Value::Null);
        let call = &choice["message"]["tool_calls"][0];
        assert!(call["id"].as_str().unwrap().starts_with("call_"));
        assert_eq!(call["id"].as_str().unwrap().len(), 29);
        assert_eq!(call["type"], "function");
        assert_eq!(call["function"]["name"], "get_current_weather");
        assert_eq!(
            call["function"]["arguments"],
            r#"{"format":"celsius","location":"Paris, FR"}"#
        );

        // Newer servers: ids, indexes, thinking; text next to the calls.
        let c = completion(
            r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.166576Z","message":{"role":"assistant","content":"Checking.","thinking":"Two lookups.","tool_calls":[{"id":"call_w1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}},{"id":"call_t1","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":true,"done_reason":"stop","prompt_eval_count":40,"eval_count":25}"#,
        );
        let message = &c["choices"][0]["message"];
        assert_eq!(message["content"], "Checking.");
        assert_eq!(message["reasoning_content"], "Two lookups.");
        assert_eq!(
            message["tool_calls"],
            json!([
                { "id": "call_w1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                { "id": "call_t1", "type": "function", "function": { "name": "get_time", "arguments": "{}" } }
            ])
        );
    }

    #[test]
    fn decodes_length_old_servers_and_in_band_errors() {
        let c = completion(
            r#"{"model":"llama3.1","created_at":"2024-09-12T21:17:29.110811Z","message":{"role":"assistant","content":"Once upon"},"done":true,"done_reason":"length","prompt_eval_count":5,"eval_count":2}"#,
        );
        assert_eq!(c["choices"][0]["finish_reason"], "length");
        assert_eq!(c["choices"][0]["provider_finish_reason"], "length");
        // Before done_reason existed (the 2023 reference example).
        let c = completion(
            r#"{"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"Hello! How are you today?"},"done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,"eval_count":298,"eval_duration":4799921000}"#,
        );
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        assert_eq!(c["choices"][0]["provider_finish_reason"], Value::Null);
        assert_eq!(c["usage"]["total_tokens"], 324);

        let e =
            decode_completion(br#"{"error":"model \"llama3\" not found, try pulling it first"}"#)
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamError);
        assert!(e.to_string().contains("not found"));
        assert_eq!(
            decode_completion(b"<html>").unwrap_err().kind(),
            ErrorKind::BadResponse
        );
        assert_eq!(
            decode_completion(br#"{"model":"m","done":true}"#)
                .unwrap_err()
                .kind(),
            ErrorKind::BadResponse
        );
    }

    /// Frames `transcript` in pieces of `piece` bytes, decodes it, and returns the chunks with the
    /// per-stream `id` and `created` removed (and checked to be the same on every chunk).
    fn run_stream(transcript: &str, piece: usize) -> (Vec<Value>, Result<(), Error>, StreamSink) {
        let mut frames = FrameDecoder::new(Framing::Ndjson);
        let mut events = Vec::new();
        for chunk in transcript.as_bytes().chunks(piece) {
            frames.feed(chunk, &mut events).unwrap();
        }
        frames.finish(&mut events).unwrap();
        let mut decoder = OllamaStream::default();
        let mut sink = StreamSink::default();
        let mut outcome = Ok(());
        for event in &events {
            match decoder.decode(event, &mut sink) {
                Ok(EventOutcome::Continue) => {}
                Ok(EventOutcome::Done) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        let batch = sink.take_batch().unwrap_or_else(|| "[]".into());
        let mut chunks: Vec<Value> = serde_json::from_str(&batch).unwrap();
        let first_id = chunks.first().map(|c| c["id"].clone());
        for c in &mut chunks {
            let obj = c.as_object_mut().unwrap();
            assert_eq!(Some(obj.remove("id").unwrap()), first_id);
            assert!(obj.remove("created").unwrap().is_u64());
        }
        (chunks, outcome, sink)
    }

    const TRANSCRIPT: &str = concat!(
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.097767Z","message":{"role":"assistant","content":"","thinking":"Paris: two lookups."},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.109172Z","message":{"role":"assistant","content":"Let me"},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.121485Z","message":{"role":"assistant","content":" check… "},"done":false}"#,
        "\r\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.132802Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_w1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.143931Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"index":1,"name":"get_time","arguments":{"city":"Paris"}}}]},"done":false}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.166576Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":40,"eval_duration":4535599000}"#,
        "\n",
        r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.2Z","message":{"role":"assistant","content":"ignored after done"},"done":false}"#,
    );

    fn chunk(delta: Value) -> Value {
        json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [{ "index": 0, "delta": delta, "finish_reason": null }] })
    }

    #[test]
    fn a_stream_transcript_decodes_whatever_the_splits() {
        for piece in [1, 2, 3, 7, 64, 4096] {
            let (mut chunks, outcome, sink) = run_stream(TRANSCRIPT, piece);
            outcome.unwrap();
            // The id Ollama did not send is generated once, on the call's first chunk.
            let generated = chunks[6]["choices"][0]["delta"]["tool_calls"][0]["id"].take();
            assert!(generated.as_str().unwrap().starts_with("call_"));
            chunks[6]["choices"][0]["delta"]["tool_calls"][0]["id"] = json!("<generated>");
            let expected = vec![
                chunk(json!({ "role": "assistant", "content": "" })),
                chunk(json!({ "reasoning_content": "Paris: two lookups." })),
                chunk(json!({ "content": "Let me" })),
                chunk(json!({ "content": " check… " })),
                chunk(
                    json!({ "tool_calls": [{ "index": 0, "id": "call_w1", "type": "function", "function": { "name": "get_weather", "arguments": "" } }] }),
                ),
                chunk(
                    json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"city\":\"Paris\"}" } }] }),
                ),
                chunk(
                    json!({ "tool_calls": [{ "index": 1, "id": "<generated>", "type": "function", "function": { "name": "get_time", "arguments": "" } }] }),
                ),
                chunk(
                    json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"city\":\"Paris\"}" } }] }),
                ),
                json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "stop" }] }),
                json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [], "usage": { "prompt_tokens": 26, "completion_tokens": 40, "total_tokens": 66 } }),
            ];
            assert_eq!(chunks, expected, "piece {piece}");
            let p = &sink.progress;
            assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (10, 14, 4));
            assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
            assert_eq!(p.usage.unwrap().total_tokens, 66);
        }
    }

    #[test]
    fn a_text_stream_ends_with_stop_or_length() {
        let transcript = concat!(
            r#"{"model":"llama3.1","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
            "\n",
            r#"{"model":"llama3.1","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":" sky"},"done":true,"done_reason":"length","prompt_eval_count":26,"eval_count":2}"#,
            "\n",
        );
        let (chunks, outcome, _) = run_stream(transcript, 5);
        outcome.unwrap();
        assert_eq!(chunks.len(), 5);
        assert_eq!(chunks[2]["choices"][0]["delta"]["content"], " sky");
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "length");
        assert_eq!(chunks[3]["choices"][0]["provider_finish_reason"], "length");
    }

    #[test]
    fn stream_errors_are_typed_and_a_cut_stream_is_not_clean() {
        // Ollama's mid-stream error, as its reference shows it.
        let transcript = concat!(
            r#"{"model":"gemma3","created_at":"2025-10-26T17:21:21.196249Z","message":{"role":"assistant","content":" Yes"},"done":false}"#,
            "\n",
            r#"{"error":"an error was encountered while running the model"}"#,
            "\n",
        );
        let (chunks, outcome, sink) = run_stream(transcript, 9);
        let err = outcome.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamError);
        assert_eq!(
            err.to_string(),
            r#""an error was encountered while running the model""#
        );
        assert_eq!(err.upstream().unwrap().status, None);
        assert!(!err.retryable());
        assert_eq!(chunks.len(), 2);
        assert_eq!(sink.progress.content_chars, 4);

        let busy =
            r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#;
        let err = run_stream(busy, 100).1.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Overloaded);
        assert!(err.retryable());

        let cut = run_stream(&TRANSCRIPT[..TRANSCRIPT.find("\n").unwrap()], 50);
        assert!(!OllamaStream::default().ended_cleanly(&cut.2.progress));
        assert_eq!(
            run_stream("not json\n", 3).1.unwrap_err().kind(),
            ErrorKind::BadResponse
        );
    }

    fn classified(status: u16, body: UpstreamBody) -> UpstreamError {
        let mut e = UpstreamError {
            status: Some(status),
            headers: Vec::new(),
            body,
            kind: ErrorKind::from_status(status),
            retryable: crate::retry::status_is_retryable(status, &http::HeaderMap::new()),
            retry_after: None,
        };
        Ollama.classify(&mut e);
        e
    }

    #[test]
    fn error_bodies_classify_by_status_and_wording() {
        let cases = [
            (
                429,
                "too many concurrent requests",
                ErrorKind::RateLimited,
                true,
            ),
            (401, "unauthorized", ErrorKind::Auth, false),
            (403, "forbidden", ErrorKind::Auth, false),
            (
                404,
                "model \"llama3\" not found, try pulling it first",
                ErrorKind::NotFound,
                false,
            ),
            (
                400,
                "the input length exceeds the context length",
                ErrorKind::ContextLengthExceeded,
                false,
            ),
            (400, "invalid input type", ErrorKind::InvalidRequest, false),
            (
                400,
                "blocked by the content filter",
                ErrorKind::ContentFilter,
                false,
            ),
            (
                503,
                "server busy, please try again.  maximum pending requests exceeded",
                ErrorKind::Overloaded,
                true,
            ),
            (503, "", ErrorKind::Overloaded, true),
            (
                500,
                "llama runner process has terminated: exit status 2",
                ErrorKind::UpstreamError,
                true,
            ),
            (
                502,
                "unable to reach the cloud model",
                ErrorKind::UpstreamError,
                true,
            ),
        ];
        for (status, message, kind, retryable) in cases {
            let e = classified(status, UpstreamBody::Json(json!({ "error": message })));
            assert_eq!(
                (e.kind, e.retryable),
                (kind, retryable),
                "{status} {message}"
            );
        }
        let html = classified(502, UpstreamBody::Text("<html>Bad Gateway</html>".into()));
        assert_eq!(
            (html.kind, html.retryable),
            (ErrorKind::UpstreamError, true)
        );
        // An OpenAI-shaped body from a proxy in front of Ollama.
        let proxied = classified(
            400,
            UpstreamBody::Json(
                json!({ "error": { "message": "too long", "code": "context_length_exceeded" } }),
            ),
        );
        assert_eq!(proxied.kind, ErrorKind::ContextLengthExceeded);
        assert_eq!(
            Error::Upstream(Box::new(classified(
                404,
                UpstreamBody::Json(json!({ "error": "model \"x\" not found" }))
            )))
            .to_string(),
            r#"404 "model \"x\" not found""#
        );
    }

    #[test]
    fn requests_go_to_the_native_paths() {
        let chat = Ollama
            .chat_request(
                "http://localhost:11434/",
                Bytes::from(user(json!("hi")).to_string()),
                true,
            )
            .unwrap();
        assert_eq!(
            (chat.method.as_str(), chat.url.as_str()),
            ("POST", "http://localhost:11434/api/chat")
        );
        let models = Ollama.models_request("http://localhost:11434").unwrap();
        assert_eq!(
            (models.method.as_str(), models.url.as_str()),
            ("GET", "http://localhost:11434/api/tags")
        );
        assert!(models.body.is_none());
        assert_eq!(Ollama.framing(), Framing::Ndjson);
    }

    #[test]
    fn embeddings_translate_both_ways() {
        let wire = Ollama
            .embed_request(
                "http://h:11434",
                Bytes::from(json!({ "model": "embeddinggemma", "input": ["Why is the sky blue?", "Why is the grass green?"], "dimensions": 128, "encoding_format": "float", "truncate": false, "keep_alive": 0 }).to_string()),
            )
            .unwrap();
        assert_eq!(wire.url, "http://h:11434/api/embed");
        let body: Value = serde_json::from_slice(wire.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({ "model": "embeddinggemma", "input": ["Why is the sky blue?", "Why is the grass green?"], "dimensions": 128, "truncate": false, "keep_alive": 0 })
        );
        for bad in [
            json!({ "model": "m", "input": [[1, 2, 3]] }),
            json!({ "model": "m", "input": "x", "encoding_format": "base64" }),
            json!({ "model": "m", "input": "x", "user": "u" }),
            json!({ "model": "m", "input": "x", "logit_bias": {} }),
        ] {
            let e = Ollama
                .embed_request("http://h", Bytes::from(bad.to_string()))
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }

        // The /api/embed example of Ollama's API reference, vectors kept as written.
        let out = decode_embeddings(br#"{"model":"embeddinggemma","embeddings":[[0.010071029,-0.0017594862,0.05007221],[0.04692972,0.054916814,0.008599704]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#).unwrap();
        assert_eq!(
            out,
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.010071029,-0.0017594862,0.05007221]},{"object":"embedding","index":1,"embedding":[0.04692972,0.054916814,0.008599704]}],"model":"embeddinggemma","usage":{"prompt_tokens":8,"total_tokens":8}}"#
        );
        let e = decode_embeddings(br#"{"error":"this model does not support embeddings"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("does not support embeddings"));
    }

    #[test]
    fn the_model_list_keeps_what_ollama_says() {
        // The /api/tags example of Ollama's API reference.
        let out: Value = serde_json::from_str(
            &decode_models(br#"{"models":[{"name":"gemma3","modified_at":"2025-10-03T23:34:03.409490317-07:00","size":3338801804,"digest":"a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a","details":{"format":"gguf","family":"gemma","families":["gemma"],"parameter_size":"4.3B","quantization_level":"Q4_K_M"}}]}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({ "object": "list", "data": [{
                "id": "gemma3", "object": "model", "name": "gemma3",
                "modified_at": "2025-10-03T23:34:03.409490317-07:00", "size": 3338801804u64,
                "digest": "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a",
                "details": { "format": "gguf", "family": "gemma", "families": ["gemma"], "parameter_size": "4.3B", "quantization_level": "Q4_K_M" }
            }] })
        );
        assert_eq!(
            decode_models(br#"{"models":[]}"#).unwrap(),
            r#"{"object":"list","data":[]}"#
        );
        assert_eq!(
            decode_models(b"{}").unwrap_err().kind(),
            ErrorKind::BadResponse
        );
    }
}
