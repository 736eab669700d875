//! The model list: Cohere's `GET /v1/models` as `{"object":"list","data":[{"id":…}, …]}`.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::response::error_instead;
use super::ID;
use crate::error::Error;
use crate::providers::openai::bad_json;

#[derive(Deserialize)]
struct ModelList {
    models: Vec<Map<String, Value>>,
}

pub(super) fn decode_models(body: &[u8]) -> Result<String, Error> {
    if let Some(error) = error_instead(body) {
        return Err(error);
    }
    let list: ModelList =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    let data: Vec<Value> = list
        .models
        .into_iter()
        .filter_map(|mut model| {
            let id = model.get("name")?.as_str()?.to_string();
            let mut entry = Map::new();
            entry.insert("id".into(), id.into());
            entry.insert("object".into(), "model".into());
            entry.insert("owned_by".into(), ID.into());
            // Everything else Cohere said (endpoints, context_length, features, …) stays.
            entry.append(&mut model);
            Some(Value::Object(entry))
        })
        .collect();
    Ok(json!({ "object": "list", "data": data }).to_string())
}
