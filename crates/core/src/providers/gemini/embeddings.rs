//! Embeddings: the Gemini API's `:batchEmbedContents`, Vertex AI's `:predict`; both answered in
//! OpenAI's embeddings shape.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::request::model_resource;
use super::response::in_band_error;
use super::Gemini;
use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::providers::support::embeddings_json;
use crate::providers::WireRequest;

#[derive(Debug, Deserialize)]
struct BatchEmbedResponse {
    #[serde(default)]
    embeddings: Option<Vec<EmbeddingValues>>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingValues {
    #[serde(default)]
    values: Vec<f64>,
}

/// Vertex AI's `:predict` answer for text embedding models.
#[derive(Debug, Deserialize)]
struct PredictResponse {
    #[serde(default)]
    predictions: Option<Vec<Prediction>>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Prediction {
    embeddings: PredictionEmbedding,
}

#[derive(Debug, Deserialize)]
struct PredictionEmbedding {
    #[serde(default)]
    values: Vec<f64>,
    #[serde(default)]
    statistics: Option<EmbeddingStatistics>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingStatistics {
    #[serde(default)]
    token_count: Option<f64>,
}

/// OpenAI's embeddings request, the canonical one.
#[derive(Debug, Deserialize)]
struct EmbedRequest {
    model: String,
    input: EmbedInput,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EmbedInput {
    One(String),
    Many(Vec<String>),
}

impl Gemini {
    fn parse_embed(&self, body: &[u8]) -> Result<(EmbedRequest, Vec<String>), Error> {
        let req: EmbedRequest = serde_json::from_slice(body).map_err(|e| {
            Error::InvalidInput(format!(
                "invalid embeddings request (input must be a string or a list of strings): {e}"
            ))
        })?;
        let mut names: Vec<&str> = req.extra.keys().map(String::as_str).collect();
        if req.user.is_some() {
            names.push("user");
        }
        if req.encoding_format.as_deref().is_some_and(|f| f != "float") {
            names.push("encoding_format");
        }
        if !names.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} embeddings cannot take {}: remove {}",
                self.name(),
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" }
            )));
        }
        let inputs = match &req.input {
            EmbedInput::One(s) => vec![s.clone()],
            EmbedInput::Many(v) => v.clone(),
        };
        if inputs.is_empty() {
            return Err(Error::InvalidInput("the embeddings input is empty".into()));
        }
        Ok((req, inputs))
    }
}

pub(super) fn embed_request(
    gemini: &Gemini,
    base_url: &str,
    body: &[u8],
) -> Result<WireRequest, Error> {
    let (req, inputs) = gemini.parse_embed(body)?;
    let resource = model_resource(&req.model)?;
    if gemini.vertex {
        let instances: Vec<Value> = inputs.iter().map(|t| json!({ "content": t })).collect();
        let mut wire = json!({ "instances": instances });
        if let Some(d) = req.dimensions {
            wire["parameters"] = json!({ "outputDimensionality": d });
        }
        return Ok(WireRequest::post_json(
            gemini.url(base_url, &format!("{resource}:predict")),
            wire.to_string(),
        ));
    }
    let requests: Vec<Value> = inputs
        .iter()
        .map(|text| {
            let mut r = json!({ "model": resource, "content": { "parts": [{ "text": text }] } });
            if let Some(d) = req.dimensions {
                r["outputDimensionality"] = json!(d);
            }
            r
        })
        .collect();
    Ok(WireRequest::post_json(
        gemini.url(base_url, &format!("{resource}:batchEmbedContents")),
        json!({ "requests": requests }).to_string(),
    ))
}

pub(super) fn decode_embeddings(gemini: &Gemini, body: &[u8]) -> Result<String, Error> {
    if gemini.vertex {
        let parsed: PredictResponse = serde_json::from_slice(body)
            .map_err(|e| bad_json("the embeddings response", e, body))?;
        if let Some(error) = parsed.error.filter(|e| !e.is_null()) {
            return Err(in_band_error(error));
        }
        let predictions = parsed.predictions.ok_or_else(|| {
            Error::BadResponse("the embeddings response has no predictions".into())
        })?;
        let tokens = predictions
            .iter()
            .map(|p| {
                p.embeddings
                    .statistics
                    .as_ref()
                    .and_then(|s| s.token_count)
                    .unwrap_or(0.0) as u64
            })
            .sum();
        let vectors = predictions.into_iter().map(|p| p.embeddings.values);
        return embeddings_json(None, vectors, Some(tokens));
    }
    let parsed: BatchEmbedResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the embeddings response", e, body))?;
    if let Some(error) = parsed.error.filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let embeddings = parsed
        .embeddings
        .ok_or_else(|| Error::BadResponse("the embeddings response has no embeddings".into()))?;
    // batchEmbedContents reports no token counts.
    let vectors = embeddings.into_iter().map(|e| e.values);
    embeddings_json(None, vectors, None)
}
