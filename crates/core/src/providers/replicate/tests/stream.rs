use serde_json::{json, Value};

use super::super::stream::ReplicateStream;
use super::super::Replicate;
use crate::error::{Error, ErrorKind, UpstreamBody};
use crate::providers::test_support::decode_in_pieces;
use crate::providers::{ChatProvider, EventOutcome, Framing, StreamDecode};
use crate::stream::StreamSink;

fn decode_transcript(
    transcript: &str,
    piece: usize,
) -> (Vec<Value>, StreamSink, Result<EventOutcome, Error>) {
    decode_transcript_of("", transcript, piece)
}

/// `transcript`, fed in pieces of `piece` bytes, as the stream of an answer of `model`.
pub(super) fn decode_transcript_of(
    model: &str,
    transcript: &str,
    piece: usize,
) -> (Vec<Value>, StreamSink, Result<EventOutcome, Error>) {
    let mut decoder = Replicate.stream_decoder(model);
    let (batch, last, sink) =
        decode_in_pieces(Framing::Sse, decoder.as_mut(), transcript.as_bytes(), piece);
    let batch = batch.map_or_else(Vec::new, |b| serde_json::from_str(&b).unwrap());
    (batch, sink, last)
}

// Replicate's documented event types: text `output`, ignorable `logs`, JSON `done`.
pub(super) const TRANSCRIPT: &str = "event: output\nid: 1690212292:0\ndata: Once\n\n\
    event: logs\nid: 1690212292:1\ndata: INFO generating\n\n\
    event: output\nid: 1690212292:2\ndata:  upon a\n\n\
    event: output\nid: 1690212292:3\ndata:  tíme\ndata: \n\n\
    : keep-alive\n\n\
    event: done\nid: 1690212292:4\ndata: {}\n\n";

#[test]
fn a_stream_transcript_decodes_into_canonical_chunks_in_any_split() {
    for piece in 1..TRANSCRIPT.len() {
        let (chunks, sink, last) = decode_transcript(TRANSCRIPT, piece);
        assert_eq!(last.unwrap(), EventOutcome::Done, "piece {piece}");
        assert_eq!(chunks.len(), 5, "piece {piece}");
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        let text: String = chunks[1..4]
            .iter()
            .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
            .collect();
        assert_eq!(text, "Once upon a tíme\n");
        assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
        assert_eq!(
            chunks[4]["choices"][0]["provider_finish_reason"],
            "succeeded"
        );
        assert_eq!(chunks[4]["object"], "chat.completion.chunk");
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        let p = &sink.progress;
        assert_eq!((p.chunks, p.content_chars), (5, 17));
        assert_eq!(p.finish_reason.as_deref(), Some("stop"));
        assert!(p.usage.is_none());
    }
}

#[test]
fn stream_ends_errors_and_cancels() {
    // Nothing said before `done`: still a role chunk and one finish.
    let (chunks, _, last) = decode_transcript("event: done\ndata: {}\n\n", 7);
    assert_eq!(last.unwrap(), EventOutcome::Done);
    assert_eq!(chunks.len(), 2);
    // A body that ends before `done` did not end cleanly.
    let (_, sink, last) = decode_transcript("event: output\ndata: half\n\n", 3);
    assert_eq!(last.unwrap(), EventOutcome::Continue);
    assert!(!ReplicateStream::new("").ended_cleanly(&sink.progress));
    let (chunks, _, last) = decode_transcript(
        "event: output\ndata: Hi\n\nevent: error\ndata: {\"detail\": \"The input or output was flagged as sensitive. Please try again with different inputs. (E005)\"}\n\nevent: done\ndata: {\"reason\": \"error\"}\n\n",
        5,
    );
    assert_eq!(chunks.len(), 2);
    let e = last.unwrap_err();
    assert_eq!((e.kind(), e.retryable()), (ErrorKind::ContentFilter, false));
    assert!(e.to_string().starts_with("The input or output was flagged"));
    let body = &e.upstream().unwrap().body;
    assert_eq!(
        body,
        &UpstreamBody::Json(json!({
            "error": {"message": "The input or output was flagged as sensitive. Please try again with different inputs. (E005)", "code": "E005"},
            "event": {"detail": "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"}
        }))
    );
    let (_, _, last) = decode_transcript("event: done\ndata: {\"reason\": \"canceled\"}\n\n", 9);
    let e = last.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (
            ErrorKind::UpstreamError,
            "the prediction was canceled".to_string()
        )
    );
    let (_, _, last) = decode_transcript(
        "event: error\ndata: Prediction interrupted; please retry (code: PA)\n\n",
        9,
    );
    let e = last.unwrap_err();
    assert_eq!((e.kind(), e.retryable()), (ErrorKind::UpstreamError, true));
    assert_eq!(e.upstream().unwrap().error_object().unwrap()["code"], "PA");
}
