//! The model list: the Gemini API's `models` endpoint (Vertex AI offers none here).

use serde_json::{json, Value};

use super::response::in_band_error;
use super::Gemini;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::{unsupported, WireRequest};

pub(super) fn models_request(gemini: &Gemini, base_url: &str) -> Result<WireRequest, Error> {
    if gemini.vertex {
        return Err(unsupported(gemini.name(), "a model list"));
    }
    Ok(WireRequest::get(
        gemini.url(base_url, "models?pageSize=1000"),
    ))
}

pub(super) fn decode_models(body: &[u8]) -> Result<String, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(in_band_error(error.clone()));
    }
    let models = value
        .get("models")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let data: Vec<Value> = models
        .into_iter()
        .filter_map(|m| {
            let Value::Object(mut entry) = m else {
                return None;
            };
            let name = entry.get("name").and_then(Value::as_str)?.to_string();
            let id = name.strip_prefix("models/").unwrap_or(&name).to_string();
            entry.insert("id".into(), id.into());
            entry.insert("object".into(), "model".into());
            entry.insert("owned_by".into(), "google".into());
            Some(Value::Object(entry))
        })
        .collect();
    Ok(json!({ "object": "list", "data": data }).to_string())
}
