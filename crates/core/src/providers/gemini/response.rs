//! Whole answers → canonical completions, and Google errors (HTTP or in-band) → typed errors.

use std::time::Duration;

use serde_json::{json, Value};

use super::wire::{GenerateContentResponse, UsageMetadata};
use super::THOUGHT_SEPARATOR;
use crate::canonical::{CompletionWriter, FinishReason, FunctionCall, ToolCall};
use crate::error::{wording_says, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::openai::bad_json;
use crate::providers::support::random_id;
use crate::providers::Completion;

/// Gemini's finish reason, normalised. A natural stop with function calls is a tool-call stop.
pub(super) fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// The canonical id of the `index`-th function call of a response: Gemini's own id when it gave
/// one, else `call_<responseId>_<index>`; with the thought signature appended when there is one.
pub(super) fn call_id(
    given: Option<&str>,
    response_id: &str,
    index: usize,
    signature: Option<&str>,
) -> String {
    let mut id = match given {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("call_{response_id}_{index}"),
    };
    if let Some(signature) = signature.filter(|s| !s.is_empty()) {
        id.push_str(THOUGHT_SEPARATOR);
        id.push_str(signature);
    }
    id
}

pub(super) fn arguments_json(args: Option<&Value>) -> String {
    match args {
        Some(v) if !v.is_null() => v.to_string(),
        _ => "{}".to_string(),
    }
}

fn retryable_kind(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::RateLimited | ErrorKind::Overloaded)
}

/// The kind a Google API error object (`{code, message, status, details}`) says it is.
fn kind_of(error: &Value, http_status: Option<u16>) -> ErrorKind {
    let text = |name: &str| error.get(name).and_then(Value::as_str).unwrap_or("");
    let status = text("status");
    let message = text("message").to_ascii_lowercase();
    let reasons: Vec<&str> = error
        .get("details")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("reason").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let code = http_status.or_else(|| {
        error
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..600).contains(c))
    });
    let context = (message.contains("input token count") && message.contains("exceed"))
        || message.contains("exceeds the maximum number of tokens")
        || wording_says(&message, ErrorKind::ContextLengthExceeded);
    if reasons.iter().any(|r| r.starts_with("API_KEY"))
        || matches!(status, "UNAUTHENTICATED" | "PERMISSION_DENIED")
        || message.contains("api key not valid")
    {
        ErrorKind::Auth
    } else if status == "RESOURCE_EXHAUSTED" {
        ErrorKind::RateLimited
    } else if status == "UNAVAILABLE" || wording_says(&message, ErrorKind::Overloaded) {
        ErrorKind::Overloaded
    } else if context {
        ErrorKind::ContextLengthExceeded
    } else {
        match status {
            "NOT_FOUND" => ErrorKind::NotFound,
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
                ErrorKind::InvalidRequest
            }
            _ => code.map_or(ErrorKind::UpstreamError, ErrorKind::from_status),
        }
    }
}

/// `RetryInfo.retryDelay` (`"13s"`) from a Google error's details.
fn retry_delay(error: &Value) -> Option<Duration> {
    let details = error.get("details")?.as_array()?;
    let delay = details.iter().find_map(|d| {
        let is_retry_info = d
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"));
        is_retry_info.then(|| d.get("retryDelay")?.as_str())?
    })?;
    let seconds: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d < Duration::from_secs(60))
}

/// Refine an HTTP error from the Google error object in its body.
pub(super) fn classify(error: &mut UpstreamError) {
    let Some(object) = error.error_object().cloned() else {
        return;
    };
    let kind = kind_of(&object, error.status);
    error.retryable = match kind {
        ErrorKind::RateLimited | ErrorKind::Overloaded => true,
        ErrorKind::UpstreamError => error.retryable,
        _ => false,
    };
    error.kind = kind;
    if error.retry_after.is_none() {
        error.retry_after = retry_delay(&object);
    }
}

/// An `error` object that came with a 200 (a whole body, or an event of a stream).
pub(super) fn in_band_error(error: Value) -> Error {
    let kind = kind_of(&error, None);
    let status_code = error.get("code").and_then(Value::as_u64).unwrap_or(0);
    let retry_after = retry_delay(&error);
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({ "error": error })),
        kind,
        retryable: retryable_kind(kind) || (500..600).contains(&status_code),
        retry_after,
    }))
}

/// A prompt Gemini refused to answer: `promptFeedback.blockReason` and no candidates.
pub(super) fn blocked_prompt(feedback: &Value) -> Error {
    let reason = feedback
        .get("blockReason")
        .and_then(Value::as_str)
        .unwrap_or("BLOCK_REASON_UNSPECIFIED");
    let mut message = format!("Gemini blocked the prompt ({reason})");
    if let Some(detail) = feedback.get("blockReasonMessage").and_then(Value::as_str) {
        message.push_str(": ");
        message.push_str(detail);
    }
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({
            "error": { "message": message, "status": reason },
            "promptFeedback": feedback,
        })),
        kind: ErrorKind::ContentFilter,
        retryable: false,
        retry_after: None,
    }))
}

pub(super) fn block_reason(response: &GenerateContentResponse) -> Option<&Value> {
    response
        .prompt_feedback
        .as_ref()
        .filter(|f| f.get("blockReason").is_some_and(|r| !r.is_null()))
}

/// A whole answer; `model` names it when `modelVersion` does not.
pub(super) fn decode_completion(body: &[u8], model: &str) -> Result<Completion, Error> {
    let response: GenerateContentResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    if let Some(error) = response.error.clone().filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let Some(candidate) = response.candidates.first() else {
        return Err(match block_reason(&response) {
            Some(feedback) => blocked_prompt(feedback),
            None => Error::BadResponse("the response has no candidates".into()),
        });
    };
    let (response_id, completion_id) = match &response.response_id {
        Some(id) => (id.clone(), id.clone()),
        None => {
            let token = random_id("");
            (token.clone(), format!("chatcmpl-{token}"))
        }
    };
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut tool_calls = Vec::new();
    for part in candidate.content.iter().flat_map(|c| &c.parts) {
        if let Some(call) = &part.function_call {
            tool_calls.push(ToolCall {
                id: call_id(
                    call.id.as_deref(),
                    &response_id,
                    tool_calls.len(),
                    part.thought_signature.as_deref(),
                ),
                kind: "function".into(),
                function: FunctionCall {
                    name: call.name.clone(),
                    arguments: arguments_json(call.args.as_ref()),
                },
            });
        } else if let Some(t) = &part.text {
            let into = if part.thought == Some(true) {
                &mut reasoning
            } else {
                &mut text
            };
            into.get_or_insert_with(String::new).push_str(t);
        }
    }
    let usage = response.usage_metadata.map(UsageMetadata::to_usage);
    let writer = CompletionWriter {
        id: completion_id,
        model: response
            .model_version
            .clone()
            .unwrap_or_else(|| model.to_string()),
        content: text,
        reasoning,
        finish_reason: candidate
            .finish_reason
            .as_deref()
            .map(|r| finish_reason(r, !tool_calls.is_empty())),
        provider_finish_reason: candidate.finish_reason.clone(),
        tool_calls,
        usage,
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}
