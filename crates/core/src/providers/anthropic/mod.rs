//! Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`).
//!
//! Canonical (OpenAI chat) requests become Messages requests: system prompts move to the
//! top-level `system`, tool calls and results become `tool_use` / `tool_result` blocks, images
//! become `image` blocks. `response_format` has no Messages equivalent on every model, so it is
//! answered with a forced tool ([`JSON_TOOL`]) whose input is the answer; that input comes back as
//! the text content. Answers and the named-event SSE stream become canonical completions and
//! `chat.completion.chunk`s.
//!
//! The module is split by responsibility: `wire` holds the serde wire types, `request` maps
//! canonical requests (and refuses what Messages cannot take), `response` decodes whole answers
//! and classifies errors, `models` decodes the model list and `stream` folds the SSE stream.

mod models;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{header, join_url, ChatProvider, Completion, StreamDecode, WireRequest};
use crate::canonical::ChatRequest;
use crate::error::{classify_common, Error, UpstreamError};
use crate::routing::ProviderSettings;

use models::decode_model_list;
use request::messages_request;
use response::{decode_message, error_kind, transient};
pub(crate) use stream::AnthropicStream;

const ID: &str = "anthropic";

/// The Messages API version every request names.
pub(crate) const API_VERSION: &str = "2023-06-01";

/// `max_tokens` is required by Anthropic; this is sent when the caller set none.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The tool that carries a `response_format` answer (LiteLLM's name for the same fallback). Its
/// `tool_use` input is turned back into the text content, so callers never see it as a call.
pub(crate) const JSON_TOOL: &str = "json_tool_call";

#[derive(Debug, Clone)]
pub struct Anthropic;

impl Anthropic {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

/// `{base}/v1/{path}`, also when the base URL already ends in `/v1`.
fn api_url(base_url: &str, path: &str) -> String {
    if base_url.trim_end_matches('/').ends_with("/v1") {
        join_url(base_url, path)
    } else {
        join_url(base_url, &format!("v1/{path}"))
    }
}

fn versioned(mut request: WireRequest) -> WireRequest {
    request.headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    request
}

impl ChatProvider for Anthropic {
    fn id(&self) -> &'static str {
        ID
    }

    fn authorize(&self, api_key: &str, headers: &mut HeaderMap) -> Result<(), Error> {
        header(headers, HeaderName::from_static("x-api-key"), api_key)
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        let request = messages_request(ChatRequest::parse(&body)?, stream)?;
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))?;
        Ok(versioned(WireRequest::post_json(
            api_url(base_url, "messages"),
            body,
        )))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_message(body)
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(AnthropicStream::default())
    }

    fn classify(&self, error: &mut UpstreamError) {
        match error.error_object().and_then(error_kind) {
            Some(kind) => error.kind = kind,
            None => classify_common(error),
        }
        error.retryable = transient(error.kind, error.status, &error.headers);
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        // One page of up to 1000 (the default page is 20).
        Ok(versioned(WireRequest::get(api_url(
            base_url,
            "models?limit=1000",
        ))))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        decode_model_list(body)
    }
}
