//! Replicate predictions.
//!
//! A chat becomes one prediction of a language model:
//!
//! - `owner/name` (official models) → `POST {base}/models/{owner}/{name}/predictions`;
//!   `owner/name:version` or a bare version id → `POST {base}/predictions` with `version`.
//! - The body is `{ input: { prompt, system_prompt, max_tokens, temperature, top_p,
//!   presence_penalty, frequency_penalty, stop_sequences, seed } }`, the inputs Replicate's
//!   Llama-style chat models take. System and developer messages become `system_prompt`; the
//!   conversation becomes `prompt`: a single user message verbatim, anything longer as a
//!   transcript of `User:` / `Assistant:` turns separated by blank lines (the model's own prompt
//!   template then wraps it, so no model-specific special tokens are written here).
//! - Whole answers use sync mode (`Prefer: wait`); a prediction still `starting`/`processing`
//!   when it returns is polled at `urls.get` until it ends. Its `output` (an array of tokens) is
//!   joined; `metrics.input_token_count` / `output_token_count` become usage.
//! - Answers name the model as it was asked for (`owner/name:version` included): the stream names
//!   none, and a version's prediction only its `owner/name`.
//! - Streams create the prediction with `stream: true`, then read `urls.stream` as server-sent
//!   events: `output` (a text token), `error` (`{"detail": …}`) and `done` (`{}` or
//!   `{"reason": …}`). The stream carries no token counts, so streamed answers have no usage.
//!
//! Replicate's language models have no tool calling, structured output or image input: those
//! requests are refused, as is every field without a translation.
//!
//! The module is split by responsibility: `wire` holds the serde wire types, `request` maps
//! canonical requests to predictions (and refuses what Replicate cannot take), `polling` follows a
//! created prediction (polls it, or opens its stream), `response` decodes whole answers and
//! classifies failures, `stream` folds the event stream, `models` translates `GET /models`.

mod models;
mod polling;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use http::header::ACCEPT;
use http::HeaderValue;

use super::{join_url, ChatProvider, Completion, FollowUp, StreamDecode, WireRequest};
use crate::error::{Error, UpstreamError};
use crate::routing::ProviderSettings;

use stream::ReplicateStream;

#[derive(Debug, Clone)]
pub struct Replicate;

impl Replicate {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

const ID: &str = "replicate";

impl ChatProvider for Replicate {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        request::chat_request(base_url, body, stream)
    }

    fn follow_up(&self, response: &[u8], stream: bool) -> Result<Option<FollowUp>, Error> {
        polling::follow_up(response, stream)
    }

    fn decode_completion(&self, body: &[u8], model: &str) -> Result<Completion, Error> {
        response::decode_completion(body, model)
    }

    fn stream_decoder(&self, model: &str) -> Box<dyn StreamDecode> {
        Box::new(ReplicateStream::new(model))
    }

    /// The stream request's own `Accept` replaces the client's default `application/json`
    /// (request headers are appended to the defaults, so both would be sent).
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        let headers = request.headers_mut();
        if headers
            .get_all(ACCEPT)
            .iter()
            .any(|v| v.as_bytes() == b"text/event-stream")
        {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        Ok(())
    }

    fn classify(&self, error: &mut UpstreamError) {
        response::classify(error);
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(base_url, "models")))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        models::decode_models(body)
    }
}
