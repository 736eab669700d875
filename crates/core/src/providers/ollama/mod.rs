//! Ollama's native API: `POST /api/chat` (NDJSON stream), `POST /api/embed`, `GET /api/tags`.
//!
//! Ollama streams by default, so every chat request states `stream`. Tool-call arguments travel as
//! JSON objects (canonical JSON text on our side); tool results are `role: "tool"` messages naming
//! the tool (`tool_name`) and, for servers that know it, the call (`tool_call_id`). Servers older
//! than tool-call ids send none: those calls get a fresh `call_…` id, kept for the whole answer.
//! Images go inline as base64; Ollama cannot fetch image URLs, so those are refused. Structured
//! output is native: `format` takes a JSON schema, or `"json"` for JSON mode.
//!
//! The module is split by responsibility: `wire` holds the serde wire types, `request` maps
//! canonical requests (and refuses what Ollama cannot take), `response` decodes whole answers and
//! classifies errors, `stream` folds the NDJSON stream, `embeddings` and `models` translate
//! `/api/embed` and `/api/tags`.

mod embeddings;
mod models;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::{join_url, ChatProvider, Completion, Framing, StreamDecode, WireRequest};
use crate::error::{Error, UpstreamError};
use crate::routing::ProviderSettings;

use embeddings::{decode_embeddings, embed_body};
use models::decode_models;
use request::chat_body;
use response::{decode_completion, refine};
use stream::OllamaStream;

const ID: &str = "ollama";

#[derive(Debug, Clone, Default)]
pub struct Ollama;

impl Ollama {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        // Local servers need no key; Ollama's cloud takes `Authorization: Bearer <key>`, which the
        // default `authorize` sends when a key is configured.
        Ok(Self)
    }
}

impl ChatProvider for Ollama {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "api/chat"),
            chat_body(&body, stream)?,
        ))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_completion(body)
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(OllamaStream::default())
    }

    fn classify(&self, error: &mut UpstreamError) {
        refine(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "api/embed"),
            embed_body(&body)?,
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        decode_embeddings(body)
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(base_url, "api/tags")))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        decode_models(body)
    }
}
