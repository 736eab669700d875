//! Streamed answers → canonical chunks.

use serde_json::{json, Value};

use super::event;
use crate::error::ErrorKind;
use crate::providers::gemini::stream::GeminiStream;
use crate::providers::{EventOutcome, StreamDecode};
use crate::stream::StreamSink;

fn decode_stream(events: &[&str]) -> (StreamSink, Vec<Value>) {
    let mut decoder = GeminiStream::new("");
    let mut sink = StreamSink::default();
    for e in events {
        assert_eq!(
            decoder.decode(&event(e), &mut sink).unwrap(),
            EventOutcome::Continue
        );
    }
    let batch = sink
        .take_batch()
        .map_or(json!([]), |b| serde_json::from_str(&b).unwrap());
    let chunks = batch.as_array().unwrap().clone();
    (sink, chunks)
}

#[test]
fn a_streamed_answer_becomes_canonical_chunks() {
    let events = [
        r#"{"candidates": [{"content": {"parts": [{"text": "Sunny"}], "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 1, "totalTokenCount": 12}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
        r#"{"candidates": [{"content": {"parts": [{"text": " and warm,"}], "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 4, "totalTokenCount": 15}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
        "",
        r#"{"candidates": [{"content": {"parts": [{"text": " 21 °C."}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
    ];
    let (sink, chunks) = decode_stream(&events);
    assert_eq!(chunks.len(), 6);
    assert!(chunks.iter().all(|c| c["id"] == "resp-1"
        && c["object"] == "chat.completion.chunk"
        && c["model"] == "gemini-2.5-flash"));
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Sunny and warm, 21 °C.");
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[4]["choices"][0]["provider_finish_reason"], "STOP");
    assert_eq!(chunks[5]["choices"], json!([]));
    assert_eq!(
        chunks[5]["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
    );
    let p = &sink.progress;
    assert_eq!(p.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        p.content_chars,
        "Sunny and warm, 21 °C.".chars().count() as u64
    );
    assert!(GeminiStream::new("").ended_cleanly(p));
    assert!(!GeminiStream::new("").ended_cleanly(&Default::default()));
}

#[test]
fn streamed_parallel_function_calls() {
    let events = [
        r#"{"candidates": [{"content": {"parts": [{"text": "Thinking about it", "thought": true}], "role": "model"}}], "responseId": "r9", "modelVersion": "gemini-3-flash-preview"}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"id": "call_w1", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}], "role": "model"}}], "responseId": "r9"}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_time", "args": {"city": "Paris"}}}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 30, "thoughtsTokenCount": 12}, "responseId": "r9"}"#,
    ];
    let (sink, chunks) = decode_stream(&events);
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(deltas[1]["reasoning_content"], "Thinking about it");
    assert_eq!(
        deltas[2]["tool_calls"],
        json!([{"index": 0, "id": "call_w1__thought__c2ln", "type": "function", "function": {"name": "get_weather", "arguments": ""}}])
    );
    assert_eq!(
        deltas[3]["tool_calls"],
        json!([{"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert_eq!(deltas[4]["tool_calls"][0]["id"], "call_r9_1");
    assert_eq!(deltas[4]["tool_calls"][0]["index"], 1);
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        chunks[7]["usage"]["completion_tokens_details"]["reasoning_tokens"],
        12
    );
    assert_eq!(chunks[7]["usage"]["completion_tokens"], 19);
    assert_eq!(chunks.len(), 8);
    assert_eq!(sink.progress.tool_call_deltas, 4);
}

#[test]
fn a_stream_fed_in_arbitrary_splits_decodes_the_same() {
    use crate::providers::test_support::decode_in_pieces;
    use crate::providers::Framing;
    let transcript = concat!(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"héllo \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 3,\"totalTokenCount\": 3},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"x1\"}\r\n\r\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"wörld\"}],\"role\": \"model\"},\"finishReason\": \"MAX_TOKENS\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 3,\"candidatesTokenCount\": 2,\"totalTokenCount\": 5},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"x1\"}\r\n\r\n",
    )
    .as_bytes();
    let run = |piece: usize| {
        let mut decoder = GeminiStream::new("");
        let (batch, outcome, _) = decode_in_pieces(Framing::Sse, &mut decoder, transcript, piece);
        outcome.unwrap();
        let batch: Value = serde_json::from_str(&batch.unwrap()).unwrap();
        batch
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.as_object_mut().unwrap().remove("created");
                c
            })
            .collect::<Vec<_>>()
    };
    let whole = run(transcript.len());
    assert_eq!(whole.len(), 5);
    assert_eq!(whole[3]["choices"][0]["finish_reason"], "length");
    for piece in [1, 2, 3, 7, 13, 64] {
        assert_eq!(run(piece), whole, "piece {piece}");
    }
}

#[test]
fn stream_errors_are_typed() {
    let mut sink = StreamSink::default();
    let mut d = GeminiStream::new("");
    let err = d.decode(&event("not json"), &mut sink).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse);
    let err = d
        .decode(
            &event(r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#),
            &mut sink,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert!(err.retryable());
    assert_eq!(
        err.to_string(),
        "The model is overloaded. Please try again later."
    );
    let err = d
        .decode(
            &event(r#"{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 4}}"#),
            &mut sink,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ContentFilter);
    assert_eq!(sink.progress.chunks, 0);
}
