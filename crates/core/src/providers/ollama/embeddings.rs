//! OpenAI embeddings request → `/api/embed` body, and its answer → OpenAI's embeddings list.

use serde_json::Value;

use super::request::keep_alive;
use super::response::in_band_error;
use super::wire::{EmbedAnswer, EmbedBody, EmbedRequest};
use super::ID;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::{embeddings_json, invalid};

pub(super) fn embed_body(body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut req: EmbedRequest = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("invalid embeddings request: {e}")))?;
    let text_only = match &req.input {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    if !text_only {
        return Err(invalid(
            "ollama embeds text only: input must be a string or an array of strings",
        ));
    }
    let truncate = match req.extra.remove("truncate") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(_) => return Err(invalid("ollama's truncate is true or false")),
    };
    let keep_alive = keep_alive(req.extra.remove("keep_alive"))?;
    let options = match req.extra.remove("options") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => return Err(invalid("ollama's options must be an object")),
    };
    let mut refused: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    if req.encoding_format.as_deref().is_some_and(|f| f != "float") {
        refused.push("encoding_format (other than float)");
    }
    if req.user.is_some() {
        refused.push("user");
    }
    if !refused.is_empty() {
        return Err(invalid(format!(
            "{ID} cannot take {} for embeddings: remove {}",
            refused.join(", "),
            if refused.len() == 1 { "it" } else { "them" }
        )));
    }
    let wire = EmbedBody {
        model: req.model,
        input: req.input,
        dimensions: req.dimensions,
        truncate,
        keep_alive,
        options,
    };
    serde_json::to_vec(&wire).map_err(|e| Error::Internal(format!("encoding the request: {e}")))
}

pub(super) fn decode_embeddings(body: &[u8]) -> Result<String, Error> {
    let answer: EmbedAnswer =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    if let Some(error) = answer.error.filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let Some(embeddings) = answer.embeddings else {
        return Err(Error::BadResponse(
            "the embeddings response has no embeddings".into(),
        ));
    };
    let tokens = answer.prompt_eval_count.unwrap_or(0);
    embeddings_json(Some(&answer.model), embeddings, Some(tokens))
}
