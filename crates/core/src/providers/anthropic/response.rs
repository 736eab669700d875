//! Whole answers (`POST /v1/messages` without streaming) as canonical completions, and Anthropic's
//! error objects as typed errors.

use serde_json::{json, Value};

use super::wire::MessageResponse;
use super::JSON_TOOL;
use crate::canonical::{CompletionWriter, FinishReason, FunctionCall, ToolCall};
use crate::error::{kind_from_wording_and, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::openai::bad_json;
use crate::providers::Completion;

/// Anthropic's `stop_reason` in OpenAI's terms. `tool_use` that called only the
/// `response_format` tool is an ordinary answer.
pub(super) fn finish_reason(raw: &str, tool_calls: bool) -> FinishReason {
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
pub(super) fn error_kind(error: &Value) -> Option<ErrorKind> {
    let kind = error.get("type").and_then(Value::as_str)?;
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    Some(match kind {
        "rate_limit_error" => ErrorKind::RateLimited,
        "overloaded_error" => ErrorKind::Overloaded,
        "authentication_error" | "permission_error" => ErrorKind::Auth,
        "not_found_error" => ErrorKind::NotFound,
        "api_error" => ErrorKind::UpstreamError,
        "invalid_request_error" | "request_too_large" => {
            let extra: &[(ErrorKind, &[&str])] = &[
                (
                    ErrorKind::ContextLengthExceeded,
                    &["exceed context limit", "too many total text bytes"],
                ),
                (ErrorKind::ContentFilter, &["usage policy"]),
            ];
            // Overload has its own type.
            kind_from_wording_and(message, extra)
                .filter(|k| *k != ErrorKind::Overloaded)
                .unwrap_or(ErrorKind::InvalidRequest)
        }
        _ => return None,
    })
}

/// Worth retrying the same call: rate limits, overload and server failures, unless the server
/// said `x-should-retry: false`.
pub(super) fn transient(
    kind: ErrorKind,
    status: Option<u16>,
    headers: &[(String, String)],
) -> bool {
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
pub(super) fn in_band_error(body: Value) -> Error {
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

pub(super) fn decode_message(body: &[u8]) -> Result<Completion, Error> {
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
