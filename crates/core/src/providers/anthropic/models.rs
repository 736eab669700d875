//! `GET /v1/models` as OpenAI's model list.

use serde_json::{json, Map, Value};

use super::response::in_band_error;
use super::wire::ModelList;
use super::ID;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::rfc3339_unix_seconds;

/// `GET /v1/models` as OpenAI's model list, each entry keeping Anthropic's fields
/// (`display_name`, `created_at`, `max_input_tokens`, `capabilities`, …).
pub(super) fn decode_model_list(body: &[u8]) -> Result<String, Error> {
    let parsed: ModelList =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if parsed.kind.as_deref() == Some("error") {
        return Err(in_band_error(
            serde_json::from_slice(body).unwrap_or_default(),
        ));
    }
    let data = parsed
        .data
        .ok_or_else(|| Error::BadResponse("the model list has no data".into()))?;
    let models: Vec<Value> = data
        .into_iter()
        .map(|mut model| {
            let mut out = Map::new();
            out.insert("id".into(), model.remove("id").unwrap_or_default());
            out.insert("object".into(), "model".into());
            let created = model
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(rfc3339_unix_seconds);
            out.insert("created".into(), created.map_or(Value::Null, Value::from));
            out.insert("owned_by".into(), ID.into());
            out.extend(model);
            Value::Object(out)
        })
        .collect();
    Ok(json!({ "object": "list", "data": models }).to_string())
}
