//! Whole answers: a prediction that has ended as a canonical completion, and Replicate's failures
//! (failed or canceled predictions, stream `error` events, problem details) as typed errors.

use serde_json::{json, Map, Value};

use super::wire::{parse_prediction, Prediction};
use crate::canonical::{CompletionWriter, FinishReason};
use crate::error::{
    classify_common, kind_from_wording_and, Error, ErrorKind, UpstreamBody, UpstreamError,
};
use crate::providers::Completion;
use crate::usage::Usage;

/// A prediction that has ended as a canonical completion for `model`, the model asked for (the
/// prediction's own `owner/name` when none is given).
pub(super) fn decode_completion(body: &[u8], model: &str) -> Result<Completion, Error> {
    let p = parse_prediction(body)?;
    match p.status.as_str() {
        "succeeded" => {}
        "failed" | "canceled" | "aborted" => return Err(prediction_failure(&p, body)),
        other => {
            return Err(Error::BadResponse(format!(
                "prediction {} is still {other:?}",
                p.id
            )))
        }
    }
    let metrics = p.metrics.as_ref();
    let usage = match (
        count(metrics, "input_token_count"),
        count(metrics, "output_token_count"),
    ) {
        (None, None) => None,
        (input, output) => {
            let (input, output) = (input.unwrap_or(0), output.unwrap_or(0));
            Some(Usage {
                prompt_tokens: input,
                completion_tokens: output,
                total_tokens: input + output,
                ..Default::default()
            })
        }
    };
    // No stop reason is reported; an answer that used every requested token was cut.
    let limit = p.input.as_ref().and_then(|i| {
        i.get("max_tokens")
            .or_else(|| i.get("max_new_tokens"))
            .and_then(Value::as_u64)
    });
    let cut = matches!((limit, usage), (Some(limit), Some(u)) if limit > 0 && u.completion_tokens >= limit);
    let writer = CompletionWriter {
        id: p.id.clone(),
        // A version's prediction names only `owner/name`, and the stream names no model at all;
        // whole answers and streams both name the model as it was asked for.
        model: if model.is_empty() {
            p.model.clone()
        } else {
            model.to_string()
        },
        content: Some(output_text(p.output.as_ref())),
        finish_reason: Some(if cut {
            FinishReason::Length
        } else {
            FinishReason::Stop
        }),
        provider_finish_reason: Some(p.status.clone()),
        usage,
        ..Default::default()
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}

/// Replicate's errors are problem details: `{ "title", "detail", "status" }`.
pub(super) fn classify(error: &mut UpstreamError) {
    classify_common(error);
    if !matches!(
        error.kind,
        ErrorKind::InvalidRequest | ErrorKind::UpstreamError
    ) {
        return;
    }
    let UpstreamBody::Json(body) = &error.body else {
        return;
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    let text = format!("{} {}", field("title"), field("detail"));
    if let Some((kind, retryable)) = classify_text(&text) {
        error.kind = kind;
        error.retryable = retryable;
    }
}

fn count(metrics: Option<&Map<String, Value>>, name: &str) -> Option<u64> {
    let v = metrics?.get(name)?;
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f.max(0.0).round() as u64))
}

/// `output` as text: language models return an array of tokens.
fn output_text(output: Option<&Value>) -> String {
    match output {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(other) => other.to_string(),
    }
}

/// What a failure's text says it is, across Replicate's models and platform codes.
fn classify_text(text: &str) -> Option<(ErrorKind, bool)> {
    let kind = kind_from_wording_and(
        text,
        &[
            (
                ErrorKind::ContextLengthExceeded,
                &[
                    "is too long and exceeds",
                    "input is too long",
                    "max_model_len",
                ],
            ),
            (
                ErrorKind::ContentFilter,
                &["(e005)", "flagged as sensitive", "nsfw"],
            ),
            (
                ErrorKind::Overloaded,
                &[
                    "(e6716)",
                    "timeout starting prediction",
                    "at capacity",
                    "high demand",
                ],
            ),
            (ErrorKind::RateLimited, &["throttled", "rate limit"]),
            // A platform fault worth another try.
            (ErrorKind::UpstreamError, &["(code: pa)", "please retry"]),
        ],
    )?;
    let retryable = matches!(
        kind,
        ErrorKind::Overloaded | ErrorKind::RateLimited | ErrorKind::UpstreamError
    );
    Some((kind, retryable))
}

/// Replicate's platform code in a failure's text: `(E005)`, `(code: PA)`.
fn platform_code(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = upper.find("(CODE: ") {
        let rest = &text[i + 7..];
        return rest
            .split_once(')')
            .map(|(code, _)| code.trim().to_string());
    }
    let start = upper.rfind("(E")?;
    let (code, _) = text[start + 1..].split_once(')')?;
    (code.len() > 1 && code[1..].bytes().all(|b| b.is_ascii_digit())).then(|| code.to_string())
}

/// A prediction that failed, was canceled, or a stream's `error` event, as an upstream error:
/// its text in an OpenAI-style `error` object, what Replicate sent kept whole under `source`.
pub(super) fn failure(text: &str, source_key: &str, source: Value, classify: bool) -> Error {
    let (kind, retryable) = classify
        .then(|| classify_text(text))
        .flatten()
        .unwrap_or((ErrorKind::UpstreamError, false));
    let body = json!({
        "error": { "message": text, "code": platform_code(text) },
        source_key: source,
    });
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(body),
        kind,
        retryable,
        retry_after: None,
    }))
}

pub(super) fn prediction_failure(p: &Prediction, raw: &[u8]) -> Error {
    let source = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if p.status == "canceled" {
        return failure("the prediction was canceled", "prediction", source, false);
    }
    let text = match &p.error {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => format!("the prediction {}", p.status),
    };
    failure(&text, "prediction", source, true)
}
