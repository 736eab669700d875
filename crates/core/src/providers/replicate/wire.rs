//! Replicate's wire types: the prediction we create, the prediction every endpoint answers
//! with, and a page of the model list.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::providers::openai::bad_json;

/// `POST /predictions` or `POST /models/{owner}/{name}/predictions`.
#[derive(Serialize)]
pub(super) struct CreatePrediction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) version: Option<&'a str>,
    pub(super) input: Input,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) stream: bool,
}

/// The inputs of Replicate's chat language models (Meta Llama 3 / 3.1 and alike).
#[derive(Serialize, Default, Debug, PartialEq)]
pub(super) struct Input {
    pub(super) prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) frequency_penalty: Option<f64>,
    /// Comma-separated, as the models take it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stop_sequences: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seed: Option<i64>,
}

/// A prediction, as every endpoint returns it.
#[derive(Deserialize, Default)]
pub(super) struct Prediction {
    #[serde(default)]
    pub(super) id: String,
    #[serde(default)]
    pub(super) model: String,
    #[serde(default)]
    pub(super) status: String,
    #[serde(default)]
    pub(super) input: Option<Map<String, Value>>,
    #[serde(default)]
    pub(super) output: Option<Value>,
    #[serde(default)]
    pub(super) error: Option<Value>,
    #[serde(default)]
    pub(super) metrics: Option<Map<String, Value>>,
    #[serde(default)]
    pub(super) urls: Option<Urls>,
    #[serde(default)]
    pub(super) created_at: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Urls {
    #[serde(default)]
    pub(super) get: Option<String>,
    #[serde(default)]
    pub(super) stream: Option<String>,
}

/// `GET /models`: one page of public models.
#[derive(Deserialize)]
pub(super) struct ModelPage {
    #[serde(default)]
    pub(super) results: Vec<Map<String, Value>>,
    #[serde(default)]
    pub(super) next: Option<Value>,
}

pub(super) fn parse_prediction(body: &[u8]) -> Result<Prediction, Error> {
    serde_json::from_slice(body).map_err(|e| bad_json("the prediction", e, body))
}
