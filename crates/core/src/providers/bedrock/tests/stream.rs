//! ConverseStream transcripts, split at every size, and stream exceptions.

use serde_json::{json, Value};

use super::{provider, without_volatile};
use crate::error::{Error, ErrorKind};
use crate::eventstream::tests::{event as frame, exception as exception_frame};
use crate::providers::bedrock::JSON_TOOL;
use crate::providers::test_support::decode_in_pieces;
use crate::providers::{ChatProvider, EventOutcome, Framing};
use crate::stream::StreamSink;

/// Binary frames → framing (split in `piece`-byte chunks) → the decoder → canonical chunks.
fn run_stream(
    frames: &[Vec<u8>],
    piece: usize,
) -> (Result<EventOutcome, Error>, Vec<Value>, StreamSink) {
    run_stream_for("", frames, piece)
}

/// [`run_stream`] with a decoder for `model` (what [`crate::providers::WireRequest::model`]
/// hands it).
fn run_stream_for(
    model: &str,
    frames: &[Vec<u8>],
    piece: usize,
) -> (Result<EventOutcome, Error>, Vec<Value>, StreamSink) {
    let mut decoder = provider().stream_decoder(model);
    let (batch, outcome, sink) = decode_in_pieces(
        Framing::AwsEventStream,
        decoder.as_mut(),
        &frames.concat(),
        piece,
    );
    let chunks = batch
        .map(|b| serde_json::from_str::<Value>(&b).unwrap())
        .map(without_volatile)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let clean = decoder.ended_cleanly(&sink.progress);
    assert_eq!(clean, sink.progress.finish_reason.is_some());
    (outcome, chunks, sink)
}

fn chunk(delta: Value) -> Value {
    json!({"object": "chat.completion.chunk", "model": "", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
}

/// A ConverseStream transcript as Bedrock sends it: text, two tool calls, the stop reason,
/// then usage, every payload padded with `p`.
fn transcript() -> Vec<Vec<u8>> {
    vec![
        frame("messageStart", r#"{"p":"abcdefgh","role":"assistant"}"#),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Two lookups."}},"p":"abc"}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqoB"}},"p":"abc"}"#,
        ),
        frame("contentBlockStop", r#"{"contentBlockIndex":0,"p":"ab"}"#),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"text":"Checking"},"p":"abcdefghijk"}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"text":" both."},"p":"abcdefghijklmnopqr"}"#,
        ),
        frame(
            "contentBlockStop",
            r#"{"contentBlockIndex":1,"p":"abcdefghijklmnopqrstuvwxy"}"#,
        ),
        frame(
            "contentBlockStart",
            r#"{"contentBlockIndex":2,"p":"abc","start":{"toolUse":{"name":"get_weather","toolUseId":"tooluse_w1"}}}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":""}},"p":"abcd"}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\": \"Pa"}},"p":"abcd"}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"ris\"}"}},"p":"abcd"}"#,
        ),
        frame("contentBlockStop", r#"{"contentBlockIndex":2,"p":"abcd"}"#),
        frame(
            "contentBlockStart",
            r#"{"contentBlockIndex":3,"start":{"toolUse":{"name":"get_time","toolUseId":"tooluse_t1"}},"p":"a"}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{\"city\":\"Paris\"}"}},"p":"abcd"}"#,
        ),
        frame("contentBlockStop", r#"{"contentBlockIndex":3,"p":"abcd"}"#),
        frame(
            "messageStop",
            r#"{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM","stopReason":"tool_use"}"#,
        ),
        frame(
            "metadata",
            r#"{"metrics":{"latencyMs":1516},"p":"abcdefghijk","usage":{"inputTokens":420,"outputTokens":96,"totalTokens":516}}"#,
        ),
    ]
}

#[test]
fn a_stream_transcript_becomes_canonical_chunks_at_any_split() {
    let expected = vec![
        chunk(json!({"role": "assistant", "content": ""})),
        chunk(json!({"reasoning_content": "Two lookups."})),
        chunk(json!({"content": "Checking"})),
        chunk(json!({"content": " both."})),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "tooluse_w1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \"Pa"}}]})),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ris\"}"}}]})),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "tooluse_t1", "type": "function", "function": {"name": "get_time", "arguments": ""}}]}),
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\":\"Paris\"}"}}]}),
        ),
        json!({"object": "chat.completion.chunk", "model": "", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "tool_use"}]}),
        json!({"object": "chat.completion.chunk", "model": "", "choices": [], "usage": {"prompt_tokens": 420, "completion_tokens": 96, "total_tokens": 516}}),
    ];
    let frames = transcript();
    let total: usize = frames.iter().map(Vec::len).sum();
    for piece in [1, 2, 3, 7, 16, 100, total] {
        let (outcome, chunks, sink) = run_stream(&frames, piece);
        assert_eq!(outcome.unwrap(), EventOutcome::Done, "piece {piece}");
        assert_eq!(chunks, expected, "piece {piece}");
        let p = &sink.progress;
        assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (11, 14, 5));
        assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(p.usage.unwrap().total_tokens, 516);
    }
}

#[test]
fn a_structured_answer_streams_as_text() {
    let frames = vec![
        frame("messageStart", r#"{"role":"assistant"}"#),
        frame(
            "contentBlockStart",
            &format!(
                r#"{{"contentBlockIndex":0,"start":{{"toolUse":{{"name":"{JSON_TOOL}","toolUseId":"tooluse_j"}}}}}}"#
            ),
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"city\":"}}}"#,
        ),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#,
        ),
        frame("contentBlockStop", r#"{"contentBlockIndex":0}"#),
        frame("messageStop", r#"{"stopReason":"tool_use"}"#),
        frame(
            "metadata",
            r#"{"usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14,"cacheReadInputTokens":3}}"#,
        ),
    ];
    let (outcome, chunks, sink) = run_stream(&frames, 5);
    assert_eq!(outcome.unwrap(), EventOutcome::Done);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, r#"{"city":"Paris"}"#);
    assert_eq!(sink.progress.tool_call_deltas, 0);
    assert_eq!(sink.progress.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        chunks.last().unwrap()["usage"],
        json!({"prompt_tokens": 8, "completion_tokens": 9, "total_tokens": 17, "prompt_tokens_details": {"cached_tokens": 3}})
    );
}

#[test]
fn a_stream_without_its_stop_is_not_clean_and_unknown_events_pass() {
    let frames = vec![
        frame("messageStart", r#"{"role":"assistant"}"#),
        frame("someFutureEvent", r#"{"x":1}"#),
        frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"partial"}}"#,
        ),
    ];
    let (outcome, chunks, sink) = run_stream(&frames, 4);
    assert_eq!(outcome.unwrap(), EventOutcome::Continue);
    assert_eq!(chunks.len(), 2);
    assert!(!provider().stream_decoder("").ended_cleanly(&sink.progress));
    // Usage before the stop does not end the stream.
    let frames = vec![frame(
        "metadata",
        r#"{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"#,
    )];
    assert_eq!(run_stream(&frames, 9).0.unwrap(), EventOutcome::Continue);
    // Garbage and orphan tool input are bad responses.
    let e = run_stream(&[frame("contentBlockDelta", "not json")], 9)
        .0
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
    let e = run_stream(
        &[frame(
            "contentBlockDelta",
            r#"{"contentBlockIndex":4,"delta":{"toolUse":{"input":"{}"}}}"#,
        )],
        9,
    )
    .0
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
}

#[test]
fn stream_exceptions_are_typed_upstream_errors() {
    let cases = [
        (
            "throttlingException",
            "Too many requests, please wait before trying again.",
            ErrorKind::RateLimited,
            true,
        ),
        (
            "serviceUnavailableException",
            "Bedrock is unable to process your request.",
            ErrorKind::Overloaded,
            true,
        ),
        (
            "modelNotReadyException",
            "Model is not ready.",
            ErrorKind::Overloaded,
            true,
        ),
        (
            "internalServerException",
            "Internal server error",
            ErrorKind::UpstreamError,
            true,
        ),
        (
            "modelStreamErrorException",
            "The model stream failed.",
            ErrorKind::UpstreamError,
            false,
        ),
        (
            "validationException",
            "The model returned the following errors: Input is too long for requested model.",
            ErrorKind::ContextLengthExceeded,
            false,
        ),
        (
            "validationException",
            "This request has been blocked by our content filters.",
            ErrorKind::ContentFilter,
            false,
        ),
        (
            "validationException",
            "messages: text content blocks must contain non-whitespace text",
            ErrorKind::InvalidRequest,
            false,
        ),
    ];
    for (name, message, kind, retry) in cases {
        let payload = json!({"message": message}).to_string();
        let frames = vec![
            frame("messageStart", r#"{"role":"assistant"}"#),
            frame(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
            ),
            exception_frame(name, &payload),
        ];
        let (outcome, chunks, _) = run_stream(&frames, 11);
        let e = outcome.unwrap_err();
        assert_eq!(
            (e.kind(), e.retryable()),
            (kind, retry),
            "{name}: {message}"
        );
        assert_eq!(e.to_string(), message);
        let u = e.upstream().unwrap();
        assert_eq!(u.status, None);
        assert_eq!(u.error_object().unwrap()["type"], name);
        assert_eq!(
            chunks.len(),
            2,
            "what came before the exception is delivered"
        );
    }
    // An `error` message (`:message-type error`).
    let error = crate::eventstream::tests::encode(
        &[
            (
                ":message-type",
                crate::eventstream::tests::Value::Str("error".into()),
            ),
            (
                ":error-code",
                crate::eventstream::tests::Value::Str("InternalFailure".into()),
            ),
            (
                ":error-message",
                crate::eventstream::tests::Value::Str("boom".into()),
            ),
        ],
        b"",
    );
    let e = run_stream(&[error], 3).0.unwrap_err();
    assert_eq!(
        (e.kind(), e.retryable(), e.to_string()),
        (ErrorKind::UpstreamError, true, "boom".to_string())
    );
}

#[test]
fn stream_chunks_name_the_requested_model() {
    // ConverseStream events never name the model: every chunk carries the request's model id.
    let model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    let (outcome, chunks, _) = run_stream_for(model, &transcript(), 13);
    assert_eq!(outcome.unwrap(), EventOutcome::Done);
    assert_eq!(chunks.len(), 11);
    for c in &chunks {
        assert_eq!(c["model"], model, "{c}");
    }
}
