//! The NDJSON stream, split every which way, and its errors.

use serde_json::{json, Value};

use super::super::stream::OllamaStream;
use crate::error::{Error, ErrorKind};
use crate::providers::test_support::decode_in_pieces;
use crate::providers::{Framing, StreamDecode};
use crate::stream::StreamSink;

/// Frames `transcript` in pieces of `piece` bytes, decodes it, and returns the chunks with the
/// per-stream `id` and `created` removed (and checked to be the same on every chunk).
fn run_stream(transcript: &str, piece: usize) -> (Vec<Value>, Result<(), Error>, StreamSink) {
    let mut decoder = OllamaStream::default();
    let (batch, outcome, sink) =
        decode_in_pieces(Framing::Ndjson, &mut decoder, transcript.as_bytes(), piece);
    let outcome = outcome.map(|_| ());
    let batch = batch.unwrap_or_else(|| "[]".into());
    let mut chunks: Vec<Value> = serde_json::from_str(&batch).unwrap();
    let first_id = chunks.first().map(|c| c["id"].clone());
    for c in &mut chunks {
        let obj = c.as_object_mut().unwrap();
        assert_eq!(Some(obj.remove("id").unwrap()), first_id);
        assert!(obj.remove("created").unwrap().is_u64());
    }
    (chunks, outcome, sink)
}

const TRANSCRIPT: &str = concat!(
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.097767Z","message":{"role":"assistant","content":"","thinking":"Paris: two lookups."},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.109172Z","message":{"role":"assistant","content":"Let me"},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.121485Z","message":{"role":"assistant","content":" check… "},"done":false}"#,
    "\r\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.132802Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_w1","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.143931Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"index":1,"name":"get_time","arguments":{"city":"Paris"}}}]},"done":false}"#,
    "\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.166576Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":40,"eval_duration":4535599000}"#,
    "\n",
    r#"{"model":"qwen3","created_at":"2025-10-26T17:15:24.2Z","message":{"role":"assistant","content":"ignored after done"},"done":false}"#,
);

fn chunk(delta: Value) -> Value {
    json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [{ "index": 0, "delta": delta, "finish_reason": null }] })
}

#[test]
fn a_stream_transcript_decodes_whatever_the_splits() {
    for piece in [1, 2, 3, 7, 64, 4096] {
        let (mut chunks, outcome, sink) = run_stream(TRANSCRIPT, piece);
        outcome.unwrap();
        // The id Ollama did not send is generated once, on the call's first chunk.
        let generated = chunks[6]["choices"][0]["delta"]["tool_calls"][0]["id"].take();
        assert!(generated.as_str().unwrap().starts_with("call_"));
        chunks[6]["choices"][0]["delta"]["tool_calls"][0]["id"] = json!("<generated>");
        let expected = vec![
            chunk(json!({ "role": "assistant", "content": "" })),
            chunk(json!({ "reasoning_content": "Paris: two lookups." })),
            chunk(json!({ "content": "Let me" })),
            chunk(json!({ "content": " check… " })),
            chunk(
                json!({ "tool_calls": [{ "index": 0, "id": "call_w1", "type": "function", "function": { "name": "get_weather", "arguments": "" } }] }),
            ),
            chunk(
                json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"city\":\"Paris\"}" } }] }),
            ),
            chunk(
                json!({ "tool_calls": [{ "index": 1, "id": "<generated>", "type": "function", "function": { "name": "get_time", "arguments": "" } }] }),
            ),
            chunk(
                json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"city\":\"Paris\"}" } }] }),
            ),
            json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "stop" }] }),
            json!({ "object": "chat.completion.chunk", "model": "qwen3", "choices": [], "usage": { "prompt_tokens": 26, "completion_tokens": 40, "total_tokens": 66 } }),
        ];
        assert_eq!(chunks, expected, "piece {piece}");
        let p = &sink.progress;
        assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (10, 14, 4));
        assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(p.usage.unwrap().total_tokens, 66);
    }
}

#[test]
fn a_text_stream_ends_with_stop_or_length() {
    let transcript = concat!(
        r#"{"model":"llama3.1","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
        "\n",
        r#"{"model":"llama3.1","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":" sky"},"done":true,"done_reason":"length","prompt_eval_count":26,"eval_count":2}"#,
        "\n",
    );
    let (chunks, outcome, _) = run_stream(transcript, 5);
    outcome.unwrap();
    assert_eq!(chunks.len(), 5);
    assert_eq!(chunks[2]["choices"][0]["delta"]["content"], " sky");
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "length");
    assert_eq!(chunks[3]["choices"][0]["provider_finish_reason"], "length");
}

#[test]
fn stream_errors_are_typed_and_a_cut_stream_is_not_clean() {
    // Ollama's mid-stream error, as its reference shows it.
    let transcript = concat!(
        r#"{"model":"gemma3","created_at":"2025-10-26T17:21:21.196249Z","message":{"role":"assistant","content":" Yes"},"done":false}"#,
        "\n",
        r#"{"error":"an error was encountered while running the model"}"#,
        "\n",
    );
    let (chunks, outcome, sink) = run_stream(transcript, 9);
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpstreamError);
    assert_eq!(
        err.to_string(),
        r#""an error was encountered while running the model""#
    );
    assert_eq!(err.upstream().unwrap().status, None);
    assert!(!err.retryable());
    assert_eq!(chunks.len(), 2);
    assert_eq!(sink.progress.content_chars, 4);

    let busy = r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#;
    let err = run_stream(busy, 100).1.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert!(err.retryable());

    let cut = run_stream(&TRANSCRIPT[..TRANSCRIPT.find("\n").unwrap()], 50);
    assert!(!OllamaStream::default().ended_cleanly(&cut.2.progress));
    assert_eq!(
        run_stream("not json\n", 3).1.unwrap_err().kind(),
        ErrorKind::BadResponse
    );
}
