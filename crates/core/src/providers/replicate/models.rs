//! `GET /models`: Replicate's public models as the canonical model list.

use serde_json::{json, Value};

use super::wire::ModelPage;
use crate::error::Error;
use crate::providers::openai::bad_json;

/// One page of public models, each as `owner/name` with everything Replicate said of it;
/// `next` is the cursor URL of the following page.
pub(super) fn decode_models(body: &[u8]) -> Result<String, Error> {
    let page: ModelPage =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    let data: Vec<Value> = page
        .results
        .into_iter()
        .map(|mut m| {
            let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (owner, name) = (text("owner"), text("name"));
            m.insert("id".into(), format!("{owner}/{name}").into());
            m.insert("object".into(), "model".into());
            m.insert("owned_by".into(), owner.into());
            Value::Object(m)
        })
        .collect();
    let mut out = json!({ "object": "list", "data": data });
    if let Some(next) = page.next.filter(|n| !n.is_null()) {
        out["next"] = next;
    }
    Ok(out.to_string())
}
