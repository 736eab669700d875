//! Node.js binding of `switchyard-core`: thin glue. Requests cross the boundary once as a JSON
//! string; answers come back as one JSON string (or one JSON array string per stream batch).

pub mod client;
mod errors;
mod options;
pub mod routing;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use switchyard_core::usage::{builtin_price, Usage};
use switchyard_core::Error;
use tokio_util::sync::CancellationToken;

use crate::errors::{to_napi, CallLabel};

/// Run `fut` on the shared runtime: aborted by `cancel`, a panic turned into an `internal` error,
/// every failure mapped to a JS error carrying `kind`.
pub(crate) fn spawn<T, F>(
    env: &Env,
    label: CallLabel,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<PromiseRaw<'_, T>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = std::result::Result<T, Error>>,
{
    // Boxed once here: the call's future is kilobytes, and napi's wrappers would move it by value.
    let fut = Box::pin(fut);
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
