//! Wire formats. The canonical request, response and stream chunk are OpenAI chat completions
//! (as with LiteLLM); each provider maps between that and its own wire format. Adding a provider
//! is one module implementing [`ChatProvider`] plus one [`Provider`] arm.

pub mod openai;

use http::HeaderMap;

use crate::error::Error;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

/// A completed, non-streamed answer in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Canonical response JSON.
    pub json: String,
    pub usage: Option<Usage>,
}

/// What one stream event meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Continue,
    /// The provider said the stream is over; anything after it is ignored.
    Done,
}

/// One wire format.
pub trait ChatProvider {
    /// The chat endpoint under `base_url`.
    fn chat_url(&self, base_url: &str) -> String;
    /// Put the credentials where this provider wants them.
    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error>;
    /// Turn a canonical response body into a [`Completion`].
    fn decode_completion(&self, body: &[u8]) -> Result<Completion, Error>;
    /// Fold one stream event into `sink` as canonical chunks.
    fn decode_event(&self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error>;
}

/// Every provider, dispatched statically.
#[derive(Debug, Clone)]
pub enum Provider {
    /// OpenAI chat completions and everything that speaks it (LiteLLM proxy, vLLM, llama.cpp, ...).
    OpenAi(openai::OpenAi),
}

impl ChatProvider for Provider {
    fn chat_url(&self, base_url: &str) -> String {
        match self {
            Self::OpenAi(p) => p.chat_url(base_url),
        }
    }
    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        match self {
            Self::OpenAi(p) => p.authorize(api_key, headers),
        }
    }
    fn decode_completion(&self, body: &[u8]) -> Result<Completion, Error> {
        match self {
            Self::OpenAi(p) => p.decode_completion(body),
        }
    }
    fn decode_event(&self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        match self {
            Self::OpenAi(p) => p.decode_event(event, sink),
        }
    }
}
