//! Embeddings: OpenAI's `{ model, input }` → Cohere's `POST /v2/embed`, and its float vectors back
//! as OpenAI's embeddings JSON.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::response::{count, error_instead};
use super::wire::Units;
use super::ID;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::{embeddings_json, invalid};

/// OpenAI's embeddings request, as far as Cohere can take it.
#[derive(Deserialize)]
struct EmbedRequest {
    model: String,
    input: EmbedInput,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(default)]
    user: Option<String>,
    /// Cohere's own: what the texts are for (`search_document`, `search_query`, `classification`,
    /// `clustering`). Defaults to `search_document`.
    #[serde(default)]
    input_type: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EmbedInput {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize)]
struct EmbedBody<'a> {
    model: &'a str,
    texts: Vec<&'a str>,
    input_type: &'a str,
    embedding_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimension: Option<u32>,
}

#[derive(Deserialize)]
struct EmbedResponse<'a> {
    #[serde(borrow)]
    embeddings: EmbeddingsByType<'a>,
    #[serde(default)]
    meta: Option<EmbedMeta>,
}

#[derive(Deserialize)]
struct EmbeddingsByType<'a> {
    #[serde(borrow, default)]
    float: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct EmbedMeta {
    #[serde(default)]
    billed_units: Option<Units>,
}

pub(super) fn embed_body(body: &[u8]) -> Result<Vec<u8>, Error> {
    let req: EmbedRequest = serde_json::from_slice(body).map_err(|e| {
        let input = "input must be a string or an array of strings";
        invalid(format!(
            "invalid embeddings request for {ID} ({input}): {e}"
        ))
    })?;
    let mut unsupported: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    if req.user.is_some() {
        unsupported.push("user");
    }
    if !unsupported.is_empty() {
        return Err(invalid(format!(
            "{ID} embeddings cannot take {}: remove {}",
            unsupported.join(", "),
            if unsupported.len() == 1 { "it" } else { "them" }
        )));
    }
    match req.encoding_format.as_deref() {
        None | Some("float") => {}
        Some(other) => {
            return Err(invalid(format!(
                "{ID} embeddings cannot take encoding_format {other:?}: use float"
            )))
        }
    }
    let texts = match &req.input {
        EmbedInput::One(text) => vec![text.as_str()],
        EmbedInput::Many(texts) => texts.iter().map(String::as_str).collect(),
    };
    let wire = EmbedBody {
        model: &req.model,
        texts,
        input_type: req.input_type.as_deref().unwrap_or("search_document"),
        embedding_types: ["float"],
        output_dimension: req.dimensions,
    };
    serde_json::to_vec(&wire)
        .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))
}

pub(super) fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    if let Some(error) = error_instead(body) {
        return Err(error);
    }
    let resp: EmbedResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    let vectors = resp.embeddings.float.ok_or_else(|| {
        Error::BadResponse("the embeddings response has no float embeddings".into())
    })?;
    let prompt_tokens = resp
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|u| count(u.input_tokens))
        .unwrap_or(0);
    embeddings_json(None, vectors, Some(prompt_tokens))
}
