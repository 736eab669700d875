//! Whole answers, finish reasons, blocked prompts and Google error classification.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use super::{event, gemini};
use crate::error::{ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::test_support::upstream_error;
use crate::providers::ChatProvider;
use crate::stream::StreamSink;

#[test]
fn decodes_a_text_answer_with_usage() {
    // Shape of the Gemini API reference's GenerateContentResponse.
    let body = br#"{
      "candidates": [{
        "content": {"parts": [{"text": "Let me think.", "thought": true}, {"text": "Hey there! "}, {"text": "How can I help?"}], "role": "model"},
        "finishReason": "STOP", "index": 0
      }],
      "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 10, "totalTokenCount": 111,
        "cachedContentTokenCount": 4, "thoughtsTokenCount": 93,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
      "modelVersion": "gemini-2.5-flash",
      "responseId": "B_4saZqCLv3w4-EP8ta6gQ8"
    }"#;
    let c = gemini().decode_completion(body, "").unwrap();
    let v: Value = serde_json::from_str(&c.json).unwrap();
    assert_eq!(v["id"], "B_4saZqCLv3w4-EP8ta6gQ8");
    assert_eq!(v["model"], "gemini-2.5-flash");
    assert_eq!(v["object"], "chat.completion");
    let choice = &v["choices"][0];
    assert_eq!(choice["message"]["content"], "Hey there! How can I help?");
    assert_eq!(choice["message"]["reasoning_content"], "Let me think.");
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["provider_finish_reason"], "STOP");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 8, "completion_tokens": 103, "total_tokens": 111,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 93}})
    );
    assert_eq!(c.usage.unwrap().total_tokens, 111);
}

#[test]
fn decodes_function_calls_with_and_without_ids() {
    let body = br#"{
      "candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "U2lnbmF0dXJl"},
        {"functionCall": {"name": "get_time", "args": {"city": "Paris"}}},
        {"functionCall": {"id": "fc_given", "name": "noop"}}
      ]}, "finishReason": "STOP"}],
      "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18},
      "modelVersion": "gemini-3-flash-preview", "responseId": "r1"
    }"#;
    let c = gemini().decode_completion(body, "").unwrap();
    let v: Value = serde_json::from_str(&c.json).unwrap();
    let msg = &v["choices"][0]["message"];
    assert_eq!(msg["content"], Value::Null);
    assert_eq!(
        msg["tool_calls"],
        json!([
            {"id": "call_r1_0__thought__U2lnbmF0dXJl", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_r1_1", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "fc_given", "type": "function", "function": {"name": "noop", "arguments": "{}"}}
        ])
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn finish_reasons_and_blocks() {
    let answer = |reason: &str| {
        let body = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]});
        let c = gemini()
            .decode_completion(body.to_string().as_bytes(), "")
            .unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        v["choices"][0]["finish_reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(answer("MAX_TOKENS"), "length");
    for r in [
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
    ] {
        assert_eq!(answer(r), "content_filter", "{r}");
    }
    assert_eq!(answer("OTHER"), "stop");
    // A blocked prompt has no candidates: an error, with Gemini's feedback kept.
    let blocked =
        br#"{"promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "unsafe prompt",
        "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}"#;
    let err = gemini().decode_completion(blocked, "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentFilter);
    assert!(!err.retryable());
    assert_eq!(
        err.to_string(),
        "Gemini blocked the prompt (SAFETY): unsafe prompt"
    );
    let u = err.upstream().unwrap();
    assert_eq!(u.error_object().unwrap()["status"], "SAFETY");
    assert!(
        matches!(&u.body, UpstreamBody::Json(b) if b["promptFeedback"]["blockReason"] == "SAFETY")
    );
    let err = gemini().decode_completion(b"{}", "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    let err = gemini().decode_completion(b"<html>", "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
}

fn http_error(status: u16, body: Value) -> UpstreamError {
    let mut e = upstream_error(status, UpstreamBody::Json(body));
    gemini().classify(&mut e);
    e
}

#[test]
fn classifies_google_errors() {
    let e = http_error(
        429,
        json!({"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}]}}),
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, true));
    assert_eq!(e.retry_after, Some(Duration::from_secs(13)));
    let e = http_error(
        400,
        json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::Auth, false));
    let e = http_error(
        403,
        json!({"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}}),
    );
    assert_eq!(e.kind, ErrorKind::Auth);
    let e = http_error(
        401,
        json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
    );
    assert_eq!(e.kind, ErrorKind::Auth);
    let e = http_error(
        400,
        json!({"error": {"code": 400, "message": "The input token count (1196266) exceeds the maximum number of tokens allowed (1048575).", "status": "INVALID_ARGUMENT"}}),
    );
    assert_eq!(
        (e.kind, e.retryable),
        (ErrorKind::ContextLengthExceeded, false)
    );
    let e = http_error(
        400,
        json!({"error": {"code": 400, "message": "Invalid value at 'safety_settings[0].category'", "status": "INVALID_ARGUMENT"}}),
    );
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let e = http_error(
        503,
        json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}),
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::Overloaded, true));
    let e = http_error(
        500,
        json!({"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}),
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
    let e = http_error(
        404,
        json!({"error": {"code": 404, "message": "models/nope is not found", "status": "NOT_FOUND"}}),
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::NotFound, false));
}

#[test]
fn answers_without_a_model_version_name_the_requested_model() {
    let body =
        json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]});
    let w = gemini()
        .chat_request("https://g", Bytes::from(body.to_string()), false)
        .unwrap();
    assert_eq!(w.model.as_deref(), Some("gemini-2.5-flash"));
    let model_of = |body: &[u8]| {
        let c = gemini()
            .decode_completion(body, "gemini-2.5-flash")
            .unwrap();
        serde_json::from_str::<Value>(&c.json).unwrap()["model"].clone()
    };
    let unnamed = br#"{"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}], "responseId": "r1"}"#;
    assert_eq!(model_of(unnamed), "gemini-2.5-flash");
    // Gemini's own name for the model it ran wins when it gives one.
    let named = br#"{"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}], "responseId": "r1", "modelVersion": "gemini-2.5-flash-preview-09-2025"}"#;
    assert_eq!(model_of(named), "gemini-2.5-flash-preview-09-2025");
    let mut decoder = gemini().stream_decoder("gemini-2.5-flash");
    let mut sink = StreamSink::default();
    decoder
        .decode(
            &event(r#"{"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}], "responseId": "r2"}"#),
            &mut sink,
        )
        .unwrap();
    let batch: Value = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
    let chunks = batch.as_array().unwrap();
    assert!(!chunks.is_empty());
    assert!(chunks.iter().all(|c| c["model"] == "gemini-2.5-flash"));
}
