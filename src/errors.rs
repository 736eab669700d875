//! The one place core errors become JS values. A failed call resolves with a `NativeFailure`
//! (plain data, never a thrown string) that `lib/native.js` turns into a `SwitchyardError`.

use std::collections::HashMap;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use serde_json::Value;
use switchyard_core::{Error, ErrorKind, UpstreamBody};

/// Who a call was for, attached to every error it raises.
#[derive(Clone)]
pub struct CallLabel {
    pub provider: String,
    pub model: String,
}

impl CallLabel {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
        }
    }
}

/// A failed call, as data. Field names are `SwitchyardError`'s.
#[napi(object)]
pub struct NativeFailure {
    /// One of `errorKinds()`.
    pub kind: String,
    pub message: String,
    pub retryable: bool,
    pub provider: String,
    pub model: String,
    /// The upstream's HTTP status, when it answered with one.
    pub status: Option<u32>,
    /// The upstream's response headers (lower-case names), with the status.
    pub headers: Option<HashMap<String, String>>,
    /// The body's `error` object, as the `openai` SDK exposes it.
    pub error: Option<Value>,
    /// The whole upstream body: JSON, or the text of a non-JSON page.
    pub body: Option<Value>,
    /// Seconds the upstream asked us to wait.
    pub retry_after: Option<f64>,
    /// For routed calls: what the router did before it gave up.
    pub events: Option<Value>,
    /// For `policy` and `budget_exceeded`: the governance rule that refused the call.
    pub rule: Option<String>,
}

/// What every native call resolves with: its value, or what went wrong.
pub type Outcome<T> = Either<T, NativeFailure>;

pub fn failure(err: Error, label: &CallLabel) -> NativeFailure {
    let mut out = NativeFailure {
        kind: err.kind().as_str().into(),
        message: err.to_string(),
        retryable: err.retryable(),
        provider: label.provider.clone(),
        model: label.model.clone(),
        status: None,
        headers: None,
        error: None,
        body: None,
        retry_after: None,
        events: None,
        rule: None,
    };
    if let Some(u) = err.upstream() {
        if let Some(status) = u.status {
            out.status = Some(status.into());
            out.headers = Some(u.headers.iter().cloned().collect());
        }
        out.error = u.error_object().cloned();
        out.body = Some(match &u.body {
            UpstreamBody::Json(v) => v.clone(),
            UpstreamBody::Text(t) => t.clone().into(),
            UpstreamBody::Empty => Value::Null,
        });
        out.retry_after = u.retry_after.map(|wait| wait.as_secs_f64());
    }
    if let Error::Refused(r) = &err {
        // Shaped as a proxy would answer it, so `err.status` and `err.name` read the same.
        out.status = Some(r.status().into());
        out.error = Some(serde_json::json!({
            "message": r.message,
            "type": r.kind.as_str(),
            "code": r.kind.as_str(),
            "param": null,
        }));
        out.retry_after = r.retry_after.map(|wait| wait.as_secs_f64());
        out.rule = Some(r.rule.clone());
    }
    out
}

/// `result` as the value JS receives: failures travel as data.
pub fn outcome<T>(result: Result<T, Error>, label: &CallLabel) -> Outcome<T> {
    match result {
        Ok(value) => Either::A(value),
        Err(err) => Either::B(failure(err, label)),
    }
}

/// Every error kind, defined once in the core; `ERROR_KINDS` and the `.d.ts` union follow it.
#[napi]
pub fn error_kinds() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|k| k.as_str()).collect()
}
