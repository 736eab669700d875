//! The model list (`GET /api/tags`).

use serde_json::{json, Map, Value};

use super::response::in_band_error;
use crate::error::Error;
use crate::providers::openai::bad_json;

/// `/api/tags` → `{"object":"list","data":[{"id": name, "object": "model", …everything Ollama
/// said: model, modified_at, size, digest, details}]}`.
pub(super) fn decode_models(body: &[u8]) -> Result<String, Error> {
    let mut tags: Value =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if let Some(error) = tags.get("error").filter(|e| !e.is_null()) {
        return Err(in_band_error(error.clone()));
    }
    let Some(Value::Array(models)) = tags.get_mut("models").map(Value::take) else {
        return Err(Error::BadResponse("the model list has no models".into()));
    };
    let data = models
        .into_iter()
        .filter_map(|m| {
            let Value::Object(fields) = m else {
                return None;
            };
            let id = fields
                .get("name")
                .or_else(|| fields.get("model"))
                .and_then(Value::as_str)?
                .to_string();
            let mut entry = Map::new();
            entry.insert("id".into(), id.into());
            entry.insert("object".into(), "model".into());
            entry.extend(
                fields
                    .into_iter()
                    .filter(|(k, _)| k != "id" && k != "object"),
            );
            Some(Value::Object(entry))
        })
        .collect::<Vec<_>>();
    Ok(json!({ "object": "list", "data": data }).to_string())
}
