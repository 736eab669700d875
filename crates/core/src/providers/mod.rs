//! Wire formats. The canonical request, response and stream chunk are OpenAI chat completions
//! (as with LiteLLM; see [`crate::canonical`]); each provider maps between that and its own wire
//! format. Adding a provider is one module implementing [`ChatProvider`] plus one [`Provider`]
//! arm (and its row in [`crate::routing`]).

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod cohere;
pub mod gemini;
pub mod ollama;
pub mod openai;
pub mod replicate;
mod support;
#[cfg(test)]
pub(crate) mod test_support;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::error::{Error, UpstreamError};
use crate::sse::SseEvent;
use crate::stream::{StreamProgress, StreamSink};
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

/// How a provider frames its stream on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events.
    Sse,
    /// One JSON value per line; each line arrives as an event's `data`.
    Ndjson,
    /// AWS `application/vnd.amazon.eventstream`; each message arrives as an event whose `event`
    /// is the `:event-type` (or `:exception-type`) header and whose `data` is the payload.
    AwsEventStream,
}

/// One HTTP request a provider wants sent. The client adds the shared headers (credentials,
/// `defaultHeaders`), then `headers` here, then signs it with [`ChatProvider::sign`].
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: Method,
    pub url: String,
    pub body: Option<Bytes>,
    pub headers: HeaderMap,
    /// The model the answer is for, for providers whose answers do not name it; handed to
    /// [`ChatProvider::decode_completion`] and [`ChatProvider::stream_decoder`].
    pub model: Option<String>,
}

impl WireRequest {
    pub fn post_json(url: String, body: impl Into<Bytes>) -> Self {
        Self {
            method: Method::POST,
            url,
            body: Some(body.into()),
            headers: HeaderMap::new(),
            model: None,
        }
    }

    pub fn get(url: String) -> Self {
        Self {
            method: Method::GET,
            url,
            body: None,
            headers: HeaderMap::new(),
            model: None,
        }
    }
}

/// A provider that answers in several requests (Replicate: create, then poll) asks for the next
/// one here.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub request: WireRequest,
    /// Wait this long before sending it.
    pub after: Duration,
}

/// Per-stream decoding state.
pub trait StreamDecode: Send {
    /// Fold one framed event into `sink` as canonical chunks.
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error>;

    /// At the end of the body without an explicit end marker: whether everything arrived.
    /// By default a finish reason proves it.
    fn ended_cleanly(&self, progress: &StreamProgress) -> bool {
        progress.finish_reason.is_some()
    }
}

/// `Authorization: Bearer <key>`, marked sensitive so it never shows in debug output.
pub fn bearer(api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
    header(
        headers,
        http::header::AUTHORIZATION,
        &format!("Bearer {api_key}"),
    )
}

/// Set a credential header, marked sensitive.
pub fn header(
    headers: &mut HeaderMap,
    name: impl http::header::IntoHeaderName,
    value: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::try_from(value).map_err(|_| {
        Error::InvalidInput("the API key contains characters not allowed in a header".into())
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

/// `base_url` + `path` without a doubled slash.
pub fn join_url(base_url: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base_url.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The error for an operation a provider does not offer.
pub fn unsupported(provider: &str, what: &str) -> Error {
    Error::InvalidInput(format!("{provider} does not offer {what}"))
}

/// One wire format.
pub trait ChatProvider {
    /// The provider id (LiteLLM's prefix).
    fn id(&self) -> &'static str;

    /// Put the API key where this provider wants it (once per client).
    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        bearer(api_key, headers)
    }

    /// The request for a canonical chat `body` (which carries the provider's model id).
    fn chat_request(&self, base_url: &str, body: Bytes, stream: bool)
        -> Result<WireRequest, Error>;

    /// Turn a response body into a canonical [`Completion`]; `model` is [`WireRequest::model`].
    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error>;

    /// After a successful response: the next request, when the answer needs more than one.
    fn follow_up(&self, _response: &[u8], _stream: bool) -> Result<Option<FollowUp>, Error> {
        Ok(None)
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// Fresh decoding state for one stream; `model` is [`WireRequest::model`].
    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode>;

    /// Sign the final request (per attempt: signatures carry a timestamp).
    fn sign(&self, _request: &mut reqwest::Request) -> Result<(), Error> {
        Ok(())
    }

    /// Refine an upstream error from this provider's error body (`kind`, `retryable`).
    fn classify(&self, error: &mut UpstreamError) {
        crate::error::classify_common(error);
    }

    /// The request for canonical embeddings (`{ model, input }`, OpenAI's shape).
    fn embed_request(&self, _base_url: &str, _body: Bytes) -> Result<WireRequest, Error> {
        Err(unsupported(self.id(), "embeddings"))
    }

    /// A response to [`Self::embed_request`] as OpenAI's embeddings JSON.
    fn decode_embeddings(&self, _body: &[u8]) -> Result<String, Error> {
        Err(unsupported(self.id(), "embeddings"))
    }

    /// The request that lists models.
    fn models_request(&self, _base_url: &str) -> Result<WireRequest, Error> {
        Err(unsupported(self.id(), "a model list"))
    }

    /// A response to [`Self::models_request`] as `{"object":"list","data":[{"id":…}, …]}`, each
    /// entry keeping what else the provider said of the model (pricing, context length, …).
    fn decode_models(&self, _body: &[u8]) -> Result<String, Error> {
        Err(unsupported(self.id(), "a model list"))
    }
}

/// Every provider, dispatched statically.
#[derive(Debug, Clone)]
pub enum Provider {
    /// OpenAI chat completions and everything that speaks it (the LiteLLM proxy, OpenRouter,
    /// Groq, Together, Mistral, DeepSeek, xAI, Fireworks, Perplexity, Hugging Face, llama.cpp, …).
    OpenAi(openai::OpenAi),
    Azure(azure::Azure),
    Anthropic(anthropic::Anthropic),
    Gemini(gemini::Gemini),
    Bedrock(bedrock::Bedrock),
    Ollama(ollama::Ollama),
    Cohere(cohere::Cohere),
    Replicate(replicate::Replicate),
}

macro_rules! dispatch {
    ($self:ident, $p:ident => $call:expr) => {
        match $self {
            Provider::OpenAi($p) => $call,
            Provider::Azure($p) => $call,
            Provider::Anthropic($p) => $call,
            Provider::Gemini($p) => $call,
            Provider::Bedrock($p) => $call,
            Provider::Ollama($p) => $call,
            Provider::Cohere($p) => $call,
            Provider::Replicate($p) => $call,
        }
    };
}

impl ChatProvider for Provider {
    fn id(&self) -> &'static str {
        dispatch!(self, p => p.id())
    }
    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        dispatch!(self, p => p.authorize(api_key, headers))
    }
    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        dispatch!(self, p => p.chat_request(base_url, body, stream))
    }
    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error> {
        dispatch!(self, p => p.decode_completion(body, model))
    }
    fn follow_up(&self, response: &[u8], stream: bool) -> Result<Option<FollowUp>, Error> {
        dispatch!(self, p => p.follow_up(response, stream))
    }
    fn framing(&self) -> Framing {
        dispatch!(self, p => p.framing())
    }
    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode> {
        dispatch!(self, p => p.stream_decoder(model))
    }
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        dispatch!(self, p => p.sign(request))
    }
    fn classify(&self, error: &mut UpstreamError) {
        dispatch!(self, p => p.classify(error))
    }
    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        dispatch!(self, p => p.embed_request(base_url, body))
    }
    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        dispatch!(self, p => p.decode_embeddings(body))
    }
    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        dispatch!(self, p => p.models_request(base_url))
    }
    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        dispatch!(self, p => p.decode_models(body))
    }
}
