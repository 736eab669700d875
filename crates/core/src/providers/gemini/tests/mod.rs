//! The adapter's tests, by topic; the helpers here build providers, requests and stream events.

mod embeddings;
mod flavours;
mod request;
mod response;
mod schema;
mod stream;

use bytes::Bytes;
use serde_json::Value;

use super::Gemini;
use crate::providers::ChatProvider;
use crate::sse::SseEvent;

pub(super) fn gemini() -> Gemini {
    Gemini { vertex: false }
}

pub(super) fn vertex() -> Gemini {
    Gemini { vertex: true }
}

pub(super) fn wire(provider: &Gemini, body: Value, stream: bool) -> (String, Value) {
    let w = provider
        .chat_request(
            "https://generativelanguage.googleapis.com",
            Bytes::from(body.to_string()),
            stream,
        )
        .unwrap();
    let json = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
    (w.url, json)
}

pub(super) fn event(data: &str) -> SseEvent {
    SseEvent {
        data: data.to_string(),
        ..Default::default()
    }
}
