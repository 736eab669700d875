//! A whole Converse answer → canonical completion, and what Bedrock's errors mean: HTTP errors
//! ([`classify`]) and ConverseStream exceptions ([`stream_exception`]).

use serde_json::{json, Map, Value};

use super::wire::{ConverseResponse, TokenUsage};
use super::JSON_TOOL;
use crate::canonical::{CompletionWriter, FinishReason, FunctionCall, ToolCall};
use crate::error::{kind_from_wording_and, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::openai::bad_json;
use crate::providers::support::random_id;
use crate::providers::Completion;

/// Bedrock's stop reason → OpenAI's. `tool_use` is `tool_calls` only when a caller's tool was
/// called (a structured answer through [`JSON_TOOL`] is a plain stop).
pub(super) fn finish_reason(stop: &str, called_tools: bool) -> FinishReason {
    match stop {
        "tool_use" if called_tools => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

pub(super) fn decode_converse(body: &[u8], model: &str) -> Result<Completion, Error> {
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
        id: random_id("chatcmpl-bedrock-"),
        model: model.to_string(),
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

/// Bedrock's wording beyond the shared ([`kind_from_wording_and`]).
const WORDING: &[(ErrorKind, &[&str])] = &[
    (
        ErrorKind::ContextLengthExceeded,
        &[
            "too many input tokens",
            "input is too long",
            "input token count",
        ],
    ),
    (ErrorKind::ContentFilter, &["guardrail", "responsible ai"]),
];

/// The kind of a Bedrock error from its type (`ThrottlingException`, `throttlingException`, …)
/// and message; `status` decides when neither says.
fn error_kind(error_type: &str, message: &str, status: Option<u16>) -> ErrorKind {
    let t = error_type.to_ascii_lowercase();
    let t = t.trim_end_matches("exception");
    // Overload comes from the type, not the message.
    let by_message =
        || kind_from_wording_and(message, WORDING).filter(|k| *k != ErrorKind::Overloaded);
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
pub(super) fn stream_exception(name: &str, data: &str) -> Error {
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
pub(super) fn is_exception(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("exception")
        || n.ends_with("error")
        || n.ends_with("failure")
        || n.contains("throttl")
}

/// An HTTP error's kind and retryability, from its type (the `x-amzn-errortype` header, else the
/// body's `__type` or `code`) and message.
pub(super) fn classify(error: &mut UpstreamError) {
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
