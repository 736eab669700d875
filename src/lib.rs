//! Node.js binding of `switchyard-core`: thin glue. Requests cross the boundary once as a JSON
//! string; answers come back as one JSON string (or one JSON array string per stream batch).

mod errors;
mod options;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use switchyard_core::usage::{builtin_price, Usage};
use switchyard_core::{ChatClient, ChatStream, ClientConfig, Error};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::errors::{to_napi, CallLabel};
use crate::options::BindingClientOptions;

/// Run `fut` on the shared runtime: aborted by `cancel`, a panic turned into an `internal` error,
/// every failure mapped to a JS error carrying `kind`.
fn spawn<T, F>(
    env: &Env,
    label: CallLabel,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<PromiseRaw<'_, T>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = std::result::Result<T, Error>>,
{
    env.spawn_future(async move {
        let guarded = AssertUnwindSafe(async move {
            match cancel {
                Some(token) => tokio::select! {
                    biased;
                    _ = token.cancelled() => Err(Error::Aborted),
                    out = fut => out,
                },
                None => fut.await,
            }
        })
        .catch_unwind();
        match guarded.await {
            Ok(out) => out.map_err(|e| to_napi(e, &label)),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(to_napi(Error::Internal(format!("panic: {what}")), &label))
            }
        }
    })
}

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
    /// `provider` names the upstream in errors (e.g. `litellm`).
    #[napi(constructor)]
    pub fn new(provider: String, options: BindingClientOptions) -> Result<Self> {
        let label = CallLabel {
            provider: provider.clone(),
            model: String::new(),
        };
        let client =
            ChatClient::new(ClientConfig::from(options)).map_err(|e| to_napi(e, &label))?;
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

    /// A streamed chat completion: resolves once the upstream accepted the request.
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
            Ok(NativeStream {
                inner: Arc::new(Mutex::new(Some(stream))),
                cancel: CancellationToken::new(),
                label,
            })
        })
    }
}

/// An open stream. Dropping it, or `abort()`, closes the upstream request.
#[napi]
pub struct NativeStream {
    inner: Arc<Mutex<Option<ChatStream>>>,
    cancel: CancellationToken,
    label: CallLabel,
}

#[napi]
impl NativeStream {
    /// The chunks ready now as a JSON array string (waiting only when none are), `null` at the end.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
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

/// List-price cost in USD of a call to `model`, or `null` when the model is not in the table.
#[napi]
pub fn estimate_cost(
    model: String,
    prompt_tokens: f64,
    completion_tokens: f64,
    cached_tokens: Option<f64>,
) -> Option<f64> {
    let price = builtin_price(&model)?;
    let usage = Usage {
        prompt_tokens: prompt_tokens as u64,
        completion_tokens: completion_tokens as u64,
        total_tokens: (prompt_tokens + completion_tokens) as u64,
        prompt_tokens_details: cached_tokens.map(|c| switchyard_core::usage::PromptDetails {
            cached_tokens: c as u64,
        }),
        completion_tokens_details: None,
    };
    Some(price.cost(&usage))
}

/// Panics inside the Rust core on purpose. It exists so the test suite can prove a panic
/// rejects a promise instead of taking down the Node process.
#[napi(ts_return_type = "Promise<void>")]
pub fn trigger_panic_for_testing(env: &Env, message: String) -> Result<PromiseRaw<'_, ()>> {
    let label = CallLabel {
        provider: "switchyard".into(),
        model: String::new(),
    };
    spawn(env, label, None, async move {
        if !message.is_empty() {
            panic!("{message}");
        }
        Ok(())
    })
}
