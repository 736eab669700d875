//! Streams: typed SSE events in any split, parallel tool calls, failures and noise.

use serde_json::{json, Value};

use crate::error::{Error, ErrorKind};
use crate::providers::cohere::Cohere;
use crate::providers::test_support::decode_in_pieces;
use crate::providers::{ChatProvider, EventOutcome};
use crate::sse::SseEvent;
use crate::stream::{StreamProgress, StreamSink};

/// Feeds `input` through the framing in `piece`-byte chunks and decodes every event.
fn run_stream(
    input: &str,
    piece: usize,
) -> (Vec<Value>, Result<EventOutcome, Error>, StreamProgress) {
    let mut decoder = Cohere.stream_decoder("");
    let (batch, outcome, sink) =
        decode_in_pieces(Cohere.framing(), decoder.as_mut(), input.as_bytes(), piece);
    let chunks = batch
        .map(|b| serde_json::from_str::<Vec<Value>>(&b).unwrap())
        .unwrap_or_default();
    (chunks, outcome, sink.progress.clone())
}

fn sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect()
}

fn text_events() -> Vec<Value> {
    vec![
        json!({"id": "a8fc192e-4bb8-4e15-ae1f-a174e8b02ae8", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Coca"}}}}),
        json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "-Cola é"}}}}),
        json!({"type": "citation-start", "index": 0, "delta": {"message": {"citations": {"start": 0, "end": 4, "text": "Coca", "sources": []}}}}),
        json!({"type": "citation-end", "index": 0}),
        json!({"type": "content-end", "index": 0}),
        json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 21, "output_tokens": 105}, "tokens": {"input_tokens": 186, "output_tokens": 105}}}}),
    ]
}

fn delta(chunk: &Value) -> &Value {
    &chunk["choices"][0]["delta"]
}

#[test]
fn a_text_stream_decodes_whatever_the_splits() {
    let as_sse = sse(&text_events());
    let crlf = as_sse.replace('\n', "\r\n");
    for input in [&as_sse, &crlf] {
        for piece in [1, 2, 7, 64, input.len()] {
            let (chunks, outcome, progress) = run_stream(input, piece);
            assert_eq!(outcome.unwrap(), EventOutcome::Done, "piece {piece}");
            assert_eq!(chunks.len(), 5, "piece {piece}: {chunks:?}");
            assert_eq!(chunks[0]["id"], "a8fc192e-4bb8-4e15-ae1f-a174e8b02ae8");
            assert_eq!(chunks[0]["object"], "chat.completion.chunk");
            assert_eq!(
                *delta(&chunks[0]),
                json!({"role": "assistant", "content": ""})
            );
            assert_eq!(*delta(&chunks[1]), json!({"content": "Coca"}));
            assert_eq!(*delta(&chunks[2]), json!({"content": "-Cola é"}));
            assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
            assert_eq!(
                chunks[3]["choices"][0]["provider_finish_reason"],
                "COMPLETE"
            );
            assert_eq!(chunks[4]["choices"], json!([]));
            assert_eq!(
                chunks[4]["usage"],
                json!({"prompt_tokens": 21, "completion_tokens": 105, "total_tokens": 126})
            );
            assert_eq!((progress.content_chars, progress.chunks), (11, 5));
            assert_eq!(progress.finish_reason.as_deref(), Some("stop"));
        }
    }
}

#[test]
fn a_parallel_tool_call_stream_keeps_ids_names_and_fragments_per_index() {
    let events = vec![
        json!({"id": "m1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
        json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
        json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": " check."}}}),
        json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "get_weather_nsz5zm3w56q3", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
        json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\n    \""}}}}}),
        json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "city\": \"Paris\"}"}}}}}),
        json!({"type": "tool-call-end", "index": 0}),
        json!({"type": "tool-call-start", "index": 1, "delta": {"message": {"tool_calls": {"id": "get_time_8fkq4cr1s2x0", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":"}}}}}),
        json!({"type": "tool-call-delta", "index": 1, "delta": {"message": {"tool_calls": {"function": {"arguments": "\"Paris\"}"}}}}}),
        json!({"type": "tool-call-end", "index": 1}),
        json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {"billed_units": {"input_tokens": 11, "output_tokens": 7}, "tokens": {"input_tokens": 900, "output_tokens": 40}}}}),
    ];
    let (chunks, outcome, progress) = run_stream(&sse(&events), 5);
    assert_eq!(outcome.unwrap(), EventOutcome::Done);
    let deltas: Vec<&Value> = chunks.iter().map(delta).collect();
    assert_eq!(*deltas[1], json!({"reasoning_content": "I will"}));
    assert_eq!(*deltas[2], json!({"reasoning_content": " check."}));
    assert_eq!(
        *deltas[3],
        json!({"tool_calls": [{"index": 0, "id": "get_weather_nsz5zm3w56q3", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        *deltas[4],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\n    \""}}]})
    );
    assert_eq!(
        *deltas[6],
        json!({"tool_calls": [{"index": 1, "id": "get_time_8fkq4cr1s2x0", "type": "function", "function": {"name": "get_time", "arguments": ""}}]})
    );
    assert_eq!(
        *deltas[7],
        json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\":"}}]})
    );
    assert_eq!(
        *deltas[8],
        json!({"tool_calls": [{"index": 1, "function": {"arguments": "\"Paris\"}"}}]})
    );
    assert_eq!(chunks[9]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[10]["usage"]["total_tokens"], 18);
    assert_eq!(chunks.len(), 11);
    assert_eq!(progress.tool_call_deltas, 6);
}

#[test]
fn stream_failures_are_typed_and_come_after_what_was_delivered() {
    let mut events = text_events();
    events.truncate(4);
    events.push(json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal generation failure"}}));
    let (chunks, outcome, progress) = run_stream(&sse(&events), 9);
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpstreamError);
    assert_eq!(err.to_string(), "internal generation failure");
    assert_eq!((chunks.len(), progress.content_chars), (3, 11));
    assert_eq!(progress.finish_reason, None);

    let (_, outcome, _) = run_stream(
        "data: {\"message\":\"too many tokens: size limit exceeded by 11326 tokens.\"}\n\n",
        3,
    );
    assert_eq!(
        outcome.unwrap_err().kind(),
        ErrorKind::ContextLengthExceeded
    );

    let mut decoder = Cohere.stream_decoder("");
    let mut sink = StreamSink::default();
    let event = SseEvent {
        event: Some("error".into()),
        data: r#"{"message":"overloaded, try later"}"#.into(),
        id: None,
    };
    assert_eq!(
        decoder.decode(&event, &mut sink).unwrap_err().kind(),
        ErrorKind::Overloaded
    );

    let (_, outcome, _) = run_stream("data: {\"type\":\"content-delta\",\"delta\":oops}\n\n", 4);
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::BadResponse);

    // A body that stops before `message-end` did not finish: the stream layer says so.
    let mut events = text_events();
    events.truncate(4);
    let (_, outcome, progress) = run_stream(&sse(&events), 10);
    assert_eq!(outcome.unwrap(), EventOutcome::Continue);
    assert!(!Cohere.stream_decoder("").ended_cleanly(&progress));
}

#[test]
fn sse_noise_is_ignored() {
    let input = format!(
        "\u{feff}: keep-alive\nretry: 1000\nid: 7\n{}data: [DONE]\n\n",
        sse(&text_events())
    );
    let (chunks, outcome, _) = run_stream(&input, 3);
    assert_eq!(outcome.unwrap(), EventOutcome::Done);
    assert_eq!(chunks.len(), 5);
}
