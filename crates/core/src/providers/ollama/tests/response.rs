//! Whole answers, in-band errors and the classification of error bodies.

use serde_json::{json, Value};

use super::super::response::decode_completion;
use super::super::Ollama;
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::test_support::upstream_error;
use crate::providers::ChatProvider;

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

    let e = decode_completion(br#"{"error":"model \"llama3\" not found, try pulling it first"}"#)
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

fn classified(status: u16, body: UpstreamBody) -> UpstreamError {
    let mut e = upstream_error(status, body);
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
