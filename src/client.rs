//! The JS-facing client and stream: one boundary crossing per call, one per stream batch.

use std::sync::Arc;

use http::Method;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use switchyard_core::providers::Framing;
use switchyard_core::{ChatClient, ChatStream, Error};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::errors::{to_napi, CallLabel};
use crate::options::{client_config, BindingClientOptions};
use crate::spawn;

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

/// A client for one OpenAI-compatible upstream, sharing the process-wide connection pool.
#[napi]
pub struct NativeClient {
    inner: Arc<ChatClient>,
    provider: String,
}

#[napi]
impl NativeClient {
    /// A client for `provider`: a provider id (`openai`, `anthropic`, … as `resolveModel`
    /// names them) or `litellm` (OpenAI's wire format at `options.baseUrl`).
    #[napi(constructor)]
    pub fn new(provider: String, options: BindingClientOptions) -> Result<Self> {
        let label = CallLabel {
            provider: provider.clone(),
            model: String::new(),
        };
        let client = client_config(&provider, options)
            .and_then(ChatClient::new)
            .map_err(|e| to_napi(e, &label))?;
        Ok(Self {
            inner: Arc::new(client),
            provider,
        })
    }

    fn label(&self, model: String) -> CallLabel {
        CallLabel {
            provider: self.provider.clone(),
            model,
        }
    }

    /// One chat completion. `body` is the request JSON; resolves to the response JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, self.label(model), cancel, async move {
            Ok(client.complete(body.into()).await?.json)
        })
    }

    /// A streamed chat completion: resolves once the upstream accepted the request and its first
    /// chunk is ready.
    #[napi(ts_return_type = "Promise<NativeStream>")]
    pub fn stream<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, NativeStream>> {
        let client = self.inner.clone();
        let label = self.label(model);
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, label.clone(), cancel, async move {
            let stream = client.stream(body.into()).await?;
            Ok(NativeStream::new(stream, label))
        })
    }

    /// Embeddings: `body` is OpenAI's `{ model, input }`; resolves to OpenAI's embeddings JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn embed<'env>(
        &self,
        env: &'env Env,
        body: String,
        model: String,
        abort: Option<&AbortHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        let cancel = abort.map(|a| a.token.clone());
        spawn(env, self.label(model), cancel, async move {
            client.embed(body.into()).await
        })
    }

    /// The provider's models as `{"object":"list","data":[…]}` JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn list_models<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        spawn(env, self.label(String::new()), None, async move {
            client.list_models().await
        })
    }

    /// Any JSON endpoint under the base URL, with the client's credentials, retries and errors.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn request<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        body: Option<String>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        let method = parse_method(&method);
        spawn(env, self.label(String::new()), None, async move {
            client.request(method?, &path, body.map(Into::into)).await
        })
    }

    /// An endpoint that streams JSON values (`framing`: `ndjson` or `sse`), each a chunk.
    #[napi(ts_return_type = "Promise<NativeStream>")]
    pub fn request_stream<'env>(
        &self,
        env: &'env Env,
        method: String,
        path: String,
        body: Option<String>,
        #[napi(ts_arg_type = "'ndjson' | 'sse'")] framing: String,
    ) -> Result<PromiseRaw<'env, NativeStream>> {
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
            Ok(NativeStream::new(stream, label))
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
    inner: Arc<Mutex<Option<ChatStream>>>,
    cancel: CancellationToken,
    label: CallLabel,
}

impl NativeStream {
    fn new(stream: ChatStream, label: CallLabel) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Some(stream))),
            cancel: CancellationToken::new(),
            label,
        }
    }
}

#[napi]
impl NativeStream {
    /// The chunks ready now as a JSON array string (waiting only when none are), `null` at the end.
    /// What is ready already comes back at once, not as a promise: a trip through the runtime
    /// costs more than a small batch.
    #[napi(ts_return_type = "string | null | Promise<string | null>")]
    pub fn next<'env>(
        &self,
        env: &'env Env,
    ) -> Result<Either<Option<String>, PromiseRaw<'env, Option<String>>>> {
        let mut guard = self
            .inner
            .try_lock()
            .ok()
            .filter(|_| !self.cancel.is_cancelled());
        if let Some(guard) = guard.as_mut() {
            if let Some(out) = guard.as_mut().and_then(ChatStream::try_next_batch) {
                if !matches!(out, Ok(Some(_))) {
                    guard.take();
                }
                return match out {
                    Ok(batch) => Ok(Either::A(batch)),
                    Err(e) => {
                        spawn(env, self.label.clone(), None, async move { Err(e) }).map(Either::B)
                    }
                };
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

    /// Stop reading and close the upstream request.
    #[napi]
    pub fn abort(&self) {
        self.cancel.cancel();
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        }
    }
}
