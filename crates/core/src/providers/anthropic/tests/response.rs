//! Whole answers, error classification and the model list.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use super::super::response::finish_reason;
use super::super::{Anthropic, JSON_TOOL};
use crate::canonical::FinishReason;
use crate::error::{ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::support::rfc3339_unix_seconds as unix_seconds;
use crate::providers::ChatProvider;

fn completion(body: Value) -> Value {
    let c = Anthropic
        .decode_completion(body.to_string().as_bytes(), "")
        .unwrap();
    let v: Value = serde_json::from_str(&c.json).unwrap();
    assert_eq!(
        c.usage.map(|u| u.total_tokens),
        v["usage"]["total_tokens"].as_u64()
    );
    v
}

#[test]
fn a_text_answer_decodes() {
    // The Messages API reference example.
    let v = completion(json!({
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{ "type": "text", "text": "Hi! My name is Claude." }],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": { "input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0 },
    }));
    assert_eq!(v["id"], "msg_013Zva2CMHLNnXjNJJKqJ2EF");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(
        v["choices"][0],
        json!({ "index": 0, "message": { "role": "assistant", "content": "Hi! My name is Claude." },
                "finish_reason": "stop", "provider_finish_reason": "end_turn" })
    );
    assert_eq!(
        v["usage"],
        json!({ "prompt_tokens": 2095, "completion_tokens": 503, "total_tokens": 2598, "prompt_tokens_details": { "cached_tokens": 0 } })
    );
}

#[test]
fn tool_use_thinking_and_cache_usage_decode() {
    let v = completion(json!({
        "id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            { "type": "thinking", "thinking": "The user wants weather and time.", "signature": "EqQBCgIYAhIM" },
            { "type": "text", "text": "I'll check both." },
            { "type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": { "city": "Paris" } },
            { "type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {} },
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": { "input_tokens": 100, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 50, "output_tokens": 30,
                   "output_tokens_details": { "thinking_tokens": 12 } },
    }));
    let message = &v["choices"][0]["message"];
    assert_eq!(message["content"], "I'll check both.");
    assert_eq!(
        message["reasoning_content"],
        "The user wants weather and time."
    );
    assert_eq!(
        message["tool_calls"],
        json!([
            { "id": "toolu_01A09q90qw90lq917835lq9", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
            { "id": "toolu_01B", "type": "function", "function": { "name": "get_time", "arguments": "{}" } },
        ])
    );
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["choices"][0]["provider_finish_reason"], "tool_use");
    assert_eq!(
        v["usage"],
        json!({ "prompt_tokens": 170, "completion_tokens": 30, "total_tokens": 200,
                "prompt_tokens_details": { "cached_tokens": 50 }, "completion_tokens_details": { "reasoning_tokens": 12 } })
    );

    let v = completion(
        json!({ "id": "m", "model": "x", "content": [{ "type": "tool_use", "id": "t", "name": "f", "input": {} }],
        "stop_reason": "tool_use", "usage": { "input_tokens": 1, "output_tokens": 1 } }),
    );
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
}

#[test]
fn the_json_tool_answer_is_text_content() {
    let v = completion(json!({
        "id": "msg_x", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{ "type": "tool_use", "id": "toolu_x", "name": JSON_TOOL, "input": { "city": "Paris", "tempC": 21 } }],
        "stop_reason": "tool_use", "usage": { "input_tokens": 11, "output_tokens": 7 },
    }));
    let choice = &v["choices"][0];
    assert_eq!(
        serde_json::from_str::<Value>(choice["message"]["content"].as_str().unwrap()).unwrap(),
        json!({ "city": "Paris", "tempC": 21 })
    );
    assert!(choice["message"].get("tool_calls").is_none());
    assert_eq!(
        (
            choice["finish_reason"].clone(),
            choice["provider_finish_reason"].clone()
        ),
        (json!("stop"), json!("tool_use"))
    );
}

#[test]
fn stop_reasons_normalise() {
    for (raw, tools, want) in [
        ("end_turn", false, FinishReason::Stop),
        ("stop_sequence", false, FinishReason::Stop),
        ("pause_turn", false, FinishReason::Stop),
        ("tool_use", true, FinishReason::ToolCalls),
        ("tool_use", false, FinishReason::Stop),
        ("max_tokens", false, FinishReason::Length),
        ("model_context_window_exceeded", false, FinishReason::Length),
        ("refusal", false, FinishReason::ContentFilter),
    ] {
        assert_eq!(finish_reason(raw, tools), want, "{raw}");
    }
}

#[test]
fn bad_and_error_bodies_are_typed() {
    let e = Anthropic
        .decode_completion(b"<html>502</html>", "")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
    let e = Anthropic
        .decode_completion(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "",
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.retryable(), e.to_string()),
        (ErrorKind::Overloaded, true, "Overloaded".to_string())
    );
    let e = Anthropic
        .decode_completion(br#"{"id":"x","type":"message"}"#, "")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
}

fn http_error(status: u16, body: Value, headers: &[(&str, &str)]) -> UpstreamError {
    let header_map: HeaderMap = headers
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect();
    let mut e = UpstreamError {
        status: Some(status),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: UpstreamBody::Json(body),
        kind: ErrorKind::from_status(status),
        retryable: crate::retry::status_is_retryable(status, &header_map),
        retry_after: None,
    };
    Anthropic.classify(&mut e);
    e
}

fn body(kind: &str, message: &str) -> Value {
    json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy" })
}

#[test]
fn error_bodies_classify() {
    let cases = [
        (429, body("rate_limit_error", "This request would exceed your account's rate limit. Please try again later."), ErrorKind::RateLimited, true),
        (401, body("authentication_error", "invalid x-api-key"), ErrorKind::Auth, false),
        (403, body("permission_error", "Your API key does not have permission to use the specified resource."), ErrorKind::Auth, false),
        (404, body("not_found_error", "model: claude-nope"), ErrorKind::NotFound, false),
        (400, body("invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\""), ErrorKind::InvalidRequest, false),
        (400, body("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"), ErrorKind::ContextLengthExceeded, false),
        (400, body("invalid_request_error", "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again"), ErrorKind::ContextLengthExceeded, false),
        (400, body("invalid_request_error", "Output blocked by content filtering policy"), ErrorKind::ContentFilter, false),
        (413, body("request_too_large", "Request exceeds the maximum allowed number of bytes."), ErrorKind::InvalidRequest, false),
        (500, body("api_error", "Internal server error"), ErrorKind::UpstreamError, true),
        (529, body("overloaded_error", "Overloaded"), ErrorKind::Overloaded, true),
        (409, json!({ "error": { "message": "conflict" } }), ErrorKind::UpstreamError, false),
    ];
    for (status, body, kind, retryable) in cases {
        let e = http_error(status, body, &[]);
        assert_eq!(
            (e.kind, e.retryable),
            (kind, retryable),
            "{status} {:?}",
            e.body
        );
    }
    let e = http_error(
        429,
        body("rate_limit_error", "spend limit"),
        &[("x-should-retry", "false")],
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, false));
    let mut e = http_error(502, json!(null), &[]);
    e.body = UpstreamBody::Text("<html>bad gateway</html>".into());
    Anthropic.classify(&mut e);
    assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
}

#[test]
fn models_decode_to_an_openai_list() {
    let out = Anthropic
        .decode_models(
            json!({
                "data": [
                    { "type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z" },
                    { "type": "model", "id": "claude-3-haiku-20240307", "display_name": "Claude Haiku 3", "created_at": "2024-03-07T00:00:00Z", "max_input_tokens": 200000 },
                ],
                "has_more": false, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-3-haiku-20240307",
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(
        v["data"][0],
        json!({ "id": "claude-sonnet-4-5-20250929", "object": "model", "created": 1_759_104_000, "owned_by": "anthropic",
                "type": "model", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z" })
    );
    assert_eq!(v["data"][1]["max_input_tokens"], 200000);
    assert_eq!(v["data"][1]["created"], 1_709_769_600);
    let e = Anthropic
        .decode_models(
            body("authentication_error", "invalid x-api-key")
                .to_string()
                .as_bytes(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[test]
fn rfc3339_times_read_as_unix_seconds() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(unix_seconds("2000-02-29T12:34:56.789Z"), Some(951_827_696));
    assert_eq!(
        unix_seconds("2024-03-07T02:00:00+02:00"),
        Some(1_709_769_600)
    );
    assert_eq!(unix_seconds("yesterday"), None);
}
