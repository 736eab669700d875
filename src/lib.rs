//! Node.js binding of `switchyard-core`: thin glue. Requests cross the boundary once as a JSON
//! string; answers come back as one JSON string (or one JSON array string per stream batch).

pub mod client;
pub mod errors;
mod options;
pub mod router;
pub mod routing;
pub mod usage;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use switchyard_core::Error;
use tokio_util::sync::CancellationToken;

use crate::errors::{failure, outcome, CallLabel, Outcome};

/// Run `fut` on the shared runtime: aborted by `cancel`, a panic turned into an `internal`
/// failure. The promise always resolves: with the value, or with the failure as data.
pub(crate) fn spawn<T, F>(
    env: &Env,
    label: CallLabel,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<PromiseRaw<'_, Outcome<T>>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = std::result::Result<T, Error>>,
{
    let for_result = label.clone();
    spawn_outcome(env, label, cancel, async move {
        outcome(fut.await, &for_result)
    })
}

/// [`spawn`] for a future that settles its own outcome (a router call's failure carries events).
pub(crate) fn spawn_outcome<T, F>(
    env: &Env,
    label: CallLabel,
    cancel: Option<CancellationToken>,
    fut: F,
) -> Result<PromiseRaw<'_, Outcome<T>>>
where
    T: 'static + Send + ToNapiValue,
    F: 'static + Send + Future<Output = Outcome<T>>,
{
    // Boxed once here: the call's future is kilobytes, and napi's wrappers would move it by value.
    let fut = Box::pin(fut);
    env.spawn_future(async move {
        let guarded = AssertUnwindSafe(async move {
            match cancel {
                Some(token) => tokio::select! {
                    biased;
                    _ = token.cancelled() => Either::B(failure(Error::Aborted, &label)),
                    out = fut => out,
                },
                None => fut.await,
            }
        })
        .catch_unwind();
        Ok(guarded.await.unwrap_or_else(|panic| {
            let err = Error::Internal(format!("panic: {}", panic_text(&*panic)));
            Either::B(failure(err, &CallLabel::new("switchyard", "")))
        }))
    })
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Panics inside the Rust core on purpose. It exists so the test suite can prove a panic
/// resolves as an `internal` failure instead of taking down the Node process.
#[napi(ts_return_type = "Promise<undefined | NativeFailure>")]
pub fn trigger_panic_for_testing(
    env: &Env,
    message: String,
) -> Result<PromiseRaw<'_, Outcome<()>>> {
    spawn(env, CallLabel::new("switchyard", ""), None, async move {
        if !message.is_empty() {
            panic!("{message}");
        }
        Ok(())
    })
}
