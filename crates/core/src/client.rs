//! A chat client for one upstream: headers prepared once, the shared connection pool, retries
//! and timeouts.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::error::{Error, ErrorKind, Redactor, UpstreamBody, UpstreamError};
use crate::http::{shared_client, TransportSettings};
use crate::providers::{
    join_url, ChatProvider, Completion, FollowUp, Framing, Provider, WireRequest,
};
use crate::retry::{server_delay, status_is_retryable, RetryPolicy};
use crate::stream::ChatStream;

/// How to reach one upstream.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub provider: Provider,
    pub base_url: String,
    pub api_key: Option<String>,
    /// Sent on every request. They override the credentials header whatever their case; `None`
    /// removes a header.
    pub default_headers: Vec<(String, Option<String>)>,
    /// Per attempt: the whole non-streamed call, or a stream's wait for headers and for each
    /// chunk after them.
    pub timeout: Duration,
    pub transport: TransportSettings,
    pub retry: RetryPolicy,
    /// More secrets to scrub from errors (AWS secret keys, …); the API key always is.
    pub secrets: Vec<String>,
}

impl ClientConfig {
    /// The defaults of the `openai` SDK: 10 minute timeout, 2 retries.
    pub fn new(provider: Provider, base_url: impl Into<String>) -> Self {
        Self {
            provider,
            base_url: base_url.into(),
            api_key: None,
            default_headers: Vec::new(),
            timeout: Duration::from_secs(600),
            transport: TransportSettings::default(),
            retry: RetryPolicy::default(),
            secrets: Vec::new(),
        }
    }
}

pub struct ChatClient {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    headers: HeaderMap,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    redactor: Redactor,
    /// The URL of the last request, parsed: most clients send every request to one URL, and
    /// parsing it (host, IDNA, path) each time costs more than a lookup.
    last_url: Mutex<Option<(String, reqwest::Url)>>,
}

fn header_name(name: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::InvalidInput(format!("invalid header name {name:?}")))
}

fn looks_secret(name: &HeaderName) -> bool {
    let n = name.as_str();
    n.contains("auth") || n.contains("key") || n.contains("token") || n.contains("secret")
}

impl ChatClient {
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let url = reqwest::Url::parse(&config.base_url).map_err(|e| {
            Error::InvalidInput(format!("invalid base URL {:?}: {e}", config.base_url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!(
                "the base URL must be http or https, got {:?}",
                url.scheme()
            )));
        }
        let mut secrets: Vec<String> = config.api_key.iter().cloned().collect();
        secrets.extend(config.secrets.iter().cloned());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        // Per request rather than a client default, so `defaultHeaders` can replace or remove it.
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("switchyard/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(key) = &config.api_key {
            config.provider.authorize(key, &mut headers)?;
        }
        for (name, value) in &config.default_headers {
            let name = header_name(name)?;
            match value {
                None => {
                    headers.remove(&name);
                }
                Some(value) => {
                    let mut v = HeaderValue::from_str(value).map_err(|_| {
                        Error::InvalidInput(format!("invalid value for header {name}"))
                    })?;
                    if looks_secret(&name) {
                        v.set_sensitive(true);
                        secrets.push(value.clone());
                    }
                    headers.insert(name, v);
                }
            }
        }
        Ok(Self {
            http: shared_client(&config.transport)?,
            provider: config.provider,
            base_url: config.base_url,
            headers,
            timeout: config.timeout,
            connect_timeout: config.transport.connect_timeout,
            retry: config.retry,
            redactor: Redactor::new(secrets),
            last_url: Mutex::new(None),
        })
    }

    /// One non-streamed chat call: `body` is the canonical request JSON.
    pub async fn complete(&self, body: Bytes) -> Result<Completion, Error> {
        let wire = self.provider.chat_request(&self.base_url, body, false)?;
        let model = wire.model.clone().unwrap_or_default();
        let mut bytes = self.call(&wire).await?;
        let started = Instant::now();
        while let Some(next) = self
            .provider
            .follow_up(&bytes, false)
            .map_err(|e| self.redactor.error(e))?
        {
            self.wait_for_follow_up(&next, started).await?;
            bytes = self.call(&next.request).await?;
        }
        self.provider
            .decode_completion(&bytes, &model)
            .map_err(|e| self.redactor.error(e))
    }

    /// One streamed chat call: resolves once the upstream accepted it (so HTTP errors surface
    /// here, not as an empty stream) and its first chunk, or its end, is ready to be taken.
    pub async fn stream(&self, body: Bytes) -> Result<ChatStream, Error> {
        let mut wire = self.provider.chat_request(&self.base_url, body, true)?;
        // Follow-ups are the same answer: it stays for the first request's model.
        let model = wire.model.clone().unwrap_or_default();
        let started = Instant::now();
        loop {
            let response = self.with_retries(|| self.send(&wire)).await?;
            if !is_json(&response) {
                let stream = ChatStream::new(
                    response,
                    &self.provider,
                    &model,
                    self.timeout,
                    self.redactor.clone(),
                );
                // The first batch is then ready for the first `next_batch`: one wait less
                // before the first token.
                stream.wait_ready().await;
                return Ok(stream);
            }
            // A JSON answer to a stream request: the first step of a multi-request provider, or a
            // server that reports a failure as JSON with a 200.
            let bytes = self.read_body(response).await?;
            let next = self
                .provider
                .follow_up(&bytes, true)
                .map_err(|e| self.redactor.error(e))?;
            if let Some(next) = next {
                self.wait_for_follow_up(&next, started).await?;
                wire = next.request;
                continue;
            }
            self.provider
                .decode_completion(&bytes, &model)
                .map_err(|e| self.redactor.error(e))?;
            return Err(Error::BadResponse(
                "asked for a stream, the upstream sent a whole JSON completion".into(),
            ));
        }
    }

    /// Embeddings: `body` is OpenAI's `{ model, input }`; answers OpenAI's embeddings JSON.
    pub async fn embed(&self, body: Bytes) -> Result<String, Error> {
        let wire = self.provider.embed_request(&self.base_url, body)?;
        let bytes = self.call(&wire).await?;
        self.provider
            .decode_embeddings(&bytes)
            .map_err(|e| self.redactor.error(e))
    }

    /// The provider's model list as `{"object":"list","data":[…]}`.
    pub async fn list_models(&self) -> Result<String, Error> {
        let wire = self.provider.models_request(&self.base_url)?;
        let bytes = self.call(&wire).await?;
        self.provider
            .decode_models(&bytes)
            .map_err(|e| self.redactor.error(e))
    }

    /// Any other JSON endpoint of the provider (`path` under the base URL), with the same
    /// credentials, retries and errors. Answers the JSON text (`null` for an empty body).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<String, Error> {
        let wire = self.raw_request(method, path, body);
        let bytes = self.call(&wire).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok("null".into());
        }
        crate::providers::openai::passthrough_json(&bytes, "the response")
            .map_err(|e| self.redactor.error(e))
    }

    /// Like [`Self::request`] for an endpoint that streams JSON values (NDJSON or SSE); each
    /// value arrives as a chunk, unchanged.
    pub async fn request_stream(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        framing: Framing,
    ) -> Result<ChatStream, Error> {
        let wire = self.raw_request(method, path, body);
        let response = self.with_retries(|| self.send(&wire)).await?;
        Ok(ChatStream::passthrough(
            response,
            framing,
            self.timeout,
            self.redactor.clone(),
        ))
    }

    fn raw_request(&self, method: Method, path: &str, body: Option<Bytes>) -> WireRequest {
        WireRequest {
            method,
            url: join_url(&self.base_url, path),
            body,
            headers: HeaderMap::new(),
            model: None,
        }
    }

    /// Send `wire` with retries and read the whole successful body.
    async fn call(&self, wire: &WireRequest) -> Result<Bytes, Error> {
        self.with_retries(|| async {
            let response = self.send(wire).await?;
            self.read_body(response).await
        })
        .await
    }

    async fn read_body(&self, response: reqwest::Response) -> Result<Bytes, Error> {
        response.bytes().await.map_err(|e| self.transport_error(&e))
    }

    async fn wait_for_follow_up(&self, next: &FollowUp, started: Instant) -> Result<(), Error> {
        if started.elapsed() + next.after > self.timeout {
            return Err(Error::Timeout {
                phase: "waiting for the upstream to finish",
                after: self.timeout,
            });
        }
        tokio::time::sleep(next.after).await;
        Ok(())
    }

    /// `url` parsed, from the last request's when it is the same; `None` when it does not parse.
    fn parsed(&self, url: &str) -> Option<reqwest::Url> {
        let mut last = self.last_url.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, parsed)) = last.as_ref().filter(|(text, _)| text == url) {
            return Some(parsed.clone());
        }
        let parsed = reqwest::Url::parse(url).ok()?;
        *last = Some((url.to_string(), parsed.clone()));
        Some(parsed)
    }

    async fn send(&self, wire: &WireRequest) -> Result<reqwest::Response, Error> {
        // The provider's headers replace the shared ones of the same name (one `accept`, …).
        let mut headers = self.headers.clone();
        for (name, value) in &wire.headers {
            headers.insert(name, value.clone());
        }
        let builder = match self.parsed(&wire.url) {
            Some(url) => self.http.request(wire.method.clone(), url),
            // reqwest says what is wrong with it.
            None => self.http.request(wire.method.clone(), &wire.url),
        };
        let mut builder = builder.headers(headers);
        if let Some(body) = &wire.body {
            builder = builder.body(body.clone());
        }
        let mut request = builder.build().map_err(|e| {
            Error::InvalidInput(format!("cannot build the request: {}", e.without_url()))
        })?;
        self.provider.sign(&mut request)?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| self.transport_error(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let mut error = upstream_error(response).await;
        self.provider.classify(&mut error);
        Err(Error::Upstream(Box::new(error)))
    }

    fn transport_error(&self, err: &reqwest::Error) -> Error {
        if err.is_connect() && err.is_timeout() {
            return Error::Timeout {
                phase: "connecting",
                after: self.connect_timeout,
            };
        }
        Error::from_transport(err)
    }

    /// Run `attempt` under the per-attempt timeout, retrying what the policy allows.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut retry = 0;
        loop {
            let err = match tokio::time::timeout(self.timeout, attempt()).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(err)) => err,
                Err(_) => Error::Timeout {
                    phase: "waiting for the upstream",
                    after: self.timeout,
                },
            };
            if retry >= self.retry.max_retries || !err.retryable() {
                return Err(self.redactor.error(err));
            }
            let delay = self
                .retry
                .delay(retry, err.upstream().and_then(|u| u.retry_after));
            tracing::debug!(
                kind = err.kind().as_str(),
                status = err.upstream().and_then(|u| u.status),
                retry = retry + 1,
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }
}

/// Most error bodies are tiny; an endless one must not be read into memory.
const MAX_ERROR_BODY: usize = 64 * 1024;

async fn upstream_error(mut response: reqwest::Response) -> UpstreamError {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut raw = Vec::new();
    while raw.len() < MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => raw.extend_from_slice(&chunk),
            _ => break,
        }
    }
    raw.truncate(MAX_ERROR_BODY);
    let body = if raw.iter().all(u8::is_ascii_whitespace) {
        UpstreamBody::Empty
    } else {
        serde_json::from_slice(&raw).map_or_else(
            |_| UpstreamBody::Text(String::from_utf8_lossy(&raw).into_owned()),
            UpstreamBody::Json,
        )
    };
    UpstreamError {
        status: Some(status),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body,
        kind: ErrorKind::from_status(status),
        retryable: status_is_retryable(status, &headers),
        retry_after: server_delay(&headers),
    }
}

fn is_json(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
