//! Google Gemini `generateContent` (the Gemini API and Vertex AI, one adapter in two flavours).
//!
//! - Gemini API: `POST {base}/v1beta/models/{model}:generateContent` (streams:
//!   `:streamGenerateContent?alt=sse`), the key in `x-goog-api-key`, never in the URL.
//! - Vertex AI: `POST {base}/models/{model}:generateContent` under
//!   `…/v1/projects/{project}/locations/{location}/publishers/google`, `Authorization: Bearer`.
//!
//! Requests: system and developer messages become `systemInstruction`; the rest become `contents`
//! (`user` / `model`), consecutive turns of one role merged (Vertex insists on alternation). Tool
//! results become `functionResponse` parts named after the call they answer. JSON Schemas become
//! Gemini's OpenAPI subset ([`schema::gemini_schema`]). Fields Gemini has no place for are
//! refused by name.
//!
//! Answers: Gemini function calls carry an `id` only on newer models; without one the adapter
//! makes one up (`call_<responseId>_<n>`). A call's `thoughtSignature` (which Gemini 3 wants back
//! with the call in the next turn) travels inside the canonical id as `<id>__thought__<signature>`
//! (LiteLLM's convention) and is split off again when the call is sent back.
//!
//! Layout: `wire` holds the serde types of the chat wire format, `request` maps a canonical
//! request onto them (refusing what has no place), `schema` turns JSON Schemas into Gemini's,
//! `response` decodes whole answers and classifies Google errors, `stream` decodes streams,
//! and `embeddings` and `models` serve the embeddings and model-list endpoints.

mod embeddings;
mod models;
mod request;
mod response;
mod schema;
mod stream;
mod wire;

use bytes::Bytes;

use super::{bearer, header, join_url, ChatProvider, Completion, StreamDecode, WireRequest};
use crate::canonical::ChatRequest;
use crate::error::{Error, UpstreamError};
use crate::routing::ProviderSettings;

use request::model_resource;
use stream::GeminiStream;

/// Separates a tool call's id from the Gemini thought signature riding along with it.
const THOUGHT_SEPARATOR: &str = "__thought__";

/// Gemini API or Vertex AI: the same wire format at different URLs with different credentials.
#[derive(Debug, Clone)]
pub struct Gemini {
    vertex: bool,
}

impl Gemini {
    /// Vertex AI when a project is configured (the `vertex_ai` profile reads one from
    /// `VERTEXAI_PROJECT`) or the base URL is an `aiplatform.googleapis.com` one.
    /// `vertex` picks Vertex AI's URLs and bearer auth (the `vertex_ai` id) over the Gemini API's.
    pub fn from_settings(_settings: &ProviderSettings, vertex: bool) -> Result<Self, Error> {
        Ok(Self { vertex })
    }

    fn name(&self) -> &'static str {
        if self.vertex {
            "vertex_ai"
        } else {
            "gemini"
        }
    }

    /// `{base}/v1beta/{resource}` (Gemini API; a base that already ends in a version keeps it)
    /// or `{base}/{resource}` (Vertex AI, whose base carries `v1/projects/…`).
    fn url(&self, base_url: &str, resource: &str) -> String {
        let base = base_url.trim_end_matches('/');
        if self.vertex || base.ends_with("/v1beta") || base.ends_with("/v1") {
            join_url(base, resource)
        } else {
            join_url(base, &format!("v1beta/{resource}"))
        }
    }
}

impl ChatProvider for Gemini {
    fn id(&self) -> &'static str {
        self.name()
    }

    fn authorize(&self, api_key: &str, headers: &mut http::HeaderMap) -> Result<(), Error> {
        if self.vertex {
            bearer(api_key, headers)
        } else {
            header(headers, "x-goog-api-key", api_key)
        }
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        let req = ChatRequest::parse(&body)?;
        let resource = model_resource(&req.model)?;
        let wire = self.translate(&req)?;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let body = serde_json::to_vec(&wire)
            .map_err(|e| Error::Internal(format!("cannot encode the Gemini request: {e}")))?;
        let mut wire =
            WireRequest::post_json(self.url(base_url, &format!("{resource}:{method}")), body);
        // Answers name their model in `modelVersion`; this stands in when one does not.
        wire.model = Some(req.model.trim().to_string());
        Ok(wire)
    }

    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error> {
        response::decode_completion(body, model)
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode> {
        Box::new(GeminiStream::new(model))
    }

    fn classify(&self, error: &mut UpstreamError) {
        response::classify(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        embeddings::embed_request(self, base_url, &body)
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        embeddings::decode_embeddings(self, body)
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        models::models_request(self, base_url)
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        models::decode_models(body)
    }
}

#[cfg(test)]
mod tests;
