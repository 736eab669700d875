//! OpenAI chat completions, the canonical format: requests and chunks pass through untouched,
//! and are parsed only to validate them and to read usage and progress.

use std::borrow::Cow;

use bytes::Bytes;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{join_url, ChatProvider, Completion, EventOutcome, StreamDecode, WireRequest};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

/// OpenAI's wire format at any base URL. `id` names the provider in errors and `resolveModel`
/// (the OpenAI-compatible family shares this adapter as configured profiles, not copies).
#[derive(Debug, Clone)]
pub struct OpenAi {
    pub id: &'static str,
}

impl Default for OpenAi {
    fn default() -> Self {
        Self { id: "openai" }
    }
}

// ---- wire types -------------------------------------------------------------------------------

/// `POST /chat/completions` response. Choices stay raw: they are handed to JS as they came.
#[derive(Deserialize)]
struct ChatCompletion<'a> {
    #[serde(borrow, default)]
    choices: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// One `chat.completion.chunk`.
#[derive(Deserialize)]
struct ChatChunk<'a> {
    #[serde(borrow, default)]
    choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<ChunkDelta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ChunkDelta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Vec<IgnoredAny>>,
}

// ---- mapping ----------------------------------------------------------------------------------

/// An `error` object sent with a 200 (inside a stream or in place of a completion).
pub(crate) fn in_band_error(error: serde_json::Value) -> Error {
    let status = error
        .get("code")
        .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c));
    let kind = status.map_or(ErrorKind::UpstreamError, ErrorKind::from_status);
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(serde_json::json!({ "error": error })),
        kind,
        retryable: false,
        retry_after: None,
    }))
}

pub(crate) fn bad_json(what: &str, err: serde_json::Error, text: &[u8]) -> Error {
    const SHOWN: usize = 200;
    let text = String::from_utf8_lossy(&text[..text.len().min(SHOWN)]);
    Error::BadResponse(format!("{what} is not valid JSON ({err}): {text}"))
}

/// A whole chat completion: validated, usage read, bytes kept as they came.
pub(crate) fn decode_completion(body: &[u8]) -> Result<Completion, Error> {
    let parsed: ChatCompletion =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    match (parsed.choices, parsed.error) {
        (Some(choices), _) if !choices.is_empty() => Ok(Completion {
            // Valid UTF-8: serde_json just parsed it.
            json: String::from_utf8_lossy(body).into_owned(),
            usage: parsed.usage,
        }),
        (_, Some(error)) => Err(in_band_error(error)),
        _ => Err(Error::BadResponse(
            "the response has no choices".to_string(),
        )),
    }
}

/// Validates a JSON body and hands it on as it came.
pub(crate) fn passthrough_json(body: &[u8], what: &str) -> Result<String, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad_json(what, e, body))?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(in_band_error(error.clone()));
    }
    Ok(String::from_utf8_lossy(body).into_owned())
}

impl ChatProvider for OpenAi {
    fn id(&self) -> &'static str {
        self.id
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        _stream: bool,
    ) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "chat/completions"),
            body,
        ))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_completion(body)
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(OpenAiStream)
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "embeddings"),
            body,
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        passthrough_json(body, "the embeddings response")
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(base_url, "models")))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        passthrough_json(body, "the model list")
    }
}

/// OpenAI chunks are canonical: validated, counted and passed on.
pub(crate) struct OpenAiStream;

impl StreamDecode for OpenAiStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let data = event.data.as_str();
        match data.trim() {
            "[DONE]" => return Ok(EventOutcome::Done),
            // An empty `data:` carries nothing (some proxies send it as a keep-alive).
            "" => return Ok(EventOutcome::Continue),
            _ => {}
        }
        let chunk: ChatChunk = serde_json::from_str(data)
            .map_err(|e| bad_json("a stream chunk", e, data.as_bytes()))?;
        if let Some(error) = chunk.error {
            return Err(in_band_error(error));
        }
        if event.event.as_deref() == Some("error") {
            return Err(in_band_error(
                serde_json::from_str(data).unwrap_or_default(),
            ));
        }
        let progress = &mut sink.progress;
        if chunk.usage.is_some() {
            progress.usage = chunk.usage;
        }
        for choice in &chunk.choices {
            if let Some(delta) = &choice.delta {
                if let Some(content) = &delta.content {
                    progress.content_chars += content.chars().count() as u64;
                }
                if let Some(calls) = &delta.tool_calls {
                    progress.tool_call_deltas += calls.len() as u64;
                }
            }
            if let Some(reason) = &choice.finish_reason {
                progress.finish_reason = Some(reason.to_string());
            }
        }
        sink.push_chunk(data);
        Ok(EventOutcome::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> SseEvent {
        SseEvent {
            data: data.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn completion_keeps_the_body_and_reads_usage() {
        let body = br#"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
        let c = decode_completion(body).unwrap();
        assert_eq!(c.json.as_bytes(), body);
        assert_eq!(c.usage.unwrap().total_tokens, 4);
    }

    #[test]
    fn completion_rejects_garbage_missing_choices_and_in_band_errors() {
        let e = decode_completion(b"<html>oops</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = decode_completion(br#"{"id":"x","choices":[]}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = decode_completion(br#"{"error":{"message":"slow down","code":429}}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.to_string(), "slow down");
    }

    #[test]
    fn stream_events_track_progress_and_batch() {
        let mut sink = StreamSink::default();
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"héllo"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
        ];
        for c in chunks {
            assert_eq!(
                OpenAiStream.decode(&event(c), &mut sink).unwrap(),
                EventOutcome::Continue
            );
        }
        assert_eq!(
            OpenAiStream.decode(&event("[DONE]"), &mut sink).unwrap(),
            EventOutcome::Done
        );
        let p = sink.progress.clone();
        assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (4, 5, 1));
        assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(p.usage.unwrap().total_tokens, 7);
        let batch: serde_json::Value = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
        assert_eq!(batch.as_array().unwrap().len(), 4);
    }

    #[test]
    fn stream_errors_are_typed() {
        let mut sink = StreamSink::default();
        let e = OpenAiStream
            .decode(&event("not json"), &mut sink)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = OpenAiStream
            .decode(
                &event(r#"{"error":{"message":"overloaded","type":"server_error"}}"#),
                &mut sink,
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamError);
        assert_eq!(e.to_string(), "overloaded");
        assert_eq!(sink.progress.chunks, 0);
    }
}
