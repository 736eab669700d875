//! Cohere's answers → canonical: whole answers, usage, finish reasons, and what its failures are
//! (status and message, also when one arrives with a 200).

use serde_json::{json, Value};

use super::wire::{ChatResponse, ErrorBody, ResponseMessage, WireUsage};
use crate::canonical::{CompletionWriter, FinishReason, FunctionCall, ToolCall};
use crate::error::{classify_common, wording_says, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::openai::bad_json;
use crate::providers::Completion;
use crate::usage::{PromptDetails, Usage};

// ---- mapping: answers -------------------------------------------------------------------------

pub(super) fn count(n: Option<f64>) -> Option<u64> {
    n.filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n.round() as u64)
}

impl WireUsage {
    /// Billed units first (what Cohere charges for), then raw token counts.
    pub(super) fn canonical(&self) -> Usage {
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
pub(super) fn finish_reason(raw: &str, detail: Option<&str>) -> Result<FinishReason, Error> {
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
pub(super) fn generation_error(kind: ErrorKind, message: &str, code: &str) -> Error {
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
pub(super) fn in_band_error(body: UpstreamBody) -> Error {
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
pub(super) fn body_of(bytes: &[u8]) -> UpstreamBody {
    serde_json::from_slice(bytes).map_or_else(
        |_| UpstreamBody::Text(String::from_utf8_lossy(bytes).into_owned()),
        UpstreamBody::Json,
    )
}

/// A Cohere error body (`{"message": …}`) sent with a 200 in place of what was expected.
pub(super) fn error_instead(bytes: &[u8]) -> Option<Error> {
    serde_json::from_slice::<ErrorBody>(bytes)
        .ok()
        .map(|_| in_band_error(body_of(bytes)))
}

/// A whole answer; `model` is the one asked for (Cohere's answers do not name it).
pub(super) fn decode_completion(body: &[u8], model: &str) -> Result<Completion, Error> {
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
        // Cohere does not echo the model in its answers: it is the one asked for.
        model: model.to_string(),
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
    } else if client_side && wording_says(message, ErrorKind::ContextLengthExceeded) {
        Some(ErrorKind::ContextLengthExceeded)
    } else if status == Some(503) || wording_says(message, ErrorKind::Overloaded) {
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

pub(super) fn classify(error: &mut UpstreamError) {
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
