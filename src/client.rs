//! The JS-facing client and stream: one boundary crossing per call, one per stream batch.

use std::sync::Arc;

use http::Method;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use switchyard_core::providers::Framing;
use switchyard_core::router::RoutedStream;
use switchyard_core::{ChatClient, ChatStream, Error};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::errors::{outcome, CallLabel, Outcome};
use crate::options::{client_config, BindingClientOptions};
use crate::spawn;
use crate::usage::BindingPrice;

/// Cancels the call it is passed to; `abort()` is what an `AbortSignal` listener calls.
#[napi]
#[derive(Default)]
pub struct AbortHandle {
    token: CancellationToken,
}

#[napi]
impl AbortHandle {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    #[napi]
    pub fn abort(&self) {
        self.token.cancel();
    }
}

impl AbortHandle {
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

/// A client for one provider, sharing the process-wide connection pool; made by `createClient`.
#[napi]
pub struct NativeClient {
    inner: Arc<ChatClient>,
    provider: String,
}

/// A client for `provider`: a provider id (`openai`, `anthropic`, … as `resolveModel` names
/// them) or `litellm` (OpenAI's wire format at `options.baseUrl`).
#[napi(catch_unwind)]
pub fn create_client(provider: String, options: BindingClientOptions) -> Outcome<NativeClient> {
    let label = CallLabel::new(provider.clone(), "");
    let client = client_config(&provider, options).and_then(ChatClient::new);
    outcome(
        client.map(|client| NativeClient {
            inner: Arc::new(client),
            provider,
        }),
        &label,
    )
}

#[napi]
impl NativeClient {
    fn label(&self, model: String) -> CallLabel {
        CallLabel::new(self.provider.clone(), model)
    }

    /// One chat completion. `body` is the request JSON; resolves to the response JSON.
    #[napi(ts_return_type = "Promise<string | NativeFailure>")]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, Outcome<String>>> {
        let client = self.inner.clone();
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, self.label(model), cancel, async move {
            Ok(client.complete(body.into()).await?.json)
        })
    }

    /// A streamed chat completion: resolves once the upstream accepted the request and its first
    /// chunk is ready.
    #[napi(ts_return_type = "Promise<NativeStream | NativeFailure>")]
    pub fn stream<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, Outcome<NativeStream>>> {
        let client = self.inner.clone();
        let label = self.label(model);
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, label.clone(), cancel, async move {
            let stream = client.stream(body.into()).await?;
            Ok(NativeStream::new(
                AnyStream::Direct(Box::new(stream)),
                label,
                None,
            ))
        })
    }

    /// Embeddings: `body` is OpenAI's `{ model, input }`; resolves to OpenAI's embeddings JSON.
    #[napi(ts_return_type = "Promise<string | NativeFailure>")]
    pub fn embed<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, Outcome<String>>> {
        let client = self.inner.clone();
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, self.label(model), cancel, async move {
            client.embed(body.into()).await
        })
    }

    /// The provider's models as `{"object":"list","data":[…]}` JSON.
    #[napi(ts_return_type = "Promise<string | NativeFailure>")]
    pub fn list_models<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Outcome<String>>> {
        let client = self.inner.clone();
        spawn(env, self.label(String::new()), None, async move {
            client.list_models().await
        })
    }

    /// Any JSON endpoint under the base URL, with the client's credentials, retries and errors.
    #[napi(ts_return_type = "Promise<string | NativeFailure>")]
    pub fn request<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        body: Option<String>,
    ) -> Result<PromiseRaw<'env, Outcome<String>>> {
        let client = self.inner.clone();
        let method = parse_method(&method);
        spawn(env, self.label(String::new()), None, async move {
            client.request(method?, &path, body.map(Into::into)).await
        })
    }

    /// An endpoint that streams JSON values (`framing`: `ndjson` or `sse`), each a chunk.
    #[napi(ts_return_type = "Promise<NativeStream | NativeFailure>")]
    pub fn request_stream<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        body: Option<String>,
        #[napi(ts_arg_type = "'ndjson' | 'sse'")] framing: String,
    ) -> Result<PromiseRaw<'env, Outcome<NativeStream>>> {
        let client = self.inner.clone();
        let method = parse_method(&method);
        let label = self.label(String::new());
        spawn(env, label.clone(), None, async move {
            let framing = match framing.as_str() {
                "ndjson" => Framing::Ndjson,
                "sse" => Framing::Sse,
                other => return Err(Error::InvalidInput(format!("unknown framing {other:?}"))),
            };
            let stream = client
                .request_stream(method?, &path, body.map(Into::into), framing)
                .await?;
            Ok(NativeStream::new(
                AnyStream::Direct(Box::new(stream)),
                label,
                None,
            ))
        })
    }
}

fn parse_method(method: &str) -> std::result::Result<Method, Error> {
    Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::InvalidInput(format!("invalid HTTP method {method:?}")))
}

/// An open stream. Dropping it, or `abort()`, closes the upstream request.
#[napi]
pub struct NativeStream {
    inner: Arc<Mutex<Option<AnyStream>>>,
    cancel: CancellationToken,
    label: CallLabel,
    routed: Option<Arc<RoutedInfo>>,
}

/// A provider's own stream, or one the router picked a deployment for.
pub(crate) enum AnyStream {
    Direct(Box<ChatStream>),
    Routed(RoutedStream),
}

impl AnyStream {
    async fn next_batch(&mut self) -> std::result::Result<Option<String>, Error> {
        match self {
            Self::Direct(s) => s.next_batch().await,
            Self::Routed(s) => s.next_batch().await,
        }
    }

    fn try_next_batch(&mut self) -> Option<std::result::Result<Option<String>, Error>> {
        match self {
            Self::Direct(s) => s.try_next_batch(),
            Self::Routed(s) => s.try_next_batch(),
        }
    }
}

/// How the router served a stream: known when it is handed over.
pub(crate) struct RoutedInfo {
    pub deployment: String,
    pub events: serde_json::Value,
    /// The deployment's price, for the stream's usage report whichever way it ends.
    pub price: Option<BindingPrice>,
}

impl RoutedInfo {
    pub(crate) fn new(
        deployment: String,
        events: serde_json::Value,
        price: Option<BindingPrice>,
    ) -> Arc<Self> {
        Arc::new(Self {
            deployment,
            events,
            price,
        })
    }
}

impl NativeStream {
    pub(crate) fn new(
        stream: AnyStream,
        label: CallLabel,
        routed: Option<Arc<RoutedInfo>>,
    ) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Some(stream))),
            cancel: CancellationToken::new(),
            label,
            routed,
        }
    }
}

/// A batch ready now, or a promise of the next one.
type NextBatch<'env> = Either<Outcome<Option<String>>, PromiseRaw<'env, Outcome<Option<String>>>>;

#[napi]
impl NativeStream {
    /// The chunks ready now as a JSON array string (waiting only when none are), `null` at the end.
    /// What is ready already comes back at once, not as a promise: a trip through the runtime
    /// costs more than a small batch.
    #[napi(
        ts_return_type = "string | null | NativeFailure | Promise<string | null | NativeFailure>"
    )]
    pub fn next<'env>(&self, env: &'env Env) -> Result<NextBatch<'env>> {
        let mut guard = self
            .inner
            .try_lock()
            .ok()
            .filter(|_| !self.cancel.is_cancelled());
        if let Some(guard) = guard.as_mut() {
            if let Some(out) = guard.as_mut().and_then(AnyStream::try_next_batch) {
                if !matches!(out, Ok(Some(_))) {
                    guard.take();
                }
                return Ok(Either::A(outcome(out, &self.label)));
            }
        }
        drop(guard);
        let inner = self.inner.clone();
        let cancel = self.cancel.clone();
        spawn(env, self.label.clone(), None, async move {
            let mut guard = inner.lock().await;
            let Some(stream) = guard.as_mut() else {
                return if cancel.is_cancelled() {
                    Err(Error::Aborted)
                } else {
                    Ok(None)
                };
            };
            let out = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(Error::Aborted),
                out = stream.next_batch() => out,
            };
            if !matches!(out, Ok(Some(_))) {
                // Ended, failed or aborted: release the connection now, not at GC.
                guard.take();
            }
            out
        })
        .map(Either::B)
    }

    /// For a routed stream: the deployment serving it.
    #[napi(getter)]
    pub fn deployment(&self) -> Option<String> {
        self.routed.as_ref().map(|r| r.deployment.clone())
    }

    /// For a routed stream: the price of its deployment (USD per million tokens).
    #[napi(getter)]
    pub fn price(&self) -> Option<BindingPrice> {
        self.routed.as_ref()?.price.clone()
    }

    /// For a routed stream: what the router did before handing it over.
    #[napi(getter)]
    pub fn events(&self) -> Option<serde_json::Value> {
        self.routed.as_ref().map(|r| r.events.clone())
    }

    /// Stop reading and close the upstream request.
    #[napi]
    pub fn abort(&self) {
        self.cancel.cancel();
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        }
    }
}
