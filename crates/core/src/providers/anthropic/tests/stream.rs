//! The SSE stream, fed in pieces of every size.

use serde_json::{json, Value};

use super::super::{Anthropic, AnthropicStream, JSON_TOOL};
use crate::error::{Error, ErrorKind};
use crate::providers::test_support::decode_in_pieces;
use crate::providers::{ChatProvider, EventOutcome, Framing, StreamDecode};
use crate::stream::StreamSink;

/// Decode an SSE body split into `piece`-byte chunks; the chunks' JSON, with `created` zeroed.
fn decode_sse(sse: &str, piece: usize) -> (Vec<Value>, Result<EventOutcome, Error>, StreamSink) {
    let mut decoder = Anthropic.stream_decoder("");
    let (batch, outcome, sink) =
        decode_in_pieces(Framing::Sse, decoder.as_mut(), sse.as_bytes(), piece);
    let chunks = batch
        .map(|b| serde_json::from_str::<Vec<Value>>(&b).unwrap())
        .unwrap_or_default()
        .into_iter()
        .map(|mut c| {
            c["created"] = json!(0);
            c
        })
        .collect();
    (chunks, outcome, sink)
}

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

fn choice(delta: Value) -> Value {
    json!([{ "index": 0, "delta": delta, "finish_reason": null }])
}

#[test]
fn a_text_stream_decodes_whatever_the_splits() {
    // The shape of the streaming reference's basic example.
    let body = sse(&[
        json!({ "type": "message_start", "message": { "id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant",
            "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null,
            "usage": { "input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 5, "output_tokens": 1 } } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
        json!({ "type": "ping" }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "Héllo" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": " 世界!" } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "end_turn", "stop_sequence": null }, "usage": { "output_tokens": 15 } }),
        json!({ "type": "message_stop" }),
    ]);
    let (expected, outcome, sink) = decode_sse(&body, body.len());
    assert!(matches!(outcome, Ok(EventOutcome::Done)));
    let head = |c: &Value| (c["id"].clone(), c["object"].clone(), c["model"].clone());
    assert!(expected.iter().all(|c| head(c)
        == (
            json!("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"),
            json!("chat.completion.chunk"),
            json!("claude-opus-4-6")
        )));
    let choices: Vec<Value> = expected.iter().map(|c| c["choices"].clone()).collect();
    assert_eq!(
        choices,
        vec![
            choice(json!({ "role": "assistant", "content": "" })),
            choice(json!({ "content": "Héllo" })),
            choice(json!({ "content": " 世界!" })),
            json!([{ "index": 0, "delta": {}, "finish_reason": "stop", "provider_finish_reason": "end_turn" }]),
            json!([]),
        ]
    );
    assert_eq!(
        expected[4]["usage"],
        json!({ "prompt_tokens": 30, "completion_tokens": 15, "total_tokens": 45, "prompt_tokens_details": { "cached_tokens": 5 } })
    );
    let p = &sink.progress;
    assert_eq!(
        (p.chunks, p.content_chars, p.finish_reason.as_deref()),
        (5, 9, Some("stop"))
    );
    assert_eq!(p.usage.map(|u| u.total_tokens), Some(45));
    for piece in [1, 2, 3, 7, 16, 64] {
        assert_eq!(decode_sse(&body, piece).0, expected, "piece {piece}");
    }
}

#[test]
fn a_tool_stream_indexes_calls_in_order() {
    let body = sse(&[
        json!({ "type": "message_start", "message": { "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "stop_sequence": null, "usage": { "input_tokens": 472, "output_tokens": 2 }, "content": [], "stop_reason": null } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "thinking", "thinking": "" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "thinking_delta", "thinking": "Two lookups." } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "text", "text": "" } }),
        json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "text_delta", "text": "Checking." } }),
        json!({ "type": "content_block_stop", "index": 1 }),
        json!({ "type": "content_block_start", "index": 2, "content_block": { "type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {} } }),
        json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "" } }),
        json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "{\"city\": \"Par" } }),
        json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "is\"}" } }),
        json!({ "type": "content_block_stop", "index": 2 }),
        json!({ "type": "content_block_start", "index": 3, "content_block": { "type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {} } }),
        json!({ "type": "content_block_delta", "index": 3, "delta": { "type": "input_json_delta", "partial_json": "" } }),
        json!({ "type": "content_block_stop", "index": 3 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null }, "usage": { "output_tokens": 89 } }),
        json!({ "type": "message_stop" }),
    ]);
    let (chunks, outcome, sink) = decode_sse(&body, 13);
    assert!(matches!(outcome, Ok(EventOutcome::Done)));
    let choices: Vec<Value> = chunks.iter().map(|c| c["choices"].clone()).collect();
    let call = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut c = json!({ "index": index, "function": { "arguments": args } });
        if let (Some(id), Some(name)) = (id, name) {
            c["id"] = json!(id);
            c["type"] = json!("function");
            c["function"]["name"] = json!(name);
        }
        choice(json!({ "tool_calls": [c] }))
    };
    assert_eq!(
        choices,
        vec![
            choice(json!({ "role": "assistant", "content": "" })),
            choice(json!({ "reasoning_content": "Two lookups." })),
            choice(json!({ "content": "Checking." })),
            call(
                0,
                Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6"),
                Some("get_weather"),
                ""
            ),
            call(0, None, None, "{\"city\": \"Par"),
            call(0, None, None, "is\"}"),
            call(1, Some("toolu_02"), Some("get_time"), ""),
            call(1, None, None, "{}"),
            json!([{ "index": 0, "delta": {}, "finish_reason": "tool_calls", "provider_finish_reason": "tool_use" }]),
            json!([]),
        ]
    );
    assert_eq!(chunks[9]["usage"]["total_tokens"], 472 + 89);
    assert_eq!(sink.progress.tool_call_deltas, 5);
}

#[test]
fn a_structured_stream_is_text() {
    // The shape of a forced-tool stream (Vercel AI SDK's recorded json-tool fixture).
    let body = sse(&[
        json!({ "type": "message_start", "message": { "model": "claude-haiku-4-5-20251001", "id": "msg_01K2JbSUMYhez5RHoK9ZCj9U", "type": "message",
            "role": "assistant", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": { "input_tokens": 849, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                "cache_creation": { "ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0 }, "output_tokens": 10, "service_tier": "standard" } } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "tool_use", "id": "toolu_01KFbKqPYSuAKujiL6mTfzYA", "name": JSON_TOOL, "input": {} } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "" } }),
        json!({ "type": "ping" }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "{\"city\": \"Paris\", \"tempC\": 21" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": "}" } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null },
            "usage": { "input_tokens": 849, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 47 } }),
        json!({ "type": "message_stop" }),
    ]);
    let (chunks, _, sink) = decode_sse(&body, 5);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({ "city": "Paris", "tempC": 21 })
    );
    assert!(chunks
        .iter()
        .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()));
    assert_eq!(sink.progress.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        sink.progress
            .usage
            .map(|u| (u.prompt_tokens, u.completion_tokens)),
        Some((849, 47))
    );
}

#[test]
fn stream_error_events_are_typed() {
    let body = format!(
        "{}event: error\ndata: {}\n\n",
        sse(&[
            json!({ "type": "message_start", "message": { "id": "msg_1", "model": "claude-haiku-4-5", "content": [], "usage": { "input_tokens": 3, "output_tokens": 1 } } }),
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "partial" } }),
        ]),
        json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } })
    );
    let (chunks, outcome, sink) = decode_sse(&body, 9);
    assert_eq!(chunks.len(), 2);
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.kind(), e.retryable(), e.to_string()),
        (ErrorKind::Overloaded, true, "Overloaded".to_string())
    );
    assert_eq!(e.upstream().unwrap().status, None);
    assert_eq!(sink.progress.content_chars, 7);

    let (_, outcome, _) = decode_sse("event: content_block_delta\ndata: {not json\n\n", 4);
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::BadResponse);
    // Unknown event types are skipped, per Anthropic's versioning policy.
    let (chunks, outcome, _) = decode_sse(
        "event: brand_new\ndata: {\"type\":\"brand_new\",\"x\":1}\n\n",
        64,
    );
    assert!(chunks.is_empty() && matches!(outcome, Ok(EventOutcome::Continue)));
}

#[test]
fn a_stream_without_a_stop_reason_did_not_end_cleanly() {
    let body = sse(&[
        json!({ "type": "message_start", "message": { "id": "msg_1", "model": "m", "content": [], "usage": { "input_tokens": 3 } } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "cut" } }),
    ]);
    let (_, outcome, sink) = decode_sse(&body, 64);
    assert!(matches!(outcome, Ok(EventOutcome::Continue)));
    assert!(!AnthropicStream::default().ended_cleanly(&sink.progress));
}
