//! Azure OpenAI: OpenAI's wire format behind per-deployment URLs.
//!
//! Requests, responses, chunks, embeddings and the model list are OpenAI's JSON, so bodies pass
//! through untouched and answers are decoded by the OpenAI adapter's functions. What differs:
//!
//! - the URL: `{base}/openai/deployments/{deployment}/chat/completions?api-version={version}`,
//!   where the deployment is the request's `model`; a base URL ending in `/openai/v1` (the v1 API,
//!   no `api-version`) takes OpenAI's own paths instead;
//! - the credential: an `api-key` header rather than a bearer token;
//! - errors: content-filter refusals (`code: content_filter` with `innererror`), string status
//!   codes (`"code": "429"`) and 503s for lack of capacity.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;

use super::openai::{self, OpenAiStream};
use super::{header, join_url, ChatProvider, Completion, EventOutcome, StreamDecode, WireRequest};
use crate::error::{classify_common, Error, ErrorKind, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;

/// The `api-version` used when none is configured: the GA data-plane inference version that
/// has structured outputs, `stream_options.include_usage` and `seed`.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

#[derive(Debug, Clone)]
pub struct Azure {
    api_version: String,
}

impl Azure {
    pub fn from_settings(settings: &ProviderSettings) -> Result<Self, Error> {
        let api_version = settings
            .api_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_API_VERSION)
            .to_string();
        Ok(Self { api_version })
    }

    /// The URL of `operation` (`chat/completions`, `embeddings`) on `deployment`.
    fn deployment_url(&self, base_url: &str, deployment: &str, operation: &str) -> String {
        match Base::of(base_url) {
            Base::V1(base) => join_url(base, operation),
            Base::Resource(openai_root) => format!(
                "{}/deployments/{}/{operation}?api-version={}",
                openai_root,
                encode(deployment),
                encode(&self.api_version)
            ),
        }
    }
}

/// Where a base URL points.
enum Base<'a> {
    /// `…/openai/v1`: OpenAI's own paths, the deployment in the body's `model`.
    V1(&'a str),
    /// A resource endpoint (`https://x.openai.azure.com`), given as `…/openai` here.
    Resource(String),
}

impl<'a> Base<'a> {
    fn of(base_url: &'a str) -> Self {
        let trimmed = base_url.trim_end_matches('/');
        if trimmed.ends_with("/openai/v1") {
            Base::V1(trimmed)
        } else if trimmed.ends_with("/openai") {
            Base::Resource(trimmed.to_string())
        } else {
            Base::Resource(format!("{trimmed}/openai"))
        }
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters (a path segment or query value).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---- wire types -------------------------------------------------------------------------------

/// Just the deployment: the rest of the body is forwarded as it came.
#[derive(Deserialize)]
struct ModelOnly<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
}

fn deployment_of<'a>(body: &'a [u8], what: &str) -> Result<ModelOnly<'a>, Error> {
    let parsed: ModelOnly = serde_json::from_slice(body)
        .map_err(|e| Error::InvalidInput(format!("invalid {what} request: {e}")))?;
    if parsed.model.trim().is_empty() {
        return Err(Error::InvalidInput(
            "azure needs the deployment name as the model (azure/<deployment>)".into(),
        ));
    }
    Ok(parsed)
}

// ---- errors -----------------------------------------------------------------------------------

/// Azure's refinements over [`classify_common`]: content-filter refusals named only in
/// `innererror`, and 503 (or an "overloaded" message) as lack of capacity.
fn classify_azure(error: &mut UpstreamError) {
    classify_common(error);
    let Some(e) = error.error_object() else {
        if error.status == Some(503) {
            error.kind = ErrorKind::Overloaded;
            error.retryable = true;
        }
        return;
    };
    let inner_code = e
        .get("innererror")
        .and_then(|i| i.get("code"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    let code = e
        .get("code")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if inner_code == "ResponsibleAIPolicyViolation"
        || e.get("innererror").is_some_and(|i| {
            i.get("content_filter_result").is_some() || i.get("content_filter_results").is_some()
        })
    {
        error.kind = ErrorKind::ContentFilter;
        error.retryable = false;
    } else if error.kind == ErrorKind::UpstreamError
        && (error.status == Some(503) || code.eq_ignore_ascii_case("ServiceUnavailable"))
    {
        error.kind = ErrorKind::Overloaded;
        error.retryable = true;
    }
}

/// An error object that arrived with a 200 (a completion or a stream chunk), refined like an
/// HTTP error; retryable when it says the service is busy.
fn refine_in_band(err: Error) -> Error {
    match err {
        Error::Upstream(mut u) => {
            classify_azure(&mut u);
            u.retryable = matches!(u.kind, ErrorKind::RateLimited | ErrorKind::Overloaded);
            Error::Upstream(u)
        }
        other => other,
    }
}

// ---- the adapter ------------------------------------------------------------------------------

impl ChatProvider for Azure {
    fn id(&self) -> &'static str {
        "azure"
    }

    fn authorize(&self, api_key: &str, headers: &mut http::HeaderMap) -> Result<(), Error> {
        header(headers, "api-key", api_key)
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        _stream: bool,
    ) -> Result<WireRequest, Error> {
        let url = {
            let deployment = deployment_of(&body, "chat")?;
            self.deployment_url(base_url, &deployment.model, "chat/completions")
        };
        Ok(WireRequest::post_json(url, body))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        openai::decode_completion(body).map_err(refine_in_band)
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(AzureStream)
    }

    fn classify(&self, error: &mut UpstreamError) {
        classify_azure(error);
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        let url = {
            let deployment = deployment_of(&body, "embeddings")?;
            self.deployment_url(base_url, &deployment.model, "embeddings")
        };
        Ok(WireRequest::post_json(url, body))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        openai::passthrough_json(body, "the embeddings response").map_err(refine_in_band)
    }

    /// `GET /openai/models`: the base and fine-tuned models the resource can deploy (Azure has
    /// no data-plane list of deployments), with their capabilities and lifecycle.
    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        let url = match Base::of(base_url) {
            Base::V1(base) => join_url(base, "models"),
            Base::Resource(openai_root) => format!(
                "{openai_root}/models?api-version={}",
                encode(&self.api_version)
            ),
        };
        Ok(WireRequest::get(url))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        openai::passthrough_json(body, "the model list").map_err(refine_in_band)
    }
}

/// Azure chunks are OpenAI's (plus `prompt_filter_results` / `content_filter_results`, passed on
/// as they came); only in-band errors are refined.
struct AzureStream;

impl StreamDecode for AzureStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        OpenAiStream.decode(event, sink).map_err(refine_in_band)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamBody;
    use crate::providers::test_support::upstream_error;
    use serde_json::{json, Value};

    fn azure(version: Option<&str>) -> Azure {
        Azure::from_settings(&ProviderSettings {
            api_version: version.map(str::to_string),
            ..Default::default()
        })
        .unwrap()
    }

    fn upstream(status: u16, body: Value) -> UpstreamError {
        upstream_error(status, UpstreamBody::Json(body))
    }

    const BODY: &str = r#"{"model":"my-gpt4o","messages":[{"role":"user","content":"hi"}],"logit_bias":{"42":1},"seed":7}"#;

    #[test]
    fn chat_goes_to_the_deployment_with_the_api_version_and_the_body_untouched() {
        let wire = azure(None)
            .chat_request("https://res.openai.azure.com/", Bytes::from(BODY), false)
            .unwrap();
        assert_eq!(wire.method, http::Method::POST);
        assert_eq!(
            wire.url,
            "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(wire.body.unwrap(), BODY.as_bytes());
        assert!(wire.headers.is_empty());
    }

    #[test]
    fn settings_choose_the_version_and_base_urls_take_several_forms() {
        let a = azure(Some("2025-01-01-preview"));
        let url = |base: &str| a.chat_request(base, Bytes::from(BODY), true).unwrap().url;
        let want = "https://r.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01-preview";
        assert_eq!(url("https://r.openai.azure.com"), want);
        assert_eq!(url("https://r.openai.azure.com/openai/"), want);
        // The v1 API: OpenAI's paths, the deployment stays in the body.
        assert_eq!(
            url("https://r.openai.azure.com/openai/v1/"),
            "https://r.openai.azure.com/openai/v1/chat/completions"
        );
        // Blank settings fall back to the default.
        assert_eq!(azure(Some("  ")).api_version, DEFAULT_API_VERSION);
    }

    #[test]
    fn deployment_names_are_encoded_and_required() {
        let body = Bytes::from(r#"{"model":"gpt 4o/x","messages":[]}"#);
        let wire = azure(None).chat_request("https://r", body, false).unwrap();
        assert_eq!(
            wire.url,
            "https://r/openai/deployments/gpt%204o%2Fx/chat/completions?api-version=2024-10-21"
        );
        for bad in [
            r#"{"messages":[]}"#,
            r#"{"model":" ","messages":[]}"#,
            "nope",
        ] {
            let e = azure(None)
                .chat_request("https://r", Bytes::from(bad), false)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn the_key_goes_in_an_api_key_header() {
        let mut headers = http::HeaderMap::new();
        azure(None)
            .authorize("azure-key-123", &mut headers)
            .unwrap();
        assert_eq!(headers["api-key"], "azure-key-123");
        assert!(headers["api-key"].is_sensitive());
        assert!(headers.get(http::header::AUTHORIZATION).is_none());
    }

    #[test]
    fn embeddings_and_models_urls() {
        let a = azure(None);
        let body = Bytes::from(r#"{"model":"text-embedding-3-small","input":["a"]}"#);
        let wire = a
            .embed_request("https://r.openai.azure.com", body.clone())
            .unwrap();
        assert_eq!(
            wire.url,
            "https://r.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21"
        );
        assert_eq!(wire.body.unwrap(), body);
        let wire = a.models_request("https://r.openai.azure.com/").unwrap();
        assert_eq!(wire.method, http::Method::GET);
        assert_eq!(
            wire.url,
            "https://r.openai.azure.com/openai/models?api-version=2024-10-21"
        );
        assert_eq!(
            a.models_request("https://r/openai/v1").unwrap().url,
            "https://r/openai/v1/models"
        );
    }

    #[test]
    fn completions_decode_as_openai_with_content_filter_finishes() {
        // From Azure's 2024-10-21 reference, with the filter annotations Azure adds.
        let body = br#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":"content_filter","index":0,"logprobs":null,"message":{"content":"Hello! It looks like","refusal":null,"role":"assistant"}}],"created":1756749680,"id":"chatcmpl-CB38CGNFrrplmi6y7Sw64xcY6QqIm","model":"gpt-4.1-2025-04-14","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"system_fingerprint":"fp_c79ab13e31","usage":{"completion_tokens":5,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":2,"rejected_prediction_tokens":0},"prompt_tokens":8,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":3},"total_tokens":13}}"#;
        let c = azure(None).decode_completion(body, "").unwrap();
        assert_eq!(c.json.as_bytes(), body);
        let usage = c.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (8, 5, 13)
        );
        assert_eq!(usage.cached_tokens(), 3);
        assert_eq!(usage.completion_tokens_details.unwrap().reasoning_tokens, 2);
        let parsed: Value = serde_json::from_str(&c.json).unwrap();
        assert_eq!(parsed["choices"][0]["finish_reason"], "content_filter");
    }

    #[test]
    fn a_stream_transcript_passes_through_with_its_filter_preamble() {
        let events = [
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#,
            r#"{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1772304649,"id":"chatcmpl-1","model":"gpt-4o-mini","object":"chat.completion.chunk","system_fingerprint":null}"#,
            r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Sunny"},"finish_reason":null,"index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk"}"#,
            r#"{"choices":[{"content_filter_results":{},"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null,"index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk"}"#,
            r#"{"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk"}"#,
            r#"{"choices":[],"id":"chatcmpl-1","object":"chat.completion.chunk","usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}"#,
            "[DONE]",
        ];
        let mut decoder = azure(None).stream_decoder("");
        let mut sink = StreamSink::default();
        let mut outcomes = Vec::new();
        for data in events {
            let event = SseEvent {
                data: data.into(),
                ..Default::default()
            };
            outcomes.push(decoder.decode(&event, &mut sink).unwrap());
        }
        assert_eq!(outcomes.last(), Some(&EventOutcome::Done));
        let p = sink.progress.clone();
        assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (6, 5, 1));
        assert_eq!(p.finish_reason.as_deref(), Some("stop"));
        assert_eq!(p.usage.unwrap().total_tokens, 18);
        let batch: Value = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
        assert_eq!(batch[0]["prompt_filter_results"][0]["prompt_index"], 0);
        assert_eq!(batch[2]["choices"][0]["delta"]["content"], "Sunny");
    }

    #[test]
    fn in_band_errors_are_typed() {
        let mut sink = StreamSink::default();
        let event = |data: &str| SseEvent {
            data: data.into(),
            ..Default::default()
        };
        // Azure's capacity error, as it arrives inside a stream.
        let overloaded = r#"{"error":{"message":"That model is currently overloaded with other requests. You can retry your request.","type":"server_error","param":null,"code":null}}"#;
        let e = AzureStream
            .decode(&event(overloaded), &mut sink)
            .unwrap_err();
        assert_eq!((e.kind(), e.retryable()), (ErrorKind::Overloaded, true));
        let e = azure(None)
            .decode_completion(br#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit"}}"#, "")
            .unwrap_err();
        assert_eq!((e.kind(), e.retryable()), (ErrorKind::RateLimited, true));
        let e = azure(None)
            .decode_embeddings(br#"{"error":{"code":"content_filter","message":"filtered"}}"#)
            .unwrap_err();
        assert_eq!((e.kind(), e.retryable()), (ErrorKind::ContentFilter, false));
        let e = AzureStream.decode(&event("<html>"), &mut sink).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
    }

    #[test]
    fn http_errors_are_classified() {
        let a = azure(None);
        let classify = |status: u16, body: Value| {
            let mut u = upstream(status, body);
            a.classify(&mut u);
            (u.kind, u.retryable)
        };
        // Azure's documented content-filter refusal.
        let filtered = json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "type": null, "param": "prompt", "code": "content_filter", "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
                "hate": {"filtered": true, "severity": "high"},
                "violence": {"filtered": false, "severity": "safe"}}}}});
        assert_eq!(classify(400, filtered), (ErrorKind::ContentFilter, false));
        let jailbreak = json!({"error": {"message": "blocked", "code": "400",
            "innererror": {"code": "ResponsibleAIPolicyViolation"}}});
        assert_eq!(classify(400, jailbreak), (ErrorKind::ContentFilter, false));
        let too_long = json!({"error": {"message": "This model's maximum context length is 128000 tokens.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}});
        assert_eq!(
            classify(400, too_long),
            (ErrorKind::ContextLengthExceeded, false)
        );
        let throttled = json!({"error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}});
        assert_eq!(classify(429, throttled), (ErrorKind::RateLimited, true));
        let denied = json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}});
        assert_eq!(classify(401, denied), (ErrorKind::Auth, false));
        let busy = json!({"error": {"message": "The service is temporarily unable to process your request.", "type": "server_error", "code": null}});
        assert_eq!(classify(503, busy), (ErrorKind::Overloaded, true));
        assert_eq!(
            classify(
                500,
                json!({"error": {"message": "The server had an error", "type": "server_error"}})
            ),
            (ErrorKind::UpstreamError, true)
        );
        let missing = json!({"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist."}});
        assert_eq!(classify(404, missing), (ErrorKind::NotFound, false));
        let mut html = UpstreamError {
            body: UpstreamBody::Text("<html>busy</html>".into()),
            ..upstream(503, json!(null))
        };
        a.classify(&mut html);
        assert_eq!((html.kind, html.retryable), (ErrorKind::Overloaded, true));
    }
}
