//! Whole Converse answers, and HTTP errors' kinds.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{provider, without_volatile};
use crate::error::{ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::bedrock::JSON_TOOL;
use crate::providers::ChatProvider;

#[test]
fn decodes_a_converse_response() {
    // Shaped as the Converse API reference documents it, with prompt caching and reasoning.
    let body = br#"{
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Need the weather tool.", "signature": "EqoBCkgIARABGAIiQL"}}},
            {"text": "Let me check."},
            {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "get_weather", "input": {"city": "Paris"}}}
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 12, "outputTokens": 40, "totalTokens": 1076, "cacheReadInputTokens": 1024, "cacheWriteInputTokens": 0},
        "metrics": {"latencyMs": 1175}
    }"#;
    let c = provider().decode_completion(body, "").unwrap();
    let json: Value = serde_json::from_str(&c.json).unwrap();
    assert!(json["id"]
        .as_str()
        .unwrap()
        .starts_with("chatcmpl-bedrock-"));
    assert_eq!(
        without_volatile(json),
        json!({
            "object": "chat.completion",
            "model": "",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me check.",
                    "reasoning_content": "Need the weather tool.",
                    "tool_calls": [{"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
                },
                "finish_reason": "tool_calls",
                "provider_finish_reason": "tool_use"
            }],
            "usage": {"prompt_tokens": 1036, "completion_tokens": 40, "total_tokens": 1076, "prompt_tokens_details": {"cached_tokens": 1024}}
        })
    );
    assert_eq!(c.usage.unwrap().cached_tokens(), 1024);
}

#[test]
fn stop_reasons_normalise() {
    let decode = |content: &str, stop: &str| {
        let body = format!(
            r#"{{"output":{{"message":{{"role":"assistant","content":{content}}}}},"stopReason":"{stop}","usage":{{"inputTokens":1,"outputTokens":2,"totalTokens":3}}}}"#
        );
        let v: Value = serde_json::from_str(
            &provider()
                .decode_completion(body.as_bytes(), "")
                .unwrap()
                .json,
        )
        .unwrap();
        (
            v["choices"][0]["finish_reason"].clone(),
            v["choices"][0]["message"]["content"].clone(),
        )
    };
    let text = r#"[{"text":"hi"}]"#;
    assert_eq!(decode(text, "end_turn"), (json!("stop"), json!("hi")));
    assert_eq!(decode(text, "stop_sequence").0, json!("stop"));
    assert_eq!(decode(text, "max_tokens").0, json!("length"));
    assert_eq!(
        decode(text, "model_context_window_exceeded").0,
        json!("length")
    );
    assert_eq!(
        decode(text, "guardrail_intervened").0,
        json!("content_filter")
    );
    assert_eq!(decode(text, "content_filtered").0, json!("content_filter"));
    assert_eq!(decode("[]", "end_turn"), (json!("stop"), json!("")));
    // The structured answer is the message text, and a plain stop.
    let answer = format!(
        r#"[{{"toolUse":{{"toolUseId":"tooluse_1","name":"{JSON_TOOL}","input":{{"city":"Paris","tempC":21}}}}}}]"#
    );
    assert_eq!(
        decode(&answer, "tool_use"),
        (json!("stop"), json!("{\"city\":\"Paris\",\"tempC\":21}"))
    );
}

#[test]
fn bad_completions_are_bad_responses() {
    for body in [
        &b"<html>gateway</html>"[..],
        br#"{"stopReason":"end_turn"}"#,
        br#"{"output":{}}"#,
    ] {
        let e = provider().decode_completion(body, "").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse, "{e}");
    }
}

#[test]
fn a_completion_names_the_requested_model() {
    // Converse answers do not name their model: the request's model id rides along on the wire
    // request (the id the URL names, whether a stream or not) into the answer.
    let model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    for stream in [false, true] {
        let wire = provider()
            .chat_request(
                "https://rt.test",
                Bytes::from(
                    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
                        .to_string(),
                ),
                stream,
            )
            .unwrap();
        assert_eq!(wire.model.as_deref(), Some(model), "stream {stream}");
    }
    let body = br#"{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}"#;
    let v: Value =
        serde_json::from_str(&provider().decode_completion(body, model).unwrap().json).unwrap();
    assert_eq!(v["model"], model);
    assert_eq!(v["choices"][0]["message"]["content"], "hi");
}

fn classified(status: u16, error_type: Option<&str>, body: Value) -> (ErrorKind, bool) {
    let mut e = UpstreamError {
        status: Some(status),
        headers: error_type
            .map(|t| {
                vec![(
                    "x-amzn-errortype".to_string(),
                    format!("{t}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                )]
            })
            .unwrap_or_default(),
        body: UpstreamBody::Json(body),
        kind: ErrorKind::from_status(status),
        retryable: false,
        retry_after: None,
    };
    provider().classify(&mut e);
    (e.kind, e.retryable)
}

#[test]
fn http_errors_are_classified_from_the_error_type_and_message() {
    let m = |s: &str| json!({"message": s});
    let cases = [
        (429, Some("ThrottlingException"), m("Too many requests, please wait before trying again."), ErrorKind::RateLimited, true),
        (429, Some("ModelNotReadyException"), m("Model is not ready"), ErrorKind::Overloaded, true),
        (503, Some("ServiceUnavailableException"), m("Bedrock is unable to process your request."), ErrorKind::Overloaded, true),
        (500, Some("InternalServerException"), m("Internal error"), ErrorKind::UpstreamError, true),
        (424, Some("ModelErrorException"), m("The model failed."), ErrorKind::UpstreamError, false),
        (408, Some("ModelTimeoutException"), m("Model timed out."), ErrorKind::Timeout, false),
        (403, Some("AccessDeniedException"), m("You don't have access to the model with the specified model ID."), ErrorKind::Auth, false),
        (403, Some("UnrecognizedClientException"), m("The security token included in the request is invalid."), ErrorKind::Auth, false),
        (403, Some("InvalidSignatureException"), m("The request signature we calculated does not match the signature you provided."), ErrorKind::Auth, false),
        (404, Some("ResourceNotFoundException"), m("Model not found"), ErrorKind::NotFound, false),
        (400, Some("ServiceQuotaExceededException"), m("Your request exceeds the service quota for your account."), ErrorKind::RateLimited, true),
        (400, Some("ValidationException"), m("The model returned the following errors: prompt is too long: 200049 tokens > 200000 maximum"), ErrorKind::ContextLengthExceeded, false),
        (400, Some("ValidationException"), m("Input is too long for requested model."), ErrorKind::ContextLengthExceeded, false),
        (400, Some("ValidationException"), m("This request has been blocked by our content filters."), ErrorKind::ContentFilter, false),
        (400, Some("ValidationException"), m("Malformed input request"), ErrorKind::InvalidRequest, false),
        // No header: the body's `__type`, then the status.
        (400, None, json!({"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}), ErrorKind::InvalidRequest, false),
        (429, None, m("slow down"), ErrorKind::RateLimited, true),
        (502, None, json!({}), ErrorKind::UpstreamError, true),
    ];
    for (status, t, body, kind, retry) in cases {
        assert_eq!(
            classified(status, t, body.clone()),
            (kind, retry),
            "{status} {t:?} {body}"
        );
    }
    let mut e = UpstreamError {
        status: Some(503),
        headers: vec![],
        body: UpstreamBody::Text("<html>Service Unavailable</html>".into()),
        kind: ErrorKind::UpstreamError,
        retryable: true,
        retry_after: None,
    };
    provider().classify(&mut e);
    assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
}
