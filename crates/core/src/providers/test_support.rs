//! Test helpers the provider adapters' tests share.

use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::framing::FrameDecoder;
use crate::providers::{EventOutcome, Framing, StreamDecode};
use crate::stream::StreamSink;

/// Frame `bytes` fed in `piece`-byte chunks, decode the events until one is not `Continue`, and
/// take the batch: `(batch, last outcome, sink)`.
pub(crate) fn decode_in_pieces(
    framing: Framing,
    decoder: &mut dyn StreamDecode,
    bytes: &[u8],
    piece: usize,
) -> (Option<String>, Result<EventOutcome, Error>, StreamSink) {
    let mut frames = FrameDecoder::new(framing);
    let mut events = Vec::new();
    for chunk in bytes.chunks(piece) {
        frames.feed(chunk, &mut events).unwrap();
    }
    frames.finish(&mut events).unwrap();
    let mut sink = StreamSink::default();
    let mut outcome = Ok(EventOutcome::Continue);
    for event in &events {
        outcome = decoder.decode(event, &mut sink);
        if !matches!(outcome, Ok(EventOutcome::Continue)) {
            break;
        }
    }
    (sink.take_batch(), outcome, sink)
}

/// An HTTP error as the client builds it before the provider classifies it.
pub(crate) fn upstream_error(status: u16, body: UpstreamBody) -> UpstreamError {
    UpstreamError {
        status: Some(status),
        headers: Vec::new(),
        body,
        kind: ErrorKind::from_status(status),
        retryable: crate::retry::status_is_retryable(status, &http::HeaderMap::new()),
        retry_after: None,
    }
}
