//! AWS `application/vnd.amazon.eventstream` framing (Bedrock ConverseStream).
//!
//! Each message on the wire is:
//!
//! ```text
//! total length   u32 BE   (the whole message, these 4 bytes and the trailing CRC included)
//! headers length u32 BE
//! prelude CRC    u32 BE   (CRC-32 of the 8 bytes above)
//! headers        name length u8, name, value type u8, value (per type)
//! payload        total - headers - 16 bytes
//! message CRC    u32 BE   (CRC-32 of everything before it)
//! ```
//!
//! Both CRCs are CRC-32/ISO-HDLC (what `crc32fast` computes). Every message becomes one
//! [`SseEvent`] whose `event` is the message's `:event-type` (or, for exceptions, its
//! `:exception-type`; for errors, its `:error-code`) and whose `data` is the payload text.

use crate::error::Error;
use crate::sse::SseEvent;

/// Prelude (12 bytes) plus the trailing message CRC.
const OVERHEAD: usize = 16;
const PRELUDE: usize = 12;
/// AWS caps a message at 16 MiB (and its headers at 128 KiB); anything larger is corrupt.
const MAX_MESSAGE: usize = 16 * 1024 * 1024 + OVERHEAD;
const MAX_HEADERS: usize = 128 * 1024;
/// Consumed bytes are dropped from the buffer once they pass this size.
const COMPACT_AT: usize = 64 * 1024;

/// Decodes event-stream messages, checking both CRCs, whatever the chunk boundaries.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buffer: Vec<u8>,
    /// Start of the first undecoded message in `buffer`.
    start: usize,
    /// The prelude of the message at `start` was already checked.
    prelude_checked: bool,
}

fn be32(bytes: &[u8]) -> usize {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::BadResponse(format!("malformed AWS event stream: {what}"))
}

/// The string headers of one message that say what it is.
#[derive(Debug, Default, PartialEq, Eq)]
struct Headers {
    message_type: Option<String>,
    event_type: Option<String>,
    exception_type: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
}

fn parse_headers(mut raw: &[u8]) -> Result<Headers, Error> {
    let mut headers = Headers::default();
    let take = |raw: &mut &[u8], n: usize| -> Result<Vec<u8>, Error> {
        if raw.len() < n {
            return Err(bad("a header runs past the header section"));
        }
        let (head, rest) = raw.split_at(n);
        *raw = rest;
        Ok(head.to_vec())
    };
    while !raw.is_empty() {
        let name_len = take(&mut raw, 1)?[0] as usize;
        let name = take(&mut raw, name_len)?;
        let kind = take(&mut raw, 1)?[0];
        let value = match kind {
            // bool true, bool false: no value bytes.
            0 | 1 => None,
            2 => {
                take(&mut raw, 1)?;
                None
            }
            3 => {
                take(&mut raw, 2)?;
                None
            }
            4 => {
                take(&mut raw, 4)?;
                None
            }
            // long, timestamp (ms since the epoch)
            5 | 8 => {
                take(&mut raw, 8)?;
                None
            }
            // byte array, string: u16 length then the bytes.
            6 | 7 => {
                let len = take(&mut raw, 2)?;
                let len = u16::from_be_bytes([len[0], len[1]]) as usize;
                let bytes = take(&mut raw, len)?;
                (kind == 7).then_some(bytes)
            }
            9 => {
                take(&mut raw, 16)?;
                None
            }
            other => return Err(bad(format!("unknown header value type {other}"))),
        };
        let Some(value) = value else { continue };
        let value = String::from_utf8(value).map_err(|_| bad("a string header is not UTF-8"))?;
        let slot = match name.as_slice() {
            b":message-type" => &mut headers.message_type,
            b":event-type" => &mut headers.event_type,
            b":exception-type" => &mut headers.exception_type,
            b":error-code" => &mut headers.error_code,
            b":error-message" => &mut headers.error_message,
            _ => continue,
        };
        *slot = Some(value);
    }
    Ok(headers)
}

/// One complete, CRC-checked message (prelude to trailing CRC) as an event.
fn decode_message(message: &[u8], headers_len: usize) -> Result<SseEvent, Error> {
    let headers = parse_headers(&message[PRELUDE..PRELUDE + headers_len])?;
    let payload = &message[PRELUDE + headers_len..message.len() - 4];
    let mut data =
        String::from_utf8(payload.to_vec()).map_err(|_| bad("a message payload is not UTF-8"))?;
    let event = match headers.message_type.as_deref() {
        Some("exception") => headers.exception_type,
        Some("error") => {
            // Errors carry their message in a header, usually with an empty payload.
            if data.is_empty() {
                data = serde_json::json!({ "message": headers.error_message.unwrap_or_default() })
                    .to_string();
            }
            headers.error_code
        }
        _ => headers.event_type,
    };
    Ok(SseEvent {
        event: event.filter(|e| !e.is_empty()),
        data,
        id: None,
    })
}

impl EventStreamDecoder {
    /// Decode `chunk`, appending every message completed by it to `out`. Messages decoded
    /// before a corrupt one are still appended.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        self.buffer.extend_from_slice(chunk);
        let result = self.drain(out);
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        } else if self.start >= COMPACT_AT {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        result
    }

    fn drain(&mut self, out: &mut Vec<SseEvent>) -> Result<(), Error> {
        loop {
            let pending = &self.buffer[self.start..];
            if pending.len() < PRELUDE {
                return Ok(());
            }
            let total = be32(pending);
            let headers_len = be32(&pending[4..]);
            if !self.prelude_checked {
                let crc = crc32fast::hash(&pending[..8]);
                if crc as usize != be32(&pending[8..]) {
                    return Err(bad("prelude CRC mismatch"));
                }
                if !(OVERHEAD..=MAX_MESSAGE).contains(&total)
                    || headers_len > MAX_HEADERS
                    || headers_len > total - OVERHEAD
                {
                    return Err(bad(format!(
                        "impossible lengths (message {total} bytes, headers {headers_len})"
                    )));
                }
                self.prelude_checked = true;
            }
            if pending.len() < total {
                return Ok(());
            }
            let message = &pending[..total];
            let crc = crc32fast::hash(&message[..total - 4]);
            if crc as usize != be32(&message[total - 4..]) {
                return Err(bad("message CRC mismatch"));
            }
            let event = decode_message(message, headers_len)?;
            self.start += total;
            self.prelude_checked = false;
            out.push(event);
        }
    }

    /// End of the body: a partial message means it was cut short.
    pub fn finish(&mut self) -> Result<(), Error> {
        let left = self.buffer.len() - self.start;
        self.buffer.clear();
        self.start = 0;
        self.prelude_checked = false;
        if left > 0 {
            return Err(Error::BadResponse(format!(
                "the AWS event stream ended inside a message ({left} bytes of it arrived)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A header value for the test encoder.
    #[derive(Debug, Clone)]
    pub(crate) enum Value {
        Bool(bool),
        Byte(i8),
        Short(i16),
        Int(i32),
        Long(i64),
        Bytes(Vec<u8>),
        Str(String),
        Timestamp(i64),
        Uuid([u8; 16]),
    }

    /// Encodes one message exactly as AWS frames it.
    pub(crate) fn encode(headers: &[(&str, Value)], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for (name, value) in headers {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            match value {
                Value::Bool(true) => h.push(0),
                Value::Bool(false) => h.push(1),
                Value::Byte(b) => {
                    h.push(2);
                    h.extend_from_slice(&b.to_be_bytes());
                }
                Value::Short(s) => {
                    h.push(3);
                    h.extend_from_slice(&s.to_be_bytes());
                }
                Value::Int(i) => {
                    h.push(4);
                    h.extend_from_slice(&i.to_be_bytes());
                }
                Value::Long(l) => {
                    h.push(5);
                    h.extend_from_slice(&l.to_be_bytes());
                }
                Value::Bytes(b) => {
                    h.push(6);
                    h.extend_from_slice(&(b.len() as u16).to_be_bytes());
                    h.extend_from_slice(b);
                }
                Value::Str(s) => {
                    h.push(7);
                    h.extend_from_slice(&(s.len() as u16).to_be_bytes());
                    h.extend_from_slice(s.as_bytes());
                }
                Value::Timestamp(t) => {
                    h.push(8);
                    h.extend_from_slice(&t.to_be_bytes());
                }
                Value::Uuid(u) => {
                    h.push(9);
                    h.extend_from_slice(u);
                }
            }
        }
        let total = (OVERHEAD + h.len() + payload.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&total.to_be_bytes());
        m.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let prelude_crc = crc32fast::hash(&m);
        m.extend_from_slice(&prelude_crc.to_be_bytes());
        m.extend_from_slice(&h);
        m.extend_from_slice(payload);
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m
    }

    /// A Bedrock event message: `:event-type`, JSON payload.
    pub(crate) fn event(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", Value::Str(kind.into())),
                (":content-type", Value::Str("application/json".into())),
                (":message-type", Value::Str("event".into())),
            ],
            payload.as_bytes(),
        )
    }

    /// A Bedrock exception message: `:exception-type`, JSON payload.
    pub(crate) fn exception(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":exception-type", Value::Str(kind.into())),
                (":content-type", Value::Str("application/json".into())),
                (":message-type", Value::Str("exception".into())),
            ],
            payload.as_bytes(),
        )
    }

    fn decode_in(pieces: &[&[u8]]) -> Result<Vec<SseEvent>, (Error, Vec<SseEvent>)> {
        let mut d = EventStreamDecoder::default();
        let mut out = Vec::new();
        for p in pieces {
            if let Err(e) = d.feed(p, &mut out) {
                return Err((e, out));
            }
        }
        d.finish().map_err(|e| (e, out.clone()))?;
        Ok(out)
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: Some(event.into()),
            data: data.into(),
            id: None,
        }
    }

    /// A message Bedrock sent (InvokeModelWithResponseStream), as captured in the AI21 SDK's
    /// tests: real CRCs, real header order, the `p` padding field.
    const CAPTURED: &[u8] = b"\x00\x00\x01\x0b\x00\x00\x00K8\xa0\xa5\xc5\x0b:event-type\x07\x00\x05chunk\r:content-type\x07\x00\x10application/json\r:message-type\x07\x00\x05event{\"bytes\":\"eyJjaG9pY2VzIjpbeyJpbmRleCI6MCwibWVzc2FnZSI6eyJyb2xlIjoiYXNzaXN0YW50IiwiY29udGVudCI6IkkifSwic3RvcF9yZWFzb24iOm51bGx9XX0=\",\"p\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJK\"}\x11\x061?";

    #[test]
    fn decodes_a_captured_bedrock_message() {
        let out = decode_in(&[CAPTURED]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].event.as_deref(), Some("chunk"));
        assert!(out[0].data.starts_with("{\"bytes\":\"eyJ"));
        assert!(out[0].data.ends_with("ABCDEFGHIJK\"}"));
        // The test encoder frames it byte for byte the same.
        let payload = &CAPTURED[12 + 75..CAPTURED.len() - 4];
        let again = encode(
            &[
                (":event-type", Value::Str("chunk".into())),
                (":content-type", Value::Str("application/json".into())),
                (":message-type", Value::Str("event".into())),
            ],
            payload,
        );
        assert_eq!(again, CAPTURED);
    }

    #[test]
    fn messages_survive_a_split_at_every_boundary() {
        let mut stream = event("messageStart", r#"{"role":"assistant"}"#);
        stream.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"héllo 你好"},"p":"abcd"}"#,
        ));
        stream.extend(exception(
            "throttlingException",
            r#"{"message":"Too many requests"}"#,
        ));
        let expected = vec![
            ev("messageStart", r#"{"role":"assistant"}"#),
            ev(
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"héllo 你好"},"p":"abcd"}"#,
            ),
            ev("throttlingException", r#"{"message":"Too many requests"}"#),
        ];
        assert_eq!(decode_in(&[&stream]).unwrap(), expected);
        for i in 0..=stream.len() {
            let (a, b) = stream.split_at(i);
            assert_eq!(decode_in(&[a, b]).unwrap(), expected, "split at {i}");
        }
        for j in 1..stream.len() {
            for i in 0..j {
                let pieces = [&stream[..i], &stream[i..j], &stream[j..]];
                assert_eq!(decode_in(&pieces).unwrap(), expected, "split at {i}, {j}");
            }
        }
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_in(&bytewise).unwrap(), expected);
    }

    #[test]
    fn every_header_type_is_skipped_correctly() {
        let message = encode(
            &[
                (":date", Value::Timestamp(1_700_000_000_000)),
                ("flag", Value::Bool(true)),
                ("off", Value::Bool(false)),
                ("b", Value::Byte(-3)),
                ("s", Value::Short(300)),
                ("i", Value::Int(-70_000)),
                ("l", Value::Long(1 << 40)),
                ("raw", Value::Bytes(vec![0, 255, 7])),
                ("id", Value::Uuid([9; 16])),
                (":message-type", Value::Str("event".into())),
                (":event-type", Value::Str("metadata".into())),
            ],
            b"{}",
        );
        assert_eq!(decode_in(&[&message]).unwrap(), vec![ev("metadata", "{}")]);
    }

    #[test]
    fn error_messages_carry_their_code_and_message() {
        let message = encode(
            &[
                (":message-type", Value::Str("error".into())),
                (":error-code", Value::Str("InternalFailure".into())),
                (":error-message", Value::Str("boom \"x\"".into())),
            ],
            b"",
        );
        assert_eq!(
            decode_in(&[&message]).unwrap(),
            vec![ev("InternalFailure", r#"{"message":"boom \"x\""}"#)]
        );
    }

    #[test]
    fn corrupted_crcs_are_bad_responses_after_the_good_messages() {
        let good = event("messageStart", r#"{"role":"assistant"}"#);
        // Message CRC.
        let mut bad_body = event("contentBlockDelta", r#"{"delta":{"text":"x"}}"#);
        let at = bad_body.len() - 10;
        bad_body[at] ^= 0x01;
        let stream = [good.clone(), bad_body].concat();
        let (err, out) = decode_in(&[&stream]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Bad response from upstream: malformed AWS event stream: message CRC mismatch"
        );
        assert_eq!(out, vec![ev("messageStart", r#"{"role":"assistant"}"#)]);
        // Prelude CRC: caught as soon as the prelude has arrived.
        let mut bad_prelude = event("metadata", "{}");
        bad_prelude[9] ^= 0x80;
        let stream = [good, bad_prelude].concat();
        let (err, out) = decode_in(&[&stream[..stream.len() - 20]]).unwrap_err();
        assert!(err.to_string().contains("prelude CRC mismatch"), "{err}");
        assert_eq!(out.len(), 1);
        // A length that cannot be (headers longer than the message).
        let mut m = 20u32.to_be_bytes().to_vec();
        m.extend_from_slice(&10u32.to_be_bytes());
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        let (err, _) = decode_in(&[&m]).unwrap_err();
        assert!(err.to_string().contains("impossible lengths"), "{err}");
    }

    #[test]
    fn a_body_cut_inside_a_message_is_reported_at_the_end() {
        let stream = [event("messageStart", "{}"), event("metadata", "{}")].concat();
        let (err, out) = decode_in(&[&stream[..stream.len() - 3]]).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::BadResponse);
        assert!(err.to_string().contains("ended inside a message"), "{err}");
        assert_eq!(out.len(), 1);
        assert!(decode_in(&[]).unwrap().is_empty());
    }

    fn message() -> impl Strategy<Value = (String, String, bool)> {
        ("[a-zA-Z]{1,20}", "\\PC{0,40}", any::<bool>())
    }

    proptest! {
        #[test]
        fn any_messages_at_any_splits_decode_the_same(
            messages in proptest::collection::vec(message(), 0..6),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for (kind, payload, is_exception) in &messages {
                stream.extend(if *is_exception { exception(kind, payload) } else { event(kind, payload) });
                expected.push(ev(kind, payload));
            }
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for p in points {
                pieces.push(&stream[last..p]);
                last = p;
            }
            pieces.push(&stream[last..]);
            prop_assert_eq!(decode_in(&pieces).unwrap(), expected);
        }

        #[test]
        fn a_flipped_bit_never_passes_unnoticed(
            (kind, payload, _) in message(),
            bit in any::<prop::sample::Index>(),
        ) {
            let mut m = event(&kind, &payload);
            let bit = bit.index(m.len() * 8);
            m[bit / 8] ^= 1 << (bit % 8);
            let result = decode_in(&[&m]);
            // Either a CRC catches it, or the lengths no longer match and the body ends early.
            prop_assert!(result.is_err(), "{:?}", result);
        }
    }
}
