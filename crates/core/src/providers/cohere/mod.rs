//! Cohere v2: chat (`POST /v2/chat`), embeddings (`POST /v2/embed`) and the model list
//! (`GET /v1/models`), translated from and to the canonical OpenAI format.
//!
//! Decisions worth knowing:
//! - `response_format: json_schema` is native (`{"type":"json_object","json_schema":…}`); Cohere
//!   always enforces the schema, so `strict` needs no translation.
//! - A named `tool_choice` becomes `REQUIRED` with only that tool offered (Cohere cannot name one).
//! - `reasoning_effort` becomes `thinking` (`none` disables it; the levels take LiteLLM's token
//!   budgets). `tool_plan` and thinking text come back as `reasoning_content`, and an assistant
//!   message's text next to its tool calls goes out as its `tool_plan`.
//! - Usage counts are `billed_units` (what Cohere charges, as LiteLLM reports them), falling back
//!   to `tokens`.
//! - `finish_reason` `ERROR` / `TIMEOUT` mean the generation failed: they surface as upstream
//!   errors (kind `upstream_error` / `timeout`), never as a quiet `stop`.
//! - Streamed calls ask for `text/event-stream`: Cohere's v1 streamed bare JSON lines to anyone
//!   who did not, and its v2 SSE is what the official SDKs read.
//! - Error bodies are Cohere's `{"id", "message"}`, kept as they came (also when one arrives with
//!   a 200, in place of an answer or inside a stream).

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

const ID: &str = "cohere";

#[derive(Debug, Clone)]
pub struct Cohere;

impl Cohere {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

impl ChatProvider for Cohere {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        request::chat_request(base_url, &body, stream)
    }

    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error> {
        response::decode_completion(body, model)
    }

    /// Server-sent events, one typed JSON event per `data:` (with an `event:` line naming it).
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode> {
        Box::new(stream::CohereStream::new(model))
    }

    fn classify(&self, error: &mut UpstreamError) {
        response::classify(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        Ok(WireRequest::post_json(
            join_url(base_url, "v2/embed"),
            embeddings::embed_body(&body)?,
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        embeddings::decode_embeddings(body)
    }

    /// Every model on one page (Cohere's default page holds 20; 1000 is its maximum).
    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(
            base_url,
            "v1/models?page_size=1000",
        )))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        models::decode_models(body)
    }
}
