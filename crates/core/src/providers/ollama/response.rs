//! Whole `/api/chat` answers → canonical completions, and Ollama's errors (HTTP and in-band)
//! classified.

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::wire::{AnswerToolCall, ChatAnswer};
use crate::canonical::{CompletionWriter, FinishReason, FunctionCall, ToolCall};
use crate::error::{kind_from_wording_and, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::openai::bad_json;
use crate::providers::Completion;
use crate::usage::Usage;

/// `prefix` + 24 alphanumerics, OpenAI's id shape (not [`crate::providers::support::random_id`]'s
/// 16 hex digits: the tests pin the length).
pub(super) fn random_id(prefix: &str) -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    format!("{prefix}{tail}")
}

/// The kind an Ollama error message implies, beyond its status.
fn kind_from_message(message: &str) -> Option<ErrorKind> {
    kind_from_wording_and(
        message,
        &[
            (ErrorKind::ContextLengthExceeded, &["prompt too long"]),
            // Its request queue is full.
            (
                ErrorKind::Overloaded,
                &["server busy", "maximum pending requests"],
            ),
        ],
    )
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

pub(super) fn refine(error: &mut UpstreamError) {
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
pub(super) fn in_band_error(error: Value) -> Error {
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

pub(super) fn usage_of(answer: &ChatAnswer) -> Usage {
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
pub(super) fn finish_reason(done_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Arguments as canonical JSON text, in the order Ollama wrote them.
pub(super) fn arguments_text(arguments: Option<&RawValue>) -> String {
    match arguments.map(RawValue::get) {
        None | Some("null") => "{}".to_string(),
        // Some proxies send the arguments already as JSON text.
        Some(raw) if raw.starts_with('"') => {
            serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
        }
        Some(raw) => raw.to_string(),
    }
}

pub(super) fn call_id(call: &AnswerToolCall) -> String {
    call.id
        .clone()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| random_id("call_"))
}

pub(super) fn decode_completion(body: &[u8]) -> Result<Completion, Error> {
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
