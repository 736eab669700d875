//! The one place core errors become JS errors. The rejection's message carries a JSON payload
//! that `lib/errors.js` turns into a `SwitchyardError` with `kind`, `status`, `error`, ...

use serde_json::{json, Map, Value};
use switchyard_core::{Error, UpstreamBody};

/// Prefixes a payload so the JS side never mistakes another error for one of ours.
const MARKER: &str = "SWITCHYARD_ERROR:";

/// Who a call was for, attached to every error it raises.
#[derive(Clone)]
pub struct CallLabel {
    pub provider: String,
    pub model: String,
}

pub fn to_napi(err: Error, label: &CallLabel) -> napi::Error {
    let mut payload = Map::new();
    payload.insert("kind".into(), err.kind().as_str().into());
    payload.insert("message".into(), err.to_string().into());
    payload.insert("retryable".into(), err.retryable().into());
    payload.insert("provider".into(), label.provider.clone().into());
    payload.insert("model".into(), label.model.clone().into());
    if let Some(u) = err.upstream() {
        if let Some(status) = u.status {
            payload.insert("status".into(), status.into());
            let headers: Map<String, Value> = u
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            payload.insert("headers".into(), headers.into());
        }
        if let Some(e) = u.error_object() {
            payload.insert("error".into(), e.clone());
        }
        let body = match &u.body {
            UpstreamBody::Json(v) => v.clone(),
            UpstreamBody::Text(t) => t.clone().into(),
            UpstreamBody::Empty => Value::Null,
        };
        payload.insert("body".into(), body);
        if let Some(wait) = u.retry_after {
            payload.insert("retryAfter".into(), json!(wait.as_secs_f64()));
        }
    }
    napi::Error::from_reason(format!("{MARKER}{}", Value::Object(payload)))
}
