//! Stream framings. Every framing yields [`SseEvent`]s so one decoding path serves them all.

use crate::error::Error;
use crate::eventstream::EventStreamDecoder;
use crate::providers::Framing;
use crate::sse::{SseDecoder, SseEvent};

/// Splits a byte stream into events, whatever the chunk boundaries.
#[derive(Debug)]
pub enum FrameDecoder {
    Sse(SseDecoder),
    Ndjson(NdjsonDecoder),
    AwsEventStream(EventStreamDecoder),
}

impl FrameDecoder {
    pub fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Self::Sse(SseDecoder::new()),
            Framing::Ndjson => Self::Ndjson(NdjsonDecoder::default()),
            Framing::AwsEventStream => Self::AwsEventStream(EventStreamDecoder::default()),
        }
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        match self {
            Self::Sse(d) => d.feed(chunk, out),
            Self::Ndjson(d) => d.feed(chunk, out),
            Self::AwsEventStream(d) => return d.feed(chunk, out),
        }
        Ok(())
    }

    /// End of the body: flush what a well-formed stream may leave unterminated.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), Error> {
        match self {
            Self::Sse(d) => d.finish(out),
            Self::Ndjson(d) => d.finish(out),
            Self::AwsEventStream(d) => return d.finish(),
        }
        Ok(())
    }
}

/// Newline-delimited JSON: each non-blank line is one event's `data`.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    /// The unterminated tail of the previous chunk, kept as bytes so a split UTF-8 sequence
    /// decodes whole.
    line: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if self.line.is_empty() {
                emit(&rest[..i], out);
            } else {
                self.line.extend_from_slice(&rest[..i]);
                emit(&std::mem::take(&mut self.line), out);
            }
            rest = &rest[i + 1..];
        }
        self.line.extend_from_slice(rest);
    }

    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        emit(&std::mem::take(&mut self.line), out);
    }
}

fn emit(line: &[u8], out: &mut Vec<SseEvent>) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !text.is_empty() {
        out.push(SseEvent {
            data: text.to_string(),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut d = FrameDecoder::new(Framing::Ndjson);
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            d.feed(chunk, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        out.into_iter().map(|e| e.data).collect()
    }

    #[test]
    fn ndjson_lines_survive_any_split() {
        let input = "{\"a\":\"é\"}\r\n\n{\"b\":\"你好\"}\n{\"c\":3}".as_bytes();
        let expected = vec!["{\"a\":\"é\"}", "{\"b\":\"你好\"}", "{\"c\":3}"];
        for piece in 1..input.len() {
            assert_eq!(decode_in_pieces(input, piece), expected, "piece {piece}");
        }
    }
}
