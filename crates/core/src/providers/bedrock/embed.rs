//! Embeddings over InvokeModel: Titan (`amazon.titan-embed-*`, one input per call) and Cohere
//! (`cohere.embed-*`, batches) bodies, and their answers as OpenAI's list.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::request::model_path;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::{embeddings_json, invalid};
use crate::providers::{join_url, WireRequest};

#[derive(Debug, Deserialize)]
struct EmbedRequest {
    model: String,
    input: Value,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u32>,
    /// Cohere's `input_type` (`search_document`, `search_query`, `classification`, `clustering`).
    #[serde(default)]
    input_type: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn embed_inputs(input: &Value) -> Result<Vec<String>, Error> {
    let texts = match input {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    match texts {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(invalid(
            "bedrock embeddings take input as a string or an array of strings (not token ids)",
        )),
    }
}

fn embed_body(req: &EmbedRequest) -> Result<Value, Error> {
    if !req.extra.is_empty() {
        let names: Vec<&str> = req.extra.keys().map(String::as_str).collect();
        return Err(invalid(format!(
            "bedrock embeddings cannot take {}: remove {}",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )));
    }
    if let Some(f) = req.encoding_format.as_deref().filter(|f| *f != "float") {
        return Err(invalid(format!(
            "bedrock embeddings cannot take encoding_format {f:?}: Bedrock answers floats"
        )));
    }
    let texts = embed_inputs(&req.input)?;
    let model = req.model.as_str();
    if model.contains("cohere.embed") {
        let mut body = json!({
            "texts": texts,
            // Required by Cohere's v3+ models; OpenAI's request has no such field.
            "input_type": req.input_type.as_deref().unwrap_or("search_document"),
        });
        if let Some(d) = req.dimensions {
            if !model.contains("embed-v4") {
                return Err(invalid(format!(
                    "bedrock's {model} cannot take dimensions: only cohere.embed-v4 sets an output dimension"
                )));
            }
            body["output_dimension"] = d.into();
        }
        Ok(body)
    } else if model.contains("amazon.titan-embed") {
        if req.input_type.is_some() {
            return Err(invalid(
                "bedrock's Titan embeddings cannot take input_type (a Cohere field); remove it",
            ));
        }
        let [text] = texts.as_slice() else {
            return Err(invalid(format!(
                "bedrock's {model} embeds one input per request (InvokeModel takes one inputText), got {}: send them one at a time, or use cohere.embed-* for batches",
                texts.len()
            )));
        };
        let mut body = json!({ "inputText": text });
        if let Some(d) = req.dimensions {
            body["dimensions"] = d.into();
        }
        Ok(body)
    } else {
        Err(invalid(format!(
            "bedrock embeddings support amazon.titan-embed-* and cohere.embed-* models, not {model:?}"
        )))
    }
}

pub(super) fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    let vectors: Vec<Value> = if let Some(v) = value.get("embedding") {
        // Titan: one vector.
        vec![v.clone()]
    } else {
        // Cohere: `embeddings` is the list of vectors, or by type (`{"float": [...]}`).
        let list = match value.get("embeddings") {
            Some(Value::Object(by_type)) => by_type.get("float"),
            other => other,
        };
        list.and_then(Value::as_array).cloned().ok_or_else(|| {
            Error::BadResponse("the embeddings response has no float embeddings".into())
        })?
    };
    let tokens = value.get("inputTextTokenCount").and_then(Value::as_u64);
    embeddings_json(None, vectors, tokens)
}

/// The InvokeModel call for an OpenAI embeddings request.
pub(super) fn embed_request(base_url: &str, body: &[u8]) -> Result<WireRequest, Error> {
    let req: EmbedRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("invalid embeddings request: {e}")))?;
    let wire_body = embed_body(&req)?;
    Ok(WireRequest::post_json(
        join_url(base_url, &model_path(&req.model, "invoke")?),
        wire_body.to_string(),
    ))
}
