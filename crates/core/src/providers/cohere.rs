//! Cohere v2: chat (`POST /v2/chat`), embeddings (`POST /v2/embed`) and the model list
//! (`GET /v1/models`), translated from and to the canonical OpenAI format.
//!
//! Decisions worth knowing:
//! - `response_format: json_schema` is native (`{"type":"json_object","json_schema":…}`); Cohere
//!   always enforces the schema, so `strict` needs no translation.
//! - A named `tool_choice` becomes `REQUIRED` with only that tool offered (Cohere cannot name one).
//! - `reasoning_effort` becomes `thinking` (`none` disables it; the levels take LiteLLM's token
//!   budgets). `tool_plan` and thinking text come back as `reasoning_content`, and an assistant
//!   message's text next to its tool calls goes out as its `tool_plan`.
//! - Usage counts are `billed_units` (what Cohere charges, as LiteLLM reports them), falling back
//!   to `tokens`.
//! - `finish_reason` `ERROR` / `TIMEOUT` mean the generation failed: they surface as upstream
//!   errors (kind `upstream_error` / `timeout`), never as a quiet `stop`.
//! - Streamed calls ask for `text/event-stream`: Cohere's v1 streamed bare JSON lines to anyone
//!   who did not, and its v2 SSE is what the official SDKs read.
//! - Error bodies are Cohere's `{"id", "message"}`, kept as they came (also when one arrives with
//!   a 200, in place of an answer or inside a stream).

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::openai::bad_json;
use super::{join_url, ChatProvider, Completion, EventOutcome, Framing, StreamDecode, WireRequest};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, FunctionCall, Message, Part,
    ResponseFormat, Role, Tool, ToolCall, ToolChoice,
};
use crate::error::{classify_common, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::{PromptDetails, Usage};

const ID: &str = "cohere";

#[derive(Debug, Clone)]
pub struct Cohere;

impl Cohere {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

// ---- wire types: requests ---------------------------------------------------------------------

#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<WireTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<WireResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
    stream: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage<'a> {
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
enum WireContent<'a> {
    Text(&'a str),
    Parts(Vec<WirePart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: WireImageUrl<'a> },
}

#[derive(Serialize)]
struct WireImageUrl<'a> {
    /// An `http(s)` URL or a `data:<mime>;base64,…` URL: Cohere takes both as they are.
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireResponseFormat {
    Text,
    JsonObject {
        #[serde(skip_serializing_if = "Option::is_none")]
        json_schema: Option<Value>,
    },
}

#[derive(Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_budget: Option<u32>,
}

// ---- wire types: answers ----------------------------------------------------------------------

/// `POST /v2/chat` response (non-streamed).
#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    id: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    message: Option<ResponseMessage>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The assistant message, or (in an error body sent with a 200) the error text.
#[derive(Deserialize)]
#[serde(untagged)]
enum ResponseMessage {
    Assistant(AssistantMessage),
    // The whole body is kept on the error; the text only tells the two apart.
    Error(#[allow(dead_code)] String),
}

#[derive(Deserialize)]
struct AssistantMessage {
    #[serde(default)]
    content: Option<Vec<ContentItem>>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
    #[serde(default)]
    tool_plan: Option<String>,
}

/// `{"type":"text","text":…}` or `{"type":"thinking","thinking":…}`.
#[derive(Deserialize)]
struct ContentItem {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunctionCall>,
}

#[derive(Deserialize, Default)]
struct WireFunctionCall {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
struct WireUsage {
    #[serde(default)]
    billed_units: Option<Units>,
    #[serde(default)]
    tokens: Option<Units>,
    /// Prompt tokens served from Cohere's cache, when reported.
    #[serde(default)]
    cached_tokens: Option<f64>,
}

/// Cohere reports counts as JSON numbers that may carry a fraction (`12.0`).
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
struct Units {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

/// One streamed event, named by its `type`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum StreamEvent {
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
struct MessageDelta<T> {
    message: Option<T>,
}

#[derive(Deserialize)]
struct ContentDelta {
    #[serde(default)]
    content: Option<ContentItem>,
}

#[derive(Deserialize)]
struct ToolPlanDelta {
    #[serde(default)]
    tool_plan: Option<String>,
}

#[derive(Deserialize)]
struct ToolCallsDelta {
    #[serde(default)]
    tool_calls: Option<WireToolCall>,
}

#[derive(Deserialize)]
struct MessageEndDelta {
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<String>,
}

/// The body of a Cohere failure: `{"message": …}` (sometimes with an `id`).
#[derive(Deserialize)]
struct ErrorBody {
    #[allow(dead_code)] // Only its presence matters: it tells an error body from an answer.
    message: String,
}

// ---- mapping: requests ------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

/// Text parts only (system, assistant and tool messages take no images).
fn text_only<'a>(content: &'a Content, role: &str) -> Result<WireContent<'a>, Error> {
    match content {
        Content::Text(text) => Ok(WireContent::Text(text)),
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => Ok(WirePart::Text { text }),
                Part::ImageUrl { .. } => Err(invalid(format!(
                    "{ID} takes images only in user messages, not in {role} messages"
                ))),
                Part::File { .. } => Err(invalid(format!(
                    "{ID} cannot take file content parts: send the document's text instead"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(WireContent::Parts),
    }
}

fn user_content(content: &Content) -> Result<WireContent<'_>, Error> {
    match content {
        Content::Text(text) => Ok(WireContent::Text(text)),
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => Ok(WirePart::Text { text }),
                Part::ImageUrl { image_url } => Ok(WirePart::ImageUrl {
                    image_url: WireImageUrl {
                        url: &image_url.url,
                        detail: image_url.detail.as_deref(),
                    },
                }),
                Part::File { .. } => Err(invalid(format!(
                    "{ID} cannot take file content parts: send the document's text instead"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(WireContent::Parts),
    }
}

fn wire_message(message: &Message) -> Result<WireMessage<'_>, Error> {
    let empty = || WireContent::Text("");
    Ok(match message.role {
        Role::System | Role::Developer => WireMessage::System {
            content: match &message.content {
                Some(c) => text_only(c, "system")?,
                None => empty(),
            },
        },
        Role::User => WireMessage::User {
            content: match &message.content {
                Some(c) => user_content(c)?,
                None => empty(),
            },
        },
        Role::Assistant => {
            let calls = message.tool_calls.as_deref().filter(|c| !c.is_empty());
            if let Some(call) = calls.and_then(|c| c.iter().find(|c| c.kind != "function")) {
                return Err(invalid(format!(
                    "{ID} takes only function tool calls, got type {:?}",
                    call.kind
                )));
            }
            match (calls, &message.content) {
                // Cohere keeps the text an assistant wrote next to its tool calls as the plan.
                (Some(calls), content) => WireMessage::Assistant {
                    content: None,
                    tool_plan: content
                        .as_ref()
                        .map(Content::text)
                        .filter(|t| !t.is_empty()),
                    tool_calls: Some(calls),
                },
                (None, content) => WireMessage::Assistant {
                    content: match content {
                        Some(c) => Some(text_only(c, "assistant")?),
                        None => None,
                    },
                    tool_plan: None,
                    tool_calls: None,
                },
            }
        }
        Role::Tool => WireMessage::Tool {
            tool_call_id: message.tool_call_id.as_deref().ok_or_else(|| {
                invalid("a tool message needs the tool_call_id of the call it answers")
            })?,
            content: match &message.content {
                Some(c) => text_only(c, "tool")?,
                None => empty(),
            },
        },
    })
}

/// LiteLLM's thinking budgets for `reasoning_effort`.
fn thinking(effort: &str) -> Result<Thinking, Error> {
    let budget = match effort {
        "none" => {
            return Ok(Thinking {
                kind: "disabled",
                token_budget: None,
            })
        }
        "minimal" => 128,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            let levels = "none, minimal, low, medium or high";
            return Err(invalid(format!(
                "{ID} cannot take reasoning_effort {other:?}: use {levels}"
            )));
        }
    };
    Ok(Thinking {
        kind: "enabled",
        token_budget: Some(budget),
    })
}

fn response_format(format: &ResponseFormat) -> Result<WireResponseFormat, Error> {
    Ok(match format {
        ResponseFormat::Text => WireResponseFormat::Text,
        ResponseFormat::JsonObject => WireResponseFormat::JsonObject { json_schema: None },
        ResponseFormat::JsonSchema { json_schema } => {
            let mut schema = json_schema.schema.clone();
            if let Some(description) = &json_schema.description {
                // Cohere has no separate description: it goes into the schema, where it means
                // the same, unless the schema already has its own.
                match schema.as_mut().and_then(Value::as_object_mut) {
                    Some(object) => {
                        object
                            .entry("description")
                            .or_insert_with(|| description.clone().into());
                    }
                    None => {
                        let field = "response_format.json_schema.description";
                        return Err(invalid(format!(
                            "{ID} cannot take {field} without a schema"
                        )));
                    }
                }
            }
            WireResponseFormat::JsonObject {
                json_schema: schema,
            }
        }
    })
}

fn chat_body(req: &ChatRequest, stream: bool) -> Result<Vec<u8>, Error> {
    req.reject_extra(
        ID,
        &[
            ("n", req.n.is_some_and(|n| n != 1)),
            ("user", req.user.is_some()),
            // Cohere may always answer with several calls at once; it cannot be told not to.
            (
                "parallel_tool_calls",
                req.parallel_tool_calls == Some(false),
            ),
            (
                "messages[].name",
                req.messages.iter().any(|m| m.name.is_some()),
            ),
        ],
    )?;

    let messages = req
        .messages
        .iter()
        .map(wire_message)
        .collect::<Result<Vec<_>, _>>()?;

    let mut tools: Option<Vec<&Tool>> = req
        .tools
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| t.iter().collect());
    let tool_choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => None,
            // With no tools, "none" is what Cohere does anyway.
            "none" => tools.as_ref().map(|_| "NONE"),
            "required" => Some("REQUIRED"),
            other => {
                return Err(invalid(format!(
                    "{ID} cannot take tool_choice {other:?}: use auto, none, required or a function"
                )))
            }
        },
        Some(ToolChoice::Function { function }) => {
            // Cohere cannot name the tool to call: offer only that one and require a call.
            let only: Vec<_> = tools
                .iter()
                .flatten()
                .copied()
                .filter(|t| t.function.name == function.name)
                .collect();
            if only.is_empty() {
                return Err(invalid(format!(
                    "tool_choice names the function {:?}, which is not among the tools",
                    function.name
                )));
            }
            tools = Some(only);
            Some("REQUIRED")
        }
    };
    let tools = tools.map(|tools| {
        tools
            .into_iter()
            .map(|t| WireTool {
                kind: "function",
                function: WireFunction {
                    name: &t.function.name,
                    description: t.function.description.as_deref(),
                    // OpenAI allows a function without parameters; Cohere wants a schema.
                    parameters: t
                        .function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                },
            })
            .collect()
    });

    let body = ChatBody {
        model: &req.model,
        messages,
        tools,
        tool_choice,
        response_format: req
            .response_format
            .as_ref()
            .map(response_format)
            .transpose()?,
        temperature: req.temperature,
        p: req.top_p,
        max_tokens: req.max_output_tokens(),
        stop_sequences: req.stop.as_ref().map(|s| s.to_vec()),
        seed: req.seed,
        frequency_penalty: req.frequency_penalty,
        presence_penalty: req.presence_penalty,
        thinking: req.reasoning_effort.as_deref().map(thinking).transpose()?,
        stream,
    };
    serde_json::to_vec(&body)
        .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))
}

// ---- mapping: answers -------------------------------------------------------------------------

fn count(n: Option<f64>) -> Option<u64> {
    n.filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.round() as u64)
}

impl WireUsage {
    /// Billed units first (what Cohere charges for), then raw token counts.
    fn canonical(&self) -> Usage {
        let billed = self.billed_units.unwrap_or_default();
        let tokens = self.tokens.unwrap_or_default();
        let prompt = count(billed.input_tokens)
            .or(count(tokens.input_tokens))
            .unwrap_or(0);
        let completion = count(billed.output_tokens)
            .or(count(tokens.output_tokens))
            .unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            prompt_tokens_details: count(self.cached_tokens)
                .map(|cached_tokens| PromptDetails { cached_tokens }),
            completion_tokens_details: None,
        }
    }
}

/// Cohere's finish reason, normalised; `ERROR` and `TIMEOUT` are failures, not endings.
fn finish_reason(raw: &str, detail: Option<&str>) -> Result<FinishReason, Error> {
    Ok(match raw {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        "ERROR" | "TIMEOUT" => {
            let kind = if raw == "TIMEOUT" {
                ErrorKind::Timeout
            } else {
                ErrorKind::UpstreamError
            };
            let message = detail.filter(|d| !d.is_empty()).map_or_else(
                || format!("Cohere stopped the generation: finish_reason {raw}"),
                str::to_string,
            );
            return Err(generation_error(kind, &message, raw));
        }
        // A reason newer than this adapter: the answer is whole, say so and keep the raw value.
        _ => FinishReason::Stop,
    })
}

/// A failure Cohere reported with a 200 (a failed generation, an error event in a stream).
fn generation_error(kind: ErrorKind, message: &str, code: &str) -> Error {
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({
            "error": { "message": message, "type": "cohere_error", "code": code }
        })),
        kind,
        // The same as a 5xx or a timeout mid-answer: the next attempt may well succeed.
        retryable: matches!(
            kind,
            ErrorKind::UpstreamError
                | ErrorKind::Timeout
                | ErrorKind::Overloaded
                | ErrorKind::RateLimited
        ),
        retry_after: None,
    }))
}

/// Cohere's own failure text in an error body.
fn error_message(body: &UpstreamBody) -> String {
    match body {
        UpstreamBody::Json(v) => v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase(),
        UpstreamBody::Text(t) => t.to_ascii_lowercase(),
        UpstreamBody::Empty => String::new(),
    }
}

/// An error body that arrived with a 200 (in place of an answer, or as a stream event), kept as
/// Cohere sent it.
fn in_band_error(body: UpstreamBody) -> Error {
    let kind = refine(None, &error_message(&body)).unwrap_or(ErrorKind::UpstreamError);
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body,
        kind,
        retryable: matches!(
            kind,
            ErrorKind::UpstreamError | ErrorKind::Overloaded | ErrorKind::RateLimited
        ),
        retry_after: None,
    }))
}

/// `body` as JSON when it is, else as text.
fn body_of(bytes: &[u8]) -> UpstreamBody {
    serde_json::from_slice(bytes).map_or_else(
        |_| UpstreamBody::Text(String::from_utf8_lossy(bytes).into_owned()),
        UpstreamBody::Json,
    )
}

/// A Cohere error body (`{"message": …}`) sent with a 200 where `what` was expected.
fn error_instead(bytes: &[u8]) -> Option<Error> {
    serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|_| in_band_error(body_of(bytes)))
}

fn decode_completion(body: &[u8]) -> Result<Completion, Error> {
    let resp: ChatResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    let message = match resp.message {
        Some(ResponseMessage::Assistant(m)) => m,
        Some(ResponseMessage::Error(_)) => return Err(in_band_error(body_of(body))),
        None => return Err(Error::BadResponse("the response has no message".into())),
    };
    let raw_reason = resp.finish_reason.unwrap_or_default();
    let reason = finish_reason(&raw_reason, None)?;

    let mut text: Option<String> = None;
    let mut reasoning = String::new();
    for item in message.content.unwrap_or_default() {
        match item.kind.as_str() {
            "thinking" => reasoning.push_str(item.thinking.as_deref().unwrap_or("")),
            _ => {
                if let Some(t) = item.text {
                    text.get_or_insert_with(String::new).push_str(&t);
                }
            }
        }
    }
    if let Some(plan) = message.tool_plan.filter(|p| !p.is_empty()) {
        if !reasoning.is_empty() {
            reasoning.push_str("\n\n");
        }
        reasoning.push_str(&plan);
    }
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| {
            let function = call.function.unwrap_or_default();
            ToolCall {
                id: call.id.unwrap_or_default(),
                kind: "function".into(),
                function: FunctionCall {
                    name: function.name.unwrap_or_default(),
                    arguments: function.arguments.unwrap_or_else(|| "{}".into()),
                },
            }
        })
        .collect();
    let usage = resp.usage.map(|u| u.canonical());
    let writer = CompletionWriter {
        id: resp.id,
        // Cohere does not echo the model in its answers.
        model: String::new(),
        content: text,
        reasoning: (!reasoning.is_empty()).then_some(reasoning),
        tool_calls,
        finish_reason: Some(reason),
        provider_finish_reason: Some(raw_reason),
        usage,
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}

// ---- errors -----------------------------------------------------------------------------------

/// What a Cohere failure is, from its status and (lower-cased) message.
fn refine(status: Option<u16>, message: &str) -> Option<ErrorKind> {
    let says = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    let client_side = !matches!(status, Some(429) | Some(500..=599));
    if status == Some(498) || (client_side && says(&["blocked input", "blocked output"])) {
        // 498: "a request or response contains a deny-listed token" (Cohere's safety filter).
        Some(ErrorKind::ContentFilter)
    } else if client_side && says(&["too many tokens", "context length"]) {
        Some(ErrorKind::ContextLengthExceeded)
    } else if status == Some(503) || says(&["overloaded"]) {
        // 503: "too many users trying to access the service at the same time".
        Some(ErrorKind::Overloaded)
    } else if status == Some(429) {
        Some(ErrorKind::RateLimited)
    } else if status == Some(401)
        || says(&[
            "invalid api token",
            "no api key supplied",
            "api key has expired",
        ])
    {
        Some(ErrorKind::Auth)
    } else if status == Some(499) {
        // "request cancelled": Cohere gave up on the call, nothing was wrong with it.
        Some(ErrorKind::UpstreamError)
    } else {
        None
    }
}

fn classify(error: &mut UpstreamError) {
    // Proxies in front of Cohere may answer in OpenAI's error shape.
    classify_common(error);
    let Some(kind) = refine(error.status, &error_message(&error.body)) else {
        return;
    };
    error.kind = kind;
    error.retryable = match kind {
        ErrorKind::RateLimited | ErrorKind::Overloaded => true,
        ErrorKind::UpstreamError => error.status.is_some_and(|s| s >= 500) && error.retryable,
        _ => false,
    };
}

// ---- streaming --------------------------------------------------------------------------------

/// One stream's state: Cohere's typed events in, canonical chunks out.
#[derive(Default)]
struct CohereStream {
    writer: Option<ChunkWriter>,
    /// Cohere's tool-call `index` → the canonical index (0, 1, … in order of appearance).
    tool_indexes: HashMap<u64, u32>,
    tools_started: u32,
    last_tool: Option<u32>,
}

impl CohereStream {
    /// The writer, opening the stream with the role chunk the first time.
    fn writer(&mut self, sink: &mut StreamSink, id: Option<String>) -> &ChunkWriter {
        self.writer.get_or_insert_with(|| {
            let writer = ChunkWriter::new(id.unwrap_or_default(), "");
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

// ---- embeddings and models ---------------------------------------------------------------------

/// OpenAI's embeddings request, as far as Cohere can take it.
#[derive(Deserialize)]
struct EmbedRequest {
    model: String,
    input: EmbedInput,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(default)]
    user: Option<String>,
    /// Cohere's own: what the texts are for (`search_document`, `search_query`, `classification`,
    /// `clustering`). Defaults to `search_document`.
    #[serde(default)]
    input_type: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EmbedInput {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize)]
struct EmbedBody<'a> {
    model: &'a str,
    texts: Vec<&'a str>,
    input_type: &'a str,
    embedding_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimension: Option<u32>,
}

#[derive(Deserialize)]
struct EmbedResponse<'a> {
    #[serde(borrow)]
    embeddings: EmbeddingsByType<'a>,
    #[serde(default)]
    meta: Option<EmbedMeta>,
}

#[derive(Deserialize)]
struct EmbeddingsByType<'a> {
    #[serde(borrow, default)]
    float: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct EmbedMeta {
    #[serde(default)]
    billed_units: Option<Units>,
}

#[derive(Serialize)]
struct EmbeddingsOut<'a> {
    object: &'static str,
    data: Vec<EmbeddingOut<'a>>,
    usage: EmbedUsage,
}

#[derive(Serialize)]
struct EmbeddingOut<'a> {
    object: &'static str,
    index: usize,
    embedding: &'a RawValue,
}

#[derive(Serialize)]
struct EmbedUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

fn embed_body(body: &[u8]) -> Result<Vec<u8>, Error> {
    let req: EmbedRequest = serde_json::from_slice(body).map_err(|e| {
        let input = "input must be a string or an array of strings";
        invalid(format!(
            "invalid embeddings request for {ID} ({input}): {e}"
        ))
    })?;
    let mut unsupported: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    if req.user.is_some() {
        unsupported.push("user");
    }
    if !unsupported.is_empty() {
        return Err(invalid(format!(
            "{ID} embeddings cannot take {}: remove {}",
            unsupported.join(", "),
            if unsupported.len() == 1 { "it" } else { "them" }
        )));
    }
    match req.encoding_format.as_deref() {
        None | Some("float") => {}
        Some(other) => {
            return Err(invalid(format!(
                "{ID} embeddings cannot take encoding_format {other:?}: use float"
            )))
        }
    }
    let texts = match &req.input {
        EmbedInput::One(text) => vec![text.as_str()],
        EmbedInput::Many(texts) => texts.iter().map(String::as_str).collect(),
    };
    let wire = EmbedBody {
        model: &req.model,
        texts,
        input_type: req.input_type.as_deref().unwrap_or("search_document"),
        embedding_types: ["float"],
        output_dimension: req.dimensions,
    };
    serde_json::to_vec(&wire)
        .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))
}

fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    if let Some(error) = error_instead(body) {
        return Err(error);
    }
    let resp: EmbedResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    let vectors = resp.embeddings.float.ok_or_else(|| {
        Error::BadResponse("the embeddings response has no float embeddings".into())
    })?;
    let prompt_tokens = resp
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|u| count(u.input_tokens))
        .unwrap_or(0);
    let out = EmbeddingsOut {
        object: "list",
        data: vectors
            .into_iter()
            .enumerate()
            .map(|(index, embedding)| EmbeddingOut {
                object: "embedding",
                index,
                embedding,
            })
            .collect(),
        usage: EmbedUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    serde_json::to_string(&out)
        .map_err(|e| Error::Internal(format!("cannot encode embeddings: {e}")))
}

#[derive(Deserialize)]
struct ModelList {
    models: Vec<Map<String, Value>>,
}

fn decode_models(body: &[u8]) -> Result<String, Error> {
    if let Some(error) = error_instead(body) {
        return Err(error);
    }
    let list: ModelList =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    let data: Vec<Value> = list
        .models
        .into_iter()
        .filter_map(|mut model| {
            let id = model.get("name")?.as_str()?.to_string();
            let mut entry = Map::new();
            entry.insert("id".into(), id.into());
            entry.insert("object".into(), "model".into());
            entry.insert("owned_by".into(), ID.into());
            // Everything else Cohere said (endpoints, context_length, features, …) stays.
            entry.append(&mut model);
            Some(Value::Object(entry))
        })
        .collect();
    Ok(json!({ "object": "list", "data": data }).to_string())
}

impl ChatProvider for Cohere {
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
        let mut wire =
            WireRequest::post_json(join_url(base_url, "v2/chat"), chat_body(&req, stream)?);
        if stream {
            wire.headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static("text/event-stream"),
            );
        }
        Ok(wire)
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_completion(body)
    }

    /// Server-sent events, one typed JSON event per `data:` (with an `event:` line naming it).
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(CohereStream::default())
    }

    fn classify(&self, error: &mut UpstreamError) {
        classify(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "v2/embed"),
            embed_body(&body)?,
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        decode_embeddings(body)
    }

    /// Every model on one page (Cohere's default page holds 20; 1000 is its maximum).
    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(
            base_url,
            "v1/models?page_size=1000",
        )))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        decode_models(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::FrameDecoder;
    use crate::stream::StreamProgress;

    fn wire(body: Value, stream: bool) -> Result<Value, Error> {
        let req = Cohere.chat_request(
            "https://api.cohere.com/",
            Bytes::from(body.to_string()),
            stream,
        )?;
        assert_eq!(req.method, http::Method::POST);
        assert_eq!(req.url, "https://api.cohere.com/v2/chat");
        let accept = req.headers.get(http::header::ACCEPT);
        assert_eq!(
            accept.map(|v| v.to_str().unwrap()),
            stream.then_some("text/event-stream")
        );
        Ok(serde_json::from_slice(req.body.as_deref().unwrap()).unwrap())
    }

    fn rejected(body: Value) -> String {
        let err = wire(body, false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        err.to_string()
    }

    #[test]
    fn a_plain_request_translates_field_for_field() {
        let body = json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"}
            ],
            "temperature": 0.3,
            "max_tokens": 64
        });
        assert_eq!(
            wire(body, false).unwrap(),
            json!({
                "model": "command-a-03-2025",
                "messages": [
                    {"role": "system", "content": "You are terse."},
                    {"role": "user", "content": "Hi"}
                ],
                "temperature": 0.3,
                "max_tokens": 64,
                "stream": false
            })
        );
    }

    #[test]
    fn every_field_cohere_takes_is_translated() {
        let body = json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}
                ]},
                {"role": "assistant", "content": "I will look it up.", "tool_calls": [
                    {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "get_weather_1", "content": "{\"tempC\":21}"},
                {"role": "tool", "tool_call_id": "get_time_2", "content": [{"type": "text", "text": "14:05"}]},
                {"role": "assistant", "content": "Sunny."},
                {"role": "user", "content": "Thanks"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                {"type": "function", "function": {"name": "get_time"}}
            ],
            "tool_choice": "required",
            "parallel_tool_calls": true,
            "response_format": {"type": "json_schema", "json_schema": {"name": "Out", "strict": true, "description": "The answer", "schema": {"type": "object"}}},
            "temperature": 0.2,
            "top_p": 0.9,
            "max_completion_tokens": 50,
            "max_tokens": 10,
            "stop": "END",
            "seed": 7,
            "frequency_penalty": 0.1,
            "presence_penalty": 0.2,
            "reasoning_effort": "low",
            "n": 1,
            "stream": true,
            "stream_options": {"include_usage": true}
        });
        assert_eq!(
            wire(body, true).unwrap(),
            json!({
                "model": "command-a-03-2025",
                "messages": [
                    {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                    {"role": "user", "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png", "detail": "low"}},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}
                    ]},
                    {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
                        {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                        {"id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "get_weather_1", "content": "{\"tempC\":21}"},
                    {"role": "tool", "tool_call_id": "get_time_2", "content": [{"type": "text", "text": "14:05"}]},
                    {"role": "assistant", "content": "Sunny."},
                    {"role": "user", "content": "Thanks"}
                ],
                "tools": [
                    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
                ],
                "tool_choice": "REQUIRED",
                "response_format": {"type": "json_object", "json_schema": {"type": "object", "description": "The answer"}},
                "temperature": 0.2,
                "p": 0.9,
                "max_tokens": 50,
                "stop_sequences": ["END"],
                "seed": 7,
                "frequency_penalty": 0.1,
                "presence_penalty": 0.2,
                "thinking": {"type": "enabled", "token_budget": 1024},
                "stream": true
            })
        );
    }

    #[test]
    fn tool_choice_modes_and_named_functions() {
        let base = |choice: Value| {
            json!({
                "model": "command-r7b-12-2024",
                "messages": [{"role": "user", "content": "hi"}],
                "tools": [
                    {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
                    {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}
                ],
                "tool_choice": choice
            })
        };
        let out = wire(base(json!("auto")), false).unwrap();
        assert!(out.get("tool_choice").is_none());
        assert_eq!(out["tools"].as_array().unwrap().len(), 2);
        assert_eq!(
            wire(base(json!("none")), false).unwrap()["tool_choice"],
            "NONE"
        );
        let named = wire(
            base(json!({"type": "function", "function": {"name": "b"}})),
            false,
        )
        .unwrap();
        assert_eq!(named["tool_choice"], "REQUIRED");
        assert_eq!(
            named["tools"],
            json!([{"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}])
        );
        let err = wire(
            base(json!({"type": "function", "function": {"name": "zzz"}})),
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("zzz"), "{err}");
        assert!(rejected(base(json!("sometimes"))).contains("tool_choice"));
        // Without tools, "none" is the default and says nothing.
        let plain = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none"});
        assert!(wire(plain, false).unwrap().get("tool_choice").is_none());
    }

    #[test]
    fn reasoning_effort_and_response_formats() {
        let req = |extra: Value| {
            let mut body = json!({"model": "command-a-reasoning-08-2025", "messages": [{"role": "user", "content": "hi"}]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        assert_eq!(
            wire(req(json!({"reasoning_effort": "none"})), false).unwrap()["thinking"],
            json!({"type": "disabled"})
        );
        assert_eq!(
            wire(req(json!({"reasoning_effort": "high"})), false).unwrap()["thinking"],
            json!({"type": "enabled", "token_budget": 4096})
        );
        assert!(rejected(req(json!({"reasoning_effort": "extreme"}))).contains("reasoning_effort"));
        assert_eq!(
            wire(
                req(json!({"response_format": {"type": "json_object"}})),
                false
            )
            .unwrap()["response_format"],
            json!({"type": "json_object"})
        );
        assert_eq!(
            wire(req(json!({"response_format": {"type": "text"}})), false).unwrap()
                ["response_format"],
            json!({"type": "text"})
        );
        assert_eq!(
            wire(
                req(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object", "description": "own"}, "description": "other"}}})),
                false
            )
            .unwrap()["response_format"],
            json!({"type": "json_object", "json_schema": {"type": "object", "description": "own"}})
        );
    }

    #[test]
    fn what_cohere_cannot_take_is_refused_by_name() {
        let with = |extra: Value| {
            let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        assert_eq!(
            rejected(with(json!({"logit_bias": {"42": 1}, "logprobs": true}))),
            "cohere cannot take logit_bias, logprobs: remove them or use a provider that supports them"
        );
        assert!(rejected(with(json!({"n": 2}))).contains("n"));
        assert!(rejected(with(json!({"user": "u1"}))).contains("user"));
        assert!(
            rejected(with(json!({"parallel_tool_calls": false}))).contains("parallel_tool_calls")
        );
        let msg = |m: Value| json!({"model": "m", "messages": [m]});
        assert!(
            rejected(msg(json!({"role": "user", "name": "bob", "content": "hi"})))
                .contains("messages[].name")
        );
        assert!(rejected(msg(
            json!({"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]})
        ))
        .contains("file"));
        assert!(rejected(msg(json!({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]})))
            .contains("image"));
        assert!(rejected(msg(json!({"role": "tool", "content": "r"}))).contains("tool_call_id"));
        assert_eq!(
            Cohere
                .chat_request("https://api.cohere.com", Bytes::from_static(b"{"), false)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }

    fn completion(body: Value) -> Result<(Value, Option<Usage>), Error> {
        let c = Cohere.decode_completion(body.to_string().as_bytes(), "")?;
        Ok((serde_json::from_str(&c.json).unwrap(), c.usage))
    }

    #[test]
    fn decodes_a_text_answer_with_billed_usage() {
        let (out, usage) = completion(json!({
            "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
            "finish_reason": "COMPLETE",
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": "LLMs stand for Large Language Models."}]
            },
            "usage": {
                "billed_units": {"input_tokens": 17, "output_tokens": 386},
                "tokens": {"input_tokens": 83, "output_tokens": 386},
                "cached_tokens": 64
            }
        }))
        .unwrap();
        assert_eq!(out["id"], "c14c80c3-18eb-4519-9460-6c92edd8cfb4");
        assert_eq!(out["object"], "chat.completion");
        let choice = &out["choices"][0];
        assert_eq!(
            choice["message"],
            json!({"role": "assistant", "content": "LLMs stand for Large Language Models."})
        );
        assert_eq!(choice["finish_reason"], "stop");
        assert_eq!(choice["provider_finish_reason"], "COMPLETE");
        assert_eq!(
            out["usage"],
            json!({"prompt_tokens": 17, "completion_tokens": 386, "total_tokens": 403, "prompt_tokens_details": {"cached_tokens": 64}})
        );
        assert_eq!(usage.unwrap().total_tokens, 403);
    }

    #[test]
    fn decodes_tool_calls_plans_and_thinking() {
        let (out, _) = completion(json!({
            "id": "x1",
            "finish_reason": "TOOL_CALL",
            "message": {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "The user wants weather."}],
                "tool_plan": "I will check the weather and the time.",
                "tool_calls": [
                    {"id": "get_weather_1byjy32y4hvq", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "get_time_5bdwbeq4wrfy", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}}
                ]
            },
            "usage": {"tokens": {"input_tokens": 11.0, "output_tokens": 7.0}}
        }))
        .unwrap();
        let choice = &out["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["provider_finish_reason"], "TOOL_CALL");
        assert_eq!(choice["message"]["content"], Value::Null);
        assert_eq!(
            choice["message"]["reasoning_content"],
            "The user wants weather.\n\nI will check the weather and the time."
        );
        assert_eq!(
            choice["message"]["tool_calls"],
            json!([
                {"id": "get_weather_1byjy32y4hvq", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "get_time_5bdwbeq4wrfy", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}}
            ])
        );
        assert_eq!(out["usage"]["total_tokens"], 18);
    }

    #[test]
    fn finish_reasons_are_normalised_and_failures_raised() {
        let answer = |reason: &str| {
            completion(
                json!({"id": "x", "finish_reason": reason, "message": {"role": "assistant", "content": [{"type": "text", "text": "partial"}]}}),
            )
        };
        for (raw, normal) in [
            ("MAX_TOKENS", "length"),
            ("STOP_SEQUENCE", "stop"),
            ("SOMETHING_NEW", "stop"),
        ] {
            let (out, _) = answer(raw).unwrap();
            assert_eq!(out["choices"][0]["finish_reason"], normal, "{raw}");
            assert_eq!(out["choices"][0]["provider_finish_reason"], raw);
        }
        let err = answer("ERROR").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamError);
        assert!(err.retryable());
        assert!(err.to_string().contains("ERROR"), "{err}");
        assert_eq!(answer("TIMEOUT").unwrap_err().kind(), ErrorKind::Timeout);
    }

    #[test]
    fn bad_and_error_bodies_are_typed() {
        let err = Cohere
            .decode_completion(b"<html>oops</html>", "")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse);
        let err = Cohere.decode_completion(br#"{"id":"x"}"#, "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse);
        let err = Cohere
            .decode_completion(br#"{"id":"e1","message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292."}"#, "")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ContextLengthExceeded);
        assert!(!err.retryable());
        assert!(err.to_string().starts_with("too many tokens"), "{err}");
    }

    /// Feeds `input` through the framing in `piece`-byte chunks and decodes every event.
    fn run_stream(
        input: &str,
        piece: usize,
    ) -> (Vec<Value>, Result<EventOutcome, Error>, StreamProgress) {
        let mut framing = FrameDecoder::new(Cohere.framing());
        let mut events = Vec::new();
        for chunk in input.as_bytes().chunks(piece) {
            framing.feed(chunk, &mut events).unwrap();
        }
        framing.finish(&mut events).unwrap();
        let mut decoder = Cohere.stream_decoder("");
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
            .unwrap_or_default();
        (chunks, outcome, sink.progress.clone())
    }

    fn sse(events: &[Value]) -> String {
        events
            .iter()
            .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
            .collect()
    }

    fn text_events() -> Vec<Value> {
        vec![
            json!({"id": "a8fc192e-4bb8-4e15-ae1f-a174e8b02ae8", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Coca"}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "-Cola é"}}}}),
            json!({"type": "citation-start", "index": 0, "delta": {"message": {"citations": {"start": 0, "end": 4, "text": "Coca", "sources": []}}}}),
            json!({"type": "citation-end", "index": 0}),
            json!({"type": "content-end", "index": 0}),
            json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 21, "output_tokens": 105}, "tokens": {"input_tokens": 186, "output_tokens": 105}}}}),
        ]
    }

    fn delta(chunk: &Value) -> &Value {
        &chunk["choices"][0]["delta"]
    }

    #[test]
    fn a_text_stream_decodes_whatever_the_splits() {
        let as_sse = sse(&text_events());
        let crlf = as_sse.replace('\n', "\r\n");
        for input in [&as_sse, &crlf] {
            for piece in [1, 2, 7, 64, input.len()] {
                let (chunks, outcome, progress) = run_stream(input, piece);
                assert_eq!(outcome.unwrap(), EventOutcome::Done, "piece {piece}");
                assert_eq!(chunks.len(), 5, "piece {piece}: {chunks:?}");
                assert_eq!(chunks[0]["id"], "a8fc192e-4bb8-4e15-ae1f-a174e8b02ae8");
                assert_eq!(chunks[0]["object"], "chat.completion.chunk");
                assert_eq!(
                    *delta(&chunks[0]),
                    json!({"role": "assistant", "content": ""})
                );
                assert_eq!(*delta(&chunks[1]), json!({"content": "Coca"}));
                assert_eq!(*delta(&chunks[2]), json!({"content": "-Cola é"}));
                assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
                assert_eq!(
                    chunks[3]["choices"][0]["provider_finish_reason"],
                    "COMPLETE"
                );
                assert_eq!(chunks[4]["choices"], json!([]));
                assert_eq!(
                    chunks[4]["usage"],
                    json!({"prompt_tokens": 21, "completion_tokens": 105, "total_tokens": 126})
                );
                assert_eq!((progress.content_chars, progress.chunks), (11, 5));
                assert_eq!(progress.finish_reason.as_deref(), Some("stop"));
            }
        }
    }

    #[test]
    fn a_parallel_tool_call_stream_keeps_ids_names_and_fragments_per_index() {
        let events = vec![
            json!({"id": "m1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
            json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
            json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": " check."}}}),
            json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "get_weather_nsz5zm3w56q3", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\n    \""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "city\": \"Paris\"}"}}}}}),
            json!({"type": "tool-call-end", "index": 0}),
            json!({"type": "tool-call-start", "index": 1, "delta": {"message": {"tool_calls": {"id": "get_time_8fkq4cr1s2x0", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":"}}}}}),
            json!({"type": "tool-call-delta", "index": 1, "delta": {"message": {"tool_calls": {"function": {"arguments": "\"Paris\"}"}}}}}),
            json!({"type": "tool-call-end", "index": 1}),
            json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {"billed_units": {"input_tokens": 11, "output_tokens": 7}, "tokens": {"input_tokens": 900, "output_tokens": 40}}}}),
        ];
        let (chunks, outcome, progress) = run_stream(&sse(&events), 5);
        assert_eq!(outcome.unwrap(), EventOutcome::Done);
        let deltas: Vec<&Value> = chunks.iter().map(delta).collect();
        assert_eq!(*deltas[1], json!({"reasoning_content": "I will"}));
        assert_eq!(*deltas[2], json!({"reasoning_content": " check."}));
        assert_eq!(
            *deltas[3],
            json!({"tool_calls": [{"index": 0, "id": "get_weather_nsz5zm3w56q3", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
        );
        assert_eq!(
            *deltas[4],
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\n    \""}}]})
        );
        assert_eq!(
            *deltas[6],
            json!({"tool_calls": [{"index": 1, "id": "get_time_8fkq4cr1s2x0", "type": "function", "function": {"name": "get_time", "arguments": ""}}]})
        );
        assert_eq!(
            *deltas[7],
            json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\":"}}]})
        );
        assert_eq!(
            *deltas[8],
            json!({"tool_calls": [{"index": 1, "function": {"arguments": "\"Paris\"}"}}]})
        );
        assert_eq!(chunks[9]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(chunks[10]["usage"]["total_tokens"], 18);
        assert_eq!(chunks.len(), 11);
        assert_eq!(progress.tool_call_deltas, 6);
    }

    #[test]
    fn stream_failures_are_typed_and_come_after_what_was_delivered() {
        let mut events = text_events();
        events.truncate(4);
        events.push(json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal generation failure"}}));
        let (chunks, outcome, progress) = run_stream(&sse(&events), 9);
        let err = outcome.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UpstreamError);
        assert_eq!(err.to_string(), "internal generation failure");
        assert_eq!((chunks.len(), progress.content_chars), (3, 11));
        assert_eq!(progress.finish_reason, None);

        let (_, outcome, _) = run_stream(
            "data: {\"message\":\"too many tokens: size limit exceeded by 11326 tokens.\"}\n\n",
            3,
        );
        assert_eq!(
            outcome.unwrap_err().kind(),
            ErrorKind::ContextLengthExceeded
        );

        let mut decoder = Cohere.stream_decoder("");
        let mut sink = StreamSink::default();
        let event = SseEvent {
            event: Some("error".into()),
            data: r#"{"message":"overloaded, try later"}"#.into(),
            id: None,
        };
        assert_eq!(
            decoder.decode(&event, &mut sink).unwrap_err().kind(),
            ErrorKind::Overloaded
        );

        let (_, outcome, _) =
            run_stream("data: {\"type\":\"content-delta\",\"delta\":oops}\n\n", 4);
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::BadResponse);

        // A body that stops before `message-end` did not finish: the stream layer says so.
        let mut events = text_events();
        events.truncate(4);
        let (_, outcome, progress) = run_stream(&sse(&events), 10);
        assert_eq!(outcome.unwrap(), EventOutcome::Continue);
        assert!(!Cohere.stream_decoder("").ended_cleanly(&progress));
    }

    #[test]
    fn sse_noise_is_ignored() {
        let input = format!(
            "\u{feff}: keep-alive\nretry: 1000\nid: 7\n{}data: [DONE]\n\n",
            sse(&text_events())
        );
        let (chunks, outcome, _) = run_stream(&input, 3);
        assert_eq!(outcome.unwrap(), EventOutcome::Done);
        assert_eq!(chunks.len(), 5);
    }

    fn upstream(status: u16, body: Value) -> UpstreamError {
        let mut e = UpstreamError {
            status: Some(status),
            headers: Vec::new(),
            body: UpstreamBody::Json(body),
            kind: ErrorKind::from_status(status),
            retryable: crate::retry::status_is_retryable(status, &http::HeaderMap::new()),
            retry_after: None,
        };
        Cohere.classify(&mut e);
        e
    }

    #[test]
    fn errors_are_classified_from_status_and_message() {
        let cases = [
            (429, "You are using a Trial key, which is limited to 40 API calls / minute.", ErrorKind::RateLimited, true),
            (429, "trial token rate limit exceeded, limit is 100000 tokens per minute", ErrorKind::RateLimited, true),
            (401, "invalid api token", ErrorKind::Auth, false),
            (400, "no api key supplied", ErrorKind::Auth, false),
            (400, "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292.", ErrorKind::ContextLengthExceeded, false),
            (400, "invalid request: temperature must be between 0 and 1.0 inclusive.", ErrorKind::InvalidRequest, false),
            (404, "model 'xyz' not found, make sure the correct model ID was used", ErrorKind::NotFound, false),
            (498, "blocked output: please adjust your prompt and try again", ErrorKind::ContentFilter, false),
            (400, "blocked input: please adjust your prompt and try again, as it may be a potential violation of our Usage Guidelines", ErrorKind::ContentFilter, false),
            (499, "request cancelled", ErrorKind::UpstreamError, false),
            (500, "internal server error", ErrorKind::UpstreamError, true),
            (503, "service unavailable", ErrorKind::Overloaded, true),
        ];
        for (status, message, kind, retryable) in cases {
            let e = upstream(status, json!({"id": "e-1", "message": message}));
            assert_eq!(
                (e.kind, e.retryable),
                (kind, retryable),
                "{status} {message}"
            );
        }
        let mut text = UpstreamError {
            status: Some(502),
            headers: Vec::new(),
            body: UpstreamBody::Text("<html>bad gateway</html>".into()),
            kind: ErrorKind::UpstreamError,
            retryable: true,
            retry_after: None,
        };
        Cohere.classify(&mut text);
        assert_eq!(
            (text.kind, text.retryable),
            (ErrorKind::UpstreamError, true)
        );
        // An OpenAI-shaped body from a proxy in front of Cohere.
        let e = upstream(
            400,
            json!({"error": {"message": "x", "code": "context_length_exceeded"}}),
        );
        assert_eq!(e.kind, ErrorKind::ContextLengthExceeded);
    }

    #[test]
    fn embeddings_translate_both_ways() {
        let req = Cohere
            .embed_request(
                "https://api.cohere.com",
                Bytes::from(json!({"model": "embed-v4.0", "input": ["alpha", "beta"], "dimensions": 256, "encoding_format": "float"}).to_string()),
            )
            .unwrap();
        assert_eq!(req.url, "https://api.cohere.com/v2/embed");
        let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"model": "embed-v4.0", "texts": ["alpha", "beta"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 256})
        );
        let one = Cohere
            .embed_request(
                "https://api.cohere.com",
                Bytes::from(json!({"model": "embed-english-v3.0", "input": "q", "input_type": "search_query"}).to_string()),
            )
            .unwrap();
        let body: Value = serde_json::from_slice(one.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["texts"], json!(["q"]));
        assert_eq!(body["input_type"], "search_query");
        for bad in [
            json!({"model": "m", "input": [1, 2, 3]}),
            json!({"model": "m", "input": "x", "encoding_format": "base64"}),
            json!({"model": "m", "input": "x", "user": "u"}),
            json!({"model": "m", "input": "x", "truncate": "END"}),
        ] {
            let err = Cohere
                .embed_request("https://api.cohere.com", Bytes::from(bad.to_string()))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }

        let out = Cohere
            .decode_embeddings(
                br#"{"id":"da6e531f","embeddings":{"float":[[0.016296387,-0.008354187],[0.1,2e-7]]},"texts":["alpha","beta"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":4}},"response_type":"embeddings_by_type"}"#,
            )
            .unwrap();
        assert_eq!(
            out,
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.016296387,-0.008354187]},{"object":"embedding","index":1,"embedding":[0.1,2e-7]}],"usage":{"prompt_tokens":4,"total_tokens":4}}"#
        );
        assert_eq!(
            Cohere
                .decode_embeddings(br#"{"id":"x","embeddings":{}}"#)
                .unwrap_err()
                .kind(),
            ErrorKind::BadResponse
        );
    }

    #[test]
    fn the_model_list_keeps_what_cohere_says() {
        let req = Cohere.models_request("https://api.cohere.com/").unwrap();
        assert_eq!(req.method, http::Method::GET);
        assert_eq!(req.url, "https://api.cohere.com/v1/models?page_size=1000");
        let out: Value = serde_json::from_slice(
            Cohere
                .decode_models(br#"{"models":[{"name":"command-a-03-2025","endpoints":["generate","chat","summarize"],"finetuned":false,"context_length":256000,"tokenizer_url":"https://storage.googleapis.com/cohere-public/tokenizers/command-a-03-2025.json","default_endpoints":["chat"],"features":["tools","json_mode","json_schema"]},{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000}],"next_page_token":""}"#)
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(out["object"], "list");
        let data = out["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[0]["id"], "command-a-03-2025");
        assert_eq!(data[0]["owned_by"], "cohere");
        assert_eq!(data[0]["context_length"], 256000);
        assert_eq!(
            data[0]["features"],
            json!(["tools", "json_mode", "json_schema"])
        );
        assert_eq!(data[1]["endpoints"], json!(["embed"]));
    }
}
