//! Whole answers, finish reasons, error bodies and error classification.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::providers::cohere::Cohere;
use crate::providers::test_support::upstream_error;
use crate::providers::{ChatProvider, EventOutcome};
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

fn completion(body: Value) -> Result<(Value, Option<Usage>), Error> {
    let c = Cohere.decode_completion(body.to_string().as_bytes(), "")?;
    Ok((serde_json::from_str(&c.json).unwrap(), c.usage))
}

#[test]
fn decodes_a_text_answer_with_billed_usage() {
    let (out, usage) = completion(json!({
        "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
        "finish_reason": "COMPLETE",
        "message": {
            "role": "assistant",
            "content": [{"type": "text", "text": "LLMs stand for Large Language Models."}]
        },
        "usage": {
            "billed_units": {"input_tokens": 17, "output_tokens": 386},
            "tokens": {"input_tokens": 83, "output_tokens": 386},
            "cached_tokens": 64
        }
    }))
    .unwrap();
    assert_eq!(out["id"], "c14c80c3-18eb-4519-9460-6c92edd8cfb4");
    assert_eq!(out["object"], "chat.completion");
    let choice = &out["choices"][0];
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "LLMs stand for Large Language Models."})
    );
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["provider_finish_reason"], "COMPLETE");
    assert_eq!(
        out["usage"],
        json!({"prompt_tokens": 17, "completion_tokens": 386, "total_tokens": 403, "prompt_tokens_details": {"cached_tokens": 64}})
    );
    assert_eq!(usage.unwrap().total_tokens, 403);
}

#[test]
fn decodes_tool_calls_plans_and_thinking() {
    let (out, _) = completion(json!({
        "id": "x1",
        "finish_reason": "TOOL_CALL",
        "message": {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "The user wants weather."}],
            "tool_plan": "I will check the weather and the time.",
            "tool_calls": [
                {"id": "get_weather_1byjy32y4hvq", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "get_time_5bdwbeq4wrfy", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}}
            ]
        },
        "usage": {"tokens": {"input_tokens": 11.0, "output_tokens": 7.0}}
    }))
    .unwrap();
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["provider_finish_reason"], "TOOL_CALL");
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["message"]["reasoning_content"],
        "The user wants weather.\n\nI will check the weather and the time."
    );
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([
            {"id": "get_weather_1byjy32y4hvq", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "get_time_5bdwbeq4wrfy", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}}
        ])
    );
    assert_eq!(out["usage"]["total_tokens"], 18);
}

#[test]
fn finish_reasons_are_normalised_and_failures_raised() {
    let answer = |reason: &str| {
        completion(
            json!({"id": "x", "finish_reason": reason, "message": {"role": "assistant", "content": [{"type": "text", "text": "partial"}]}}),
        )
    };
    for (raw, normal) in [
        ("MAX_TOKENS", "length"),
        ("STOP_SEQUENCE", "stop"),
        ("SOMETHING_NEW", "stop"),
    ] {
        let (out, _) = answer(raw).unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], normal, "{raw}");
        assert_eq!(out["choices"][0]["provider_finish_reason"], raw);
    }
    let err = answer("ERROR").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpstreamError);
    assert!(err.retryable());
    assert!(err.to_string().contains("ERROR"), "{err}");
    assert_eq!(answer("TIMEOUT").unwrap_err().kind(), ErrorKind::Timeout);
}

#[test]
fn bad_and_error_bodies_are_typed() {
    let err = Cohere
        .decode_completion(b"<html>oops</html>", "")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    let err = Cohere.decode_completion(br#"{"id":"x"}"#, "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    let err = Cohere
        .decode_completion(br#"{"id":"e1","message":"too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292."}"#, "")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContextLengthExceeded);
    assert!(!err.retryable());
    assert!(err.to_string().starts_with("too many tokens"), "{err}");
}

fn upstream(status: u16, body: Value) -> UpstreamError {
    let mut e = upstream_error(status, UpstreamBody::Json(body));
    Cohere.classify(&mut e);
    e
}

#[test]
fn errors_are_classified_from_status_and_message() {
    let cases = [
        (429, "You are using a Trial key, which is limited to 40 API calls / minute.", ErrorKind::RateLimited, true),
        (429, "trial token rate limit exceeded, limit is 100000 tokens per minute", ErrorKind::RateLimited, true),
        (401, "invalid api token", ErrorKind::Auth, false),
        (400, "no api key supplied", ErrorKind::Auth, false),
        (400, "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292.", ErrorKind::ContextLengthExceeded, false),
        (400, "invalid request: temperature must be between 0 and 1.0 inclusive.", ErrorKind::InvalidRequest, false),
        (404, "model 'xyz' not found, make sure the correct model ID was used", ErrorKind::NotFound, false),
        (498, "blocked output: please adjust your prompt and try again", ErrorKind::ContentFilter, false),
        (400, "blocked input: please adjust your prompt and try again, as it may be a potential violation of our Usage Guidelines", ErrorKind::ContentFilter, false),
        (499, "request cancelled", ErrorKind::UpstreamError, false),
        (500, "internal server error", ErrorKind::UpstreamError, true),
        (503, "service unavailable", ErrorKind::Overloaded, true),
    ];
    for (status, message, kind, retryable) in cases {
        let e = upstream(status, json!({"id": "e-1", "message": message}));
        assert_eq!(
            (e.kind, e.retryable),
            (kind, retryable),
            "{status} {message}"
        );
    }
    let mut text = UpstreamError {
        status: Some(502),
        headers: Vec::new(),
        body: UpstreamBody::Text("<html>bad gateway</html>".into()),
        kind: ErrorKind::UpstreamError,
        retryable: true,
        retry_after: None,
    };
    Cohere.classify(&mut text);
    assert_eq!(
        (text.kind, text.retryable),
        (ErrorKind::UpstreamError, true)
    );
    // An OpenAI-shaped body from a proxy in front of Cohere.
    let e = upstream(
        400,
        json!({"error": {"message": "x", "code": "context_length_exceeded"}}),
    );
    assert_eq!(e.kind, ErrorKind::ContextLengthExceeded);
}

#[test]
fn answers_name_the_model_that_was_asked_for() {
    const MODEL: &str = "command-a-03-2025";
    // Cohere's answers and stream events do not name their model: the request carries it to the
    // decoders.
    for stream in [false, true] {
        let wire = Cohere
            .chat_request(
                "https://api.cohere.com",
                Bytes::from(
                    json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
                        .to_string(),
                ),
                stream,
            )
            .unwrap();
        assert_eq!(wire.model.as_deref(), Some(MODEL), "stream {stream}");
    }

    let answer = json!({
        "id": "x1",
        "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}
    });
    let c = Cohere
        .decode_completion(answer.to_string().as_bytes(), MODEL)
        .unwrap();
    let out: Value = serde_json::from_str(&c.json).unwrap();
    assert_eq!(out["model"], MODEL);

    let mut decoder = Cohere.stream_decoder(MODEL);
    let mut sink = StreamSink::default();
    let mut outcome = EventOutcome::Continue;
    for data in [
        json!({"id": "m1", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
        json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "hello"}}}}),
        json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 1}}}}),
    ] {
        let event = SseEvent {
            event: data["type"].as_str().map(String::from),
            data: data.to_string(),
            id: None,
        };
        outcome = decoder.decode(&event, &mut sink).unwrap();
    }
    assert_eq!(outcome, EventOutcome::Done);
    let chunks: Vec<Value> = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
    assert_eq!(chunks.len(), 4, "{chunks:?}");
    for chunk in &chunks {
        assert_eq!(chunk["model"], MODEL, "{chunk}");
    }
}
