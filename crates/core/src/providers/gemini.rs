//! Google Gemini `generateContent` (the Gemini API and Vertex AI, one adapter in two flavours).
//!
//! - Gemini API: `POST {base}/v1beta/models/{model}:generateContent` (streams:
//!   `:streamGenerateContent?alt=sse`), the key in `x-goog-api-key`, never in the URL.
//! - Vertex AI: `POST {base}/models/{model}:generateContent` under
//!   `…/v1/projects/{project}/locations/{location}/publishers/google`, `Authorization: Bearer`.
//!
//! Requests: system and developer messages become `systemInstruction`; the rest become `contents`
//! (`user` / `model`), consecutive turns of one role merged (Vertex insists on alternation). Tool
//! results become `functionResponse` parts named after the call they answer. JSON Schemas become
//! Gemini's OpenAPI subset ([`gemini_schema`]). Fields Gemini has no place for are refused by name.
//!
//! Answers: Gemini function calls carry an `id` only on newer models; without one the adapter
//! makes one up (`call_<responseId>_<n>`). A call's `thoughtSignature` (which Gemini 3 wants back
//! with the call in the next turn) travels inside the canonical id as `<id>__thought__<signature>`
//! (LiteLLM's convention) and is split off again when the call is sent back.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openai::bad_json;
use super::{
    bearer, header, join_url, unsupported, ChatProvider, Completion, EventOutcome, StreamDecode,
    WireRequest,
};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, FunctionCall, ImageSource,
    Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::{Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::{CompletionDetails, PromptDetails, Usage};

/// Separates a tool call's id from the Gemini thought signature riding along with it.
const THOUGHT_SEPARATOR: &str = "__thought__";

/// Gemini API or Vertex AI: the same wire format at different URLs with different credentials.
#[derive(Debug, Clone)]
pub struct Gemini {
    vertex: bool,
}

impl Gemini {
    /// Vertex AI when a project is configured (the `vertex_ai` profile reads one from
    /// `VERTEXAI_PROJECT`) or the base URL is an `aiplatform.googleapis.com` one.
    /// `vertex` picks Vertex AI's URLs and bearer auth (the `vertex_ai` id) over the Gemini API's.
    pub fn from_settings(_settings: &ProviderSettings, vertex: bool) -> Result<Self, Error> {
        Ok(Self { vertex })
    }

    fn name(&self) -> &'static str {
        if self.vertex {
            "vertex_ai"
        } else {
            "gemini"
        }
    }

    /// `{base}/v1beta/{resource}` (Gemini API; a base that already ends in a version keeps it)
    /// or `{base}/{resource}` (Vertex AI, whose base carries `v1/projects/…`).
    fn url(&self, base_url: &str, resource: &str) -> String {
        let base = base_url.trim_end_matches('/');
        if self.vertex || base.ends_with("/v1beta") || base.ends_with("/v1") {
            join_url(base, resource)
        } else {
            join_url(base, &format!("v1beta/{resource}"))
        }
    }
}

// ---- request wire types -----------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentRequest {
    contents: Vec<WireContent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<SystemInstruction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<[WireTool; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<ToolConfig>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig,
}

#[derive(Debug, Serialize)]
struct WireContent {
    role: &'static str,
    parts: Vec<WirePart>,
}

#[derive(Debug, Serialize)]
struct SystemInstruction {
    parts: Vec<WirePart>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WirePart {
    Text {
        text: String,
    },
    InlineData {
        #[serde(rename = "inlineData")]
        inline_data: Blob,
        #[serde(rename = "mediaResolution", skip_serializing_if = "Option::is_none")]
        media_resolution: Option<MediaResolution>,
    },
    FileData {
        #[serde(rename = "fileData")]
        file_data: FileData,
        #[serde(rename = "mediaResolution", skip_serializing_if = "Option::is_none")]
        media_resolution: Option<MediaResolution>,
    },
    FunctionCall {
        #[serde(rename = "functionCall")]
        function_call: WireFunctionCall,
        #[serde(rename = "thoughtSignature", skip_serializing_if = "Option::is_none")]
        thought_signature: Option<String>,
    },
    FunctionResponse {
        #[serde(rename = "functionResponse")]
        function_response: WireFunctionResponse,
    },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    mime_type: String,
    data: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileData {
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<String>,
    file_uri: String,
}

#[derive(Debug, Serialize)]
struct MediaResolution {
    level: &'static str,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    args: Value,
}

#[derive(Debug, Serialize)]
struct WireFunctionResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    response: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WireTool {
    function_declarations: Vec<FunctionDeclaration>,
}

#[derive(Debug, Serialize)]
struct FunctionDeclaration {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolConfig {
    function_calling_config: FunctionCallingConfig,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionCallingConfig {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_function_names: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<Value>,
}

impl GenerationConfig {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_none()
            && self.seed.is_none()
            && self.presence_penalty.is_none()
            && self.frequency_penalty.is_none()
            && self.response_mime_type.is_none()
            && self.response_schema.is_none()
            && self.thinking_config.is_none()
    }
}

// ---- response wire types ----------------------------------------------------------------------

/// One `GenerateContentResponse`: a whole answer, or one event of a stream.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<Value>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    response_id: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<CandidateContent>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CandidateContent {
    #[serde(default)]
    parts: Vec<AnswerPart>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerPart {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default)]
    thought_signature: Option<String>,
    #[serde(default)]
    function_call: Option<AnswerFunctionCall>,
}

#[derive(Debug, Default, Deserialize)]
struct AnswerFunctionCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    candidates_token_count: Option<u64>,
    #[serde(default)]
    total_token_count: Option<u64>,
    #[serde(default)]
    cached_content_token_count: Option<u64>,
    #[serde(default)]
    thoughts_token_count: Option<u64>,
    #[serde(default)]
    tool_use_prompt_token_count: Option<u64>,
}

impl UsageMetadata {
    /// OpenAI's shape: tool-use prompt tokens are prompt tokens, thinking tokens are completion
    /// tokens (and counted again as `reasoning_tokens`), as OpenAI counts its reasoning models.
    fn to_usage(self) -> Usage {
        let prompt =
            self.prompt_token_count.unwrap_or(0) + self.tool_use_prompt_token_count.unwrap_or(0);
        let completion =
            self.candidates_token_count.unwrap_or(0) + self.thoughts_token_count.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: self.total_token_count.unwrap_or(prompt + completion),
            prompt_tokens_details: self
                .cached_content_token_count
                .map(|cached_tokens| PromptDetails { cached_tokens }),
            completion_tokens_details: self
                .thoughts_token_count
                .map(|reasoning_tokens| CompletionDetails { reasoning_tokens }),
        }
    }
}

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

// ---- request mapping --------------------------------------------------------------------------

/// The model's resource path: `models/{id}` for a bare id, anything with a slash
/// (`tunedModels/…`, `models/…`) as given.
fn model_resource(model: &str) -> Result<String, Error> {
    let model = model.trim();
    let valid = !model.is_empty()
        && model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@'));
    if !valid {
        return Err(Error::InvalidInput(format!(
            "invalid model id {model:?} for Gemini"
        )));
    }
    Ok(if model.contains('/') {
        model.to_string()
    } else {
        format!("models/{model}")
    })
}

/// A canonical tool call id split into the id Gemini saw and the thought signature riding in it.
fn split_call_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once(THOUGHT_SEPARATOR) {
        Some((id, signature)) if !signature.is_empty() => (id, Some(signature)),
        _ => (id, None),
    }
}

/// The MIME type an image URL's extension names.
fn image_mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

/// Everything gathered while walking the messages.
struct Turns {
    contents: Vec<WireContent>,
    system: Vec<WirePart>,
    /// Tool call id → function name, for the `functionResponse` that answers it.
    call_names: HashMap<String, String>,
}

impl Turns {
    /// Append parts as `role`, merged into the previous turn when it has the same role.
    fn push(&mut self, role: &'static str, parts: Vec<WirePart>) {
        if parts.is_empty() {
            return;
        }
        match self.contents.last_mut() {
            Some(last) if last.role == role => last.parts.extend(parts),
            _ => self.contents.push(WireContent { role, parts }),
        }
    }
}

impl Gemini {
    fn image_part(&self, url: &str, detail: Option<&str>) -> Result<WirePart, Error> {
        let media_resolution = match detail {
            None | Some("auto") => None,
            Some(level) if self.vertex => {
                return Err(Error::InvalidInput(format!(
                    "vertex_ai cannot take an image detail of {level:?}: remove image_url.detail"
                )))
            }
            Some("low") => Some(MediaResolution {
                level: "MEDIA_RESOLUTION_LOW",
            }),
            Some("high") => Some(MediaResolution {
                level: "MEDIA_RESOLUTION_HIGH",
            }),
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "unknown image detail {other:?}: use low, high or auto"
                )))
            }
        };
        match ImageSource::parse(url) {
            ImageSource::Base64 { media_type, data } => Ok(WirePart::InlineData {
                inline_data: Blob {
                    mime_type: media_type,
                    data,
                },
                media_resolution,
            }),
            ImageSource::Url(url) => {
                let fetchable = url.starts_with("https://") || url.starts_with("gs://");
                if !fetchable {
                    return Err(Error::InvalidInput(format!(
                        "{} takes image URLs only as https:// or gs:// (or inline data: URLs); cannot send image {:?}",
                        self.name(),
                        url.chars().take(60).collect::<String>()
                    )));
                }
                let mime_type = image_mime_from_url(&url);
                if mime_type.is_none() && self.vertex {
                    return Err(Error::InvalidInput(format!(
                        "vertex_ai needs an image URL's MIME type: {url:?} does not end in .png, .jpg, .jpeg, .webp, .gif, .heic or .heif; send the image as a data: URL instead"
                    )));
                }
                Ok(WirePart::FileData {
                    file_data: FileData {
                        mime_type: mime_type.map(str::to_string),
                        file_uri: url,
                    },
                    media_resolution,
                })
            }
        }
    }

    fn user_parts(&self, content: Option<&Content>) -> Result<Vec<WirePart>, Error> {
        let mut parts = Vec::new();
        match content {
            None => {}
            Some(Content::Text(text)) if text.is_empty() => {}
            Some(Content::Text(text)) => parts.push(WirePart::Text { text: text.clone() }),
            Some(Content::Parts(items)) => {
                for item in items {
                    match item {
                        Part::Text { text } if text.is_empty() => {}
                        Part::Text { text } => parts.push(WirePart::Text { text: text.clone() }),
                        Part::ImageUrl { image_url } => parts
                            .push(self.image_part(&image_url.url, image_url.detail.as_deref())?),
                        Part::File { file } => {
                            let Some(uri) = &file.file_id else {
                                return Err(Error::InvalidInput(format!(
                                    "{} takes file parts only by URI (file.file_id: a Files API, gs:// or https:// URI)",
                                    self.name()
                                )));
                            };
                            parts.push(WirePart::FileData {
                                file_data: FileData {
                                    mime_type: file.format.clone(),
                                    file_uri: uri.clone(),
                                },
                                media_resolution: None,
                            });
                        }
                    }
                }
            }
        }
        Ok(parts)
    }

    /// Text only: system prompts, assistant text and tool results have no place for media.
    fn text_only(&self, content: Option<&Content>, what: &str) -> Result<String, Error> {
        if let Some(Content::Parts(parts)) = content {
            if parts.iter().any(|p| !matches!(p, Part::Text { .. })) {
                return Err(Error::InvalidInput(format!(
                    "{} takes only text in {what}: remove the image or file parts",
                    self.name()
                )));
            }
        }
        Ok(content.map(Content::text).unwrap_or_default())
    }

    fn message(&self, msg: &Message, turns: &mut Turns) -> Result<(), Error> {
        if msg.name.is_some() && msg.role != Role::Tool {
            return Err(Error::InvalidInput(format!(
                "{} cannot take a message name (messages[].name): remove it",
                self.name()
            )));
        }
        match msg.role {
            Role::System | Role::Developer => {
                let text = self.text_only(msg.content.as_ref(), "a system message")?;
                if !text.is_empty() {
                    turns.system.push(WirePart::Text { text });
                }
            }
            Role::User => {
                let parts = self.user_parts(msg.content.as_ref())?;
                turns.push("user", parts);
            }
            Role::Assistant => {
                let mut parts = Vec::new();
                let text = self.text_only(msg.content.as_ref(), "an assistant message")?;
                if !text.is_empty() {
                    parts.push(WirePart::Text { text });
                }
                for call in msg.tool_calls.iter().flatten() {
                    let args: Value = if call.function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&call.function.arguments).map_err(|e| {
                            Error::InvalidInput(format!(
                                "the arguments of tool call {:?} are not JSON: {e}",
                                call.id
                            ))
                        })?
                    };
                    if !args.is_object() {
                        return Err(Error::InvalidInput(format!(
                            "the arguments of tool call {:?} must be a JSON object for Gemini",
                            call.id
                        )));
                    }
                    let (id, signature) = split_call_id(&call.id);
                    turns
                        .call_names
                        .insert(call.id.clone(), call.function.name.clone());
                    parts.push(WirePart::FunctionCall {
                        function_call: WireFunctionCall {
                            id: (!self.vertex).then(|| id.to_string()),
                            name: call.function.name.clone(),
                            args,
                        },
                        thought_signature: signature.map(str::to_string),
                    });
                }
                turns.push("model", parts);
            }
            Role::Tool => {
                let call_id = msg.tool_call_id.as_deref().unwrap_or_default();
                let name = turns
                    .call_names
                    .get(call_id)
                    .cloned()
                    .or_else(|| msg.name.clone())
                    .ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "the tool result for {call_id:?} answers no earlier assistant tool call: Gemini needs the function's name"
                        ))
                    })?;
                let text = self.text_only(msg.content.as_ref(), "a tool result")?;
                // A JSON object result goes as is; anything else is the `result` of the call.
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => json!({ "result": text }),
                };
                let (id, _) = split_call_id(call_id);
                turns.push(
                    "user",
                    vec![WirePart::FunctionResponse {
                        function_response: WireFunctionResponse {
                            id: (!self.vertex && !id.is_empty()).then(|| id.to_string()),
                            name,
                            response,
                        },
                    }],
                );
            }
        }
        Ok(())
    }

    /// `reasoning_effort` as a thinking configuration: Gemini 3 takes a level, earlier thinking
    /// models a token budget (LiteLLM's budgets). Thought summaries come back as reasoning.
    fn thinking_config(model: &str, effort: &str) -> Result<Value, Error> {
        let bare = model.rsplit('/').next().unwrap_or(model);
        if effort == "none" {
            return Ok(json!({ "thinkingBudget": 0 }));
        }
        if !matches!(effort, "minimal" | "low" | "medium" | "high") {
            return Err(Error::InvalidInput(format!(
                "unknown reasoning_effort {effort:?}: use none, minimal, low, medium or high"
            )));
        }
        if bare.starts_with("gemini-3") {
            return Ok(json!({ "thinkingLevel": effort, "includeThoughts": true }));
        }
        let budget = match effort {
            "minimal" => 128,
            "low" => 1024,
            "medium" => 2048,
            _ => 4096,
        };
        Ok(json!({ "thinkingBudget": budget, "includeThoughts": true }))
    }

    fn translate(&self, req: &ChatRequest) -> Result<GenerateContentRequest, Error> {
        req.reject_extra(
            self.name(),
            &[
                ("n", req.n.is_some_and(|n| n != 1)),
                ("user", req.user.is_some()),
                (
                    "parallel_tool_calls",
                    req.parallel_tool_calls == Some(false),
                ),
            ],
        )?;
        let mut turns = Turns {
            contents: Vec::new(),
            system: Vec::new(),
            call_names: HashMap::new(),
        };
        for msg in &req.messages {
            self.message(msg, &mut turns)?;
        }

        let tools = match req.tools.as_deref() {
            Some(list) if !list.is_empty() => {
                let mut declarations = Vec::with_capacity(list.len());
                for tool in list {
                    let f = &tool.function;
                    let parameters = match &f.parameters {
                        // A function without parameters declares none (Gemini refuses an OBJECT
                        // without properties there).
                        Some(p) if has_properties(p) => {
                            Some(gemini_schema(p, &format!("tools.{}.parameters", f.name))?)
                        }
                        _ => None,
                    };
                    declarations.push(FunctionDeclaration {
                        name: f.name.clone(),
                        description: f.description.clone(),
                        parameters,
                    });
                }
                Some([WireTool {
                    function_declarations: declarations,
                }])
            }
            _ => None,
        };

        let tool_config = match (&req.tool_choice, tools.is_some()) {
            (None, _) => None,
            (Some(ToolChoice::Mode(mode)), true) => {
                let mode = match mode.as_str() {
                    "auto" => "AUTO",
                    "none" => "NONE",
                    "required" => "ANY",
                    other => {
                        return Err(Error::InvalidInput(format!(
                            "unknown tool_choice {other:?}: use auto, none or required"
                        )))
                    }
                };
                Some(ToolConfig {
                    function_calling_config: FunctionCallingConfig {
                        mode,
                        allowed_function_names: None,
                    },
                })
            }
            (Some(ToolChoice::Function { function }), true) => Some(ToolConfig {
                function_calling_config: FunctionCallingConfig {
                    mode: "ANY",
                    allowed_function_names: Some(vec![function.name.clone()]),
                },
            }),
            // Without tools, "auto" and "none" already hold; forcing a call cannot.
            (Some(ToolChoice::Mode(mode)), false) if mode == "auto" || mode == "none" => None,
            (Some(_), false) => {
                return Err(Error::InvalidInput(
                    "tool_choice forces a tool call but the request has no tools".into(),
                ))
            }
        };

        let mut config = GenerationConfig {
            temperature: req.temperature,
            top_p: req.top_p,
            max_output_tokens: req.max_output_tokens(),
            stop_sequences: req.stop.as_ref().map(|s| s.to_vec()),
            seed: req.seed,
            presence_penalty: req.presence_penalty,
            frequency_penalty: req.frequency_penalty,
            ..Default::default()
        };
        match &req.response_format {
            None | Some(ResponseFormat::Text) => {}
            Some(ResponseFormat::JsonObject) => {
                config.response_mime_type = Some("application/json");
            }
            Some(ResponseFormat::JsonSchema { json_schema }) => {
                config.response_mime_type = Some("application/json");
                if let Some(schema) = &json_schema.schema {
                    let mut converted = gemini_schema(schema, "response_format.json_schema")?;
                    if let (Some(description), Some(obj)) =
                        (&json_schema.description, converted.as_object_mut())
                    {
                        obj.entry("description")
                            .or_insert_with(|| Value::String(description.clone()));
                    }
                    config.response_schema = Some(converted);
                }
            }
        }
        if let Some(effort) = &req.reasoning_effort {
            config.thinking_config = Some(Self::thinking_config(&req.model, effort)?);
        }

        Ok(GenerateContentRequest {
            contents: turns.contents,
            system_instruction: (!turns.system.is_empty()).then_some(SystemInstruction {
                parts: turns.system,
            }),
            tools,
            tool_config,
            generation_config: config,
        })
    }
}

fn has_properties(schema: &Value) -> bool {
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
    let empty = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    !(is_object
        && empty
        && schema
            .get("additionalProperties")
            .is_none_or(Value::is_boolean))
}

// ---- JSON Schema → Gemini Schema --------------------------------------------------------------

/// JSON Schema → Gemini's `Schema` (a subset of OpenAPI 3.0):
/// - `type` becomes upper case; `["x", "null"]` and `anyOf: [x, {type: null}]` become
///   `nullable: true`; several types become `anyOf`; `oneOf` becomes `anyOf` (at least one).
/// - local `$ref`s (`#/$defs/…`, `#/definitions/…`) are inlined; recursive ones are refused.
/// - `const` becomes a one-value `enum`; enums must be strings.
/// - `exclusiveMinimum`/`exclusiveMaximum` become the inclusive `minimum`/`maximum`.
/// - dropped: `additionalProperties: true|false` (Gemini never produces undeclared properties),
///   annotations (`$schema`, `$id`, `$comment`, `examples`, `readOnly`, `writeOnly`,
///   `deprecated`) and the unenforceable `multipleOf` and `uniqueItems`.
/// - refused, naming the place: map schemas (`additionalProperties: {…}`), tuples, `allOf`,
///   `not`, conditionals and other keywords Gemini has no equivalent for.
fn gemini_schema(schema: &Value, path: &str) -> Result<Value, Error> {
    SchemaConverter { root: schema }.convert(schema, path, 0)
}

struct SchemaConverter<'a> {
    root: &'a Value,
}

/// Deeper than this, a `$ref` is going round in circles.
const MAX_SCHEMA_DEPTH: usize = 64;

fn schema_error(path: &str, what: &str) -> Error {
    Error::InvalidInput(format!("Gemini cannot take {what} (at {path})"))
}

fn gemini_type(t: &str, path: &str) -> Result<&'static str, Error> {
    Ok(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        "null" => "NULL",
        other => return Err(schema_error(path, &format!("the type {other:?}"))),
    })
}

fn is_null_schema(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

impl SchemaConverter<'_> {
    fn resolve(&self, reference: &str, path: &str) -> Result<&Value, Error> {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| schema_error(path, &format!("the non-local $ref {reference:?}")))?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| schema_error(path, &format!("the unresolvable $ref {reference:?}")))
    }

    fn convert(&self, schema: &Value, path: &str, depth: usize) -> Result<Value, Error> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(schema_error(path, "a recursive schema"));
        }
        let Some(obj) = schema.as_object() else {
            return Err(schema_error(path, "a schema that is not an object"));
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(reference, path)?;
            let mut merged = target.clone();
            // Siblings of $ref (a description, say) apply too.
            if let (Some(m), true) = (merged.as_object_mut(), obj.len() > 1) {
                for (k, v) in obj.iter().filter(|(k, _)| *k != "$ref") {
                    m.insert(k.clone(), v.clone());
                }
            }
            return self.convert(&merged, path, depth + 1);
        }

        let mut out = Map::new();
        let mut nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);

        // Unions first: they decide the shape of everything else.
        let union = obj.get("anyOf").or_else(|| obj.get("oneOf")).map(|u| {
            (
                u,
                if obj.contains_key("anyOf") {
                    "anyOf"
                } else {
                    "oneOf"
                },
            )
        });
        if let Some((members, keyword)) = union {
            let members = members
                .as_array()
                .ok_or_else(|| schema_error(path, &format!("a {keyword} that is not a list")))?;
            let mut rest = Vec::new();
            for (i, m) in members.iter().enumerate() {
                if is_null_schema(m) {
                    nullable = true;
                } else {
                    rest.push(self.convert(m, &format!("{path}.{keyword}[{i}]"), depth + 1)?);
                }
            }
            match rest.len() {
                0 => {
                    out.insert("type".into(), "NULL".into());
                }
                1 => {
                    if let Some(Value::Object(only)) = rest.pop() {
                        out = only;
                    }
                }
                _ => {
                    out.insert("anyOf".into(), Value::Array(rest));
                }
            }
        }

        for (key, value) in obj {
            let here = || format!("{path}.{key}");
            match key.as_str() {
                "anyOf" | "oneOf" | "nullable" | "$defs" | "definitions" => {}
                "type" => match value {
                    Value::String(t) => {
                        out.insert("type".into(), gemini_type(t, &here())?.into());
                    }
                    Value::Array(types) => {
                        let mut kinds = Vec::new();
                        for t in types {
                            match t.as_str() {
                                Some("null") => nullable = true,
                                Some(t) => kinds.push(gemini_type(t, &here())?),
                                None => return Err(schema_error(&here(), "a non-string type")),
                            }
                        }
                        match kinds.as_slice() {
                            [] => {
                                out.insert("type".into(), "NULL".into());
                            }
                            [one] => {
                                out.insert("type".into(), (*one).into());
                            }
                            many => {
                                let variants = many
                                    .iter()
                                    .map(|t| json!({ "type": t }))
                                    .collect::<Vec<_>>();
                                out.insert("anyOf".into(), Value::Array(variants));
                            }
                        }
                    }
                    _ => return Err(schema_error(&here(), "a type that is not a string")),
                },
                "properties" => {
                    let props = value.as_object().ok_or_else(|| {
                        schema_error(&here(), "properties that are not an object")
                    })?;
                    let mut converted = Map::new();
                    for (name, prop) in props {
                        converted.insert(
                            name.clone(),
                            self.convert(prop, &format!("{path}.{name}"), depth + 1)?,
                        );
                    }
                    out.insert("properties".into(), Value::Object(converted));
                }
                "items" => {
                    if value.is_array() {
                        return Err(schema_error(&here(), "tuple items"));
                    }
                    out.insert(
                        "items".into(),
                        self.convert(value, &format!("{path}[]"), depth + 1)?,
                    );
                }
                "additionalProperties" => {
                    if !value.is_boolean() {
                        return Err(schema_error(
                            &here(),
                            "an additionalProperties schema (a map of arbitrary keys)",
                        ));
                    }
                }
                "enum" => {
                    let values = value
                        .as_array()
                        .ok_or_else(|| schema_error(&here(), "an enum that is not a list"))?;
                    let mut strings = Vec::new();
                    for v in values {
                        match v {
                            Value::String(_) => strings.push(v.clone()),
                            Value::Null => nullable = true,
                            _ => return Err(schema_error(&here(), "an enum of non-strings")),
                        }
                    }
                    out.insert("enum".into(), Value::Array(strings));
                }
                "const" => match value {
                    Value::String(_) => {
                        out.insert("enum".into(), json!([value]));
                    }
                    _ => return Err(schema_error(&here(), "a const that is not a string")),
                },
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    if value.is_number() {
                        let bound = if key == "exclusiveMinimum" {
                            "minimum"
                        } else {
                            "maximum"
                        };
                        out.insert(bound.into(), value.clone());
                    }
                }
                "description" | "title" | "format" | "required" | "pattern" | "minimum"
                | "maximum" | "minItems" | "maxItems" | "minLength" | "maxLength"
                | "minProperties" | "maxProperties" | "default" | "example"
                | "propertyOrdering" => {
                    out.insert(key.clone(), value.clone());
                }
                "$schema" | "$id" | "$comment" | "examples" | "readOnly" | "writeOnly"
                | "deprecated" | "multipleOf" | "uniqueItems" => {}
                "allOf" => match value.as_array().map(Vec::as_slice) {
                    Some([only]) => {
                        let inner = self.convert(only, &here(), depth + 1)?;
                        if let Value::Object(inner) = inner {
                            for (k, v) in inner {
                                out.entry(k).or_insert(v);
                            }
                        }
                    }
                    _ => return Err(schema_error(&here(), "allOf")),
                },
                other => return Err(schema_error(path, &format!("the keyword {other:?}"))),
            }
        }
        // Gemini's enums are string enums and every schema needs a type.
        if out.contains_key("enum") && !out.contains_key("type") && !out.contains_key("anyOf") {
            out.insert("type".into(), "STRING".into());
        }
        if nullable {
            out.insert("nullable".into(), true.into());
        }
        Ok(Value::Object(out))
    }
}

// ---- answers ----------------------------------------------------------------------------------

/// Gemini's finish reason, normalised. A natural stop with function calls is a tool-call stop.
fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

fn random_token() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// The canonical id of the `index`-th function call of a response: Gemini's own id when it gave
/// one, else `call_<responseId>_<index>`; with the thought signature appended when there is one.
fn call_id(
    given: Option<&str>,
    response_id: &str,
    index: usize,
    signature: Option<&str>,
) -> String {
    let mut id = match given {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => format!("call_{response_id}_{index}"),
    };
    if let Some(signature) = signature.filter(|s| !s.is_empty()) {
        id.push_str(THOUGHT_SEPARATOR);
        id.push_str(signature);
    }
    id
}

fn arguments_json(args: Option<&Value>) -> String {
    match args {
        Some(v) if !v.is_null() => v.to_string(),
        _ => "{}".to_string(),
    }
}

fn retryable_kind(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::RateLimited | ErrorKind::Overloaded)
}

/// The kind a Google API error object (`{code, message, status, details}`) says it is.
fn kind_of(error: &Value, http_status: Option<u16>) -> ErrorKind {
    let text = |name: &str| error.get(name).and_then(Value::as_str).unwrap_or("");
    let status = text("status");
    let message = text("message").to_ascii_lowercase();
    let reasons: Vec<&str> = error
        .get("details")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("reason").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let code = http_status.or_else(|| {
        error
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..600).contains(c))
    });
    let context = (message.contains("input token count") && message.contains("exceed"))
        || message.contains("exceeds the maximum number of tokens")
        || message.contains("context length")
        || message.contains("context window")
        || message.contains("too many tokens");
    if reasons.iter().any(|r| r.starts_with("API_KEY"))
        || matches!(status, "UNAUTHENTICATED" | "PERMISSION_DENIED")
        || message.contains("api key not valid")
    {
        ErrorKind::Auth
    } else if status == "RESOURCE_EXHAUSTED" {
        ErrorKind::RateLimited
    } else if status == "UNAVAILABLE" || message.contains("overloaded") {
        ErrorKind::Overloaded
    } else if context {
        ErrorKind::ContextLengthExceeded
    } else {
        match status {
            "NOT_FOUND" => ErrorKind::NotFound,
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
                ErrorKind::InvalidRequest
            }
            _ => code.map_or(ErrorKind::UpstreamError, ErrorKind::from_status),
        }
    }
}

/// `RetryInfo.retryDelay` (`"13s"`) from a Google error's details.
fn retry_delay(error: &Value) -> Option<Duration> {
    let details = error.get("details")?.as_array()?;
    let delay = details.iter().find_map(|d| {
        let is_retry_info = d
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"));
        is_retry_info.then(|| d.get("retryDelay")?.as_str())?
    })?;
    let seconds: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d < Duration::from_secs(60))
}

/// An `error` object that came with a 200 (a whole body, or an event of a stream).
fn in_band_error(error: Value) -> Error {
    let kind = kind_of(&error, None);
    let status_code = error.get("code").and_then(Value::as_u64).unwrap_or(0);
    let retry_after = retry_delay(&error);
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({ "error": error })),
        kind,
        retryable: retryable_kind(kind) || (500..600).contains(&status_code),
        retry_after,
    }))
}

/// A prompt Gemini refused to answer: `promptFeedback.blockReason` and no candidates.
fn blocked_prompt(feedback: &Value) -> Error {
    let reason = feedback
        .get("blockReason")
        .and_then(Value::as_str)
        .unwrap_or("BLOCK_REASON_UNSPECIFIED");
    let mut message = format!("Gemini blocked the prompt ({reason})");
    if let Some(detail) = feedback.get("blockReasonMessage").and_then(Value::as_str) {
        message.push_str(": ");
        message.push_str(detail);
    }
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(json!({
            "error": { "message": message, "status": reason },
            "promptFeedback": feedback,
        })),
        kind: ErrorKind::ContentFilter,
        retryable: false,
        retry_after: None,
    }))
}

fn block_reason(response: &GenerateContentResponse) -> Option<&Value> {
    response
        .prompt_feedback
        .as_ref()
        .filter(|f| f.get("blockReason").is_some_and(|r| !r.is_null()))
}

fn decode_completion(body: &[u8]) -> Result<Completion, Error> {
    let response: GenerateContentResponse =
        serde_json::from_slice(body).map_err(|e| bad_json("the response", e, body))?;
    if let Some(error) = response.error.clone().filter(|e| !e.is_null()) {
        return Err(in_band_error(error));
    }
    let Some(candidate) = response.candidates.first() else {
        return Err(match block_reason(&response) {
            Some(feedback) => blocked_prompt(feedback),
            None => Error::BadResponse("the response has no candidates".into()),
        });
    };
    let (response_id, completion_id) = match &response.response_id {
        Some(id) => (id.clone(), id.clone()),
        None => {
            let token = random_token();
            (token.clone(), format!("chatcmpl-{token}"))
        }
    };
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut tool_calls = Vec::new();
    for part in candidate.content.iter().flat_map(|c| &c.parts) {
        if let Some(call) = &part.function_call {
            tool_calls.push(ToolCall {
                id: call_id(
                    call.id.as_deref(),
                    &response_id,
                    tool_calls.len(),
                    part.thought_signature.as_deref(),
                ),
                kind: "function".into(),
                function: FunctionCall {
                    name: call.name.clone(),
                    arguments: arguments_json(call.args.as_ref()),
                },
            });
        } else if let Some(t) = &part.text {
            let into = if part.thought == Some(true) {
                &mut reasoning
            } else {
                &mut text
            };
            into.get_or_insert_with(String::new).push_str(t);
        }
    }
    let usage = response.usage_metadata.map(UsageMetadata::to_usage);
    let writer = CompletionWriter {
        id: completion_id,
        model: response.model_version.clone().unwrap_or_default(),
        content: text,
        reasoning,
        finish_reason: candidate
            .finish_reason
            .as_deref()
            .map(|r| finish_reason(r, !tool_calls.is_empty())),
        provider_finish_reason: candidate.finish_reason.clone(),
        tool_calls,
        usage,
    };
    Ok(Completion {
        json: writer.to_json(),
        usage,
    })
}

/// Stream state: Gemini sends whole `GenerateContentResponse`s, each with the new text and the
/// running usage; the last carries the finish reason. There is no end marker: the body ends.
struct GeminiStream {
    writer: Option<ChunkWriter>,
    response_id: String,
    tool_calls: usize,
    finished: bool,
    usage: Option<Usage>,
    usage_sent: Option<Usage>,
}

impl GeminiStream {
    fn new() -> Self {
        Self {
            writer: None,
            response_id: String::new(),
            tool_calls: 0,
            finished: false,
            usage: None,
            usage_sent: None,
        }
    }
}

impl StreamDecode for GeminiStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(EventOutcome::Continue);
        }
        let response: GenerateContentResponse = serde_json::from_str(data)
            .map_err(|e| bad_json("a stream event", e, data.as_bytes()))?;
        if let Some(error) = response.error.clone().filter(|e| !e.is_null()) {
            return Err(in_band_error(error));
        }
        if response.candidates.is_empty() {
            if let Some(feedback) = block_reason(&response) {
                return Err(blocked_prompt(feedback));
            }
        }
        let writer = self.writer.get_or_insert_with(|| {
            self.response_id = response.response_id.clone().unwrap_or_else(random_token);
            let w = ChunkWriter::new(
                response
                    .response_id
                    .clone()
                    .unwrap_or_else(|| format!("chatcmpl-{}", self.response_id)),
                response.model_version.clone().unwrap_or_default(),
            );
            w.role(sink);
            w
        });
        if let Some(candidate) = response.candidates.first() {
            for part in candidate.content.iter().flat_map(|c| &c.parts) {
                if let Some(call) = &part.function_call {
                    let index = self.tool_calls;
                    let id = call_id(
                        call.id.as_deref(),
                        &self.response_id,
                        index,
                        part.thought_signature.as_deref(),
                    );
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    writer.tool_call_start(sink, index, &id, &call.name);
                    writer.tool_call_arguments(sink, index, &arguments_json(call.args.as_ref()));
                    self.tool_calls += 1;
                } else if let Some(text) = &part.text {
                    if part.thought == Some(true) {
                        writer.reasoning(sink, text);
                    } else {
                        writer.text(sink, text);
                    }
                }
            }
            if let Some(usage) = response.usage_metadata {
                self.usage = Some(usage.to_usage());
            }
            if let (Some(reason), false) = (&candidate.finish_reason, self.finished) {
                self.finished = true;
                writer.finish(sink, finish_reason(reason, self.tool_calls > 0), reason);
            }
        } else if let Some(usage) = response.usage_metadata {
            self.usage = Some(usage.to_usage());
        }
        // Usage follows the finish chunk (and is sent again if a later event revises it).
        if self.finished && self.usage.is_some() && self.usage != self.usage_sent {
            if let Some(usage) = &self.usage {
                writer.usage(sink, usage);
            }
            self.usage_sent = self.usage;
        }
        Ok(EventOutcome::Continue)
    }
}

// ---- embeddings and models --------------------------------------------------------------------

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

fn embeddings_json(vectors: Vec<Vec<f64>>, usage: Option<u64>) -> String {
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| json!({ "object": "embedding", "index": index, "embedding": embedding }))
        .collect();
    let mut out = json!({ "object": "list", "data": data });
    if let Some(tokens) = usage {
        out["usage"] = json!({ "prompt_tokens": tokens, "total_tokens": tokens });
    }
    out.to_string()
}

impl ChatProvider for Gemini {
    fn id(&self) -> &'static str {
        self.name()
    }

    fn authorize(&self, api_key: &str, headers: &mut http::HeaderMap) -> Result<(), Error> {
        if self.vertex {
            bearer(api_key, headers)
        } else {
            header(headers, "x-goog-api-key", api_key)
        }
    }

    fn chat_request(
        &self,
        base_url: &str,
        body: Bytes,
        stream: bool,
    ) -> Result<WireRequest, Error> {
        let req = ChatRequest::parse(&body)?;
        let resource = model_resource(&req.model)?;
        let wire = self.translate(&req)?;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let body = serde_json::to_vec(&wire)
            .map_err(|e| Error::Internal(format!("cannot encode the Gemini request: {e}")))?;
        Ok(WireRequest::post_json(
            self.url(base_url, &format!("{resource}:{method}")),
            body,
        ))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        decode_completion(body)
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(GeminiStream::new())
    }

    fn classify(&self, error: &mut UpstreamError) {
        let Some(object) = error.error_object().cloned() else {
            return;
        };
        let kind = kind_of(&object, error.status);
        error.retryable = match kind {
            ErrorKind::RateLimited | ErrorKind::Overloaded => true,
            ErrorKind::UpstreamError => error.retryable,
            _ => false,
        };
        error.kind = kind;
        if error.retry_after.is_none() {
            error.retry_after = retry_delay(&object);
        }
    }

    fn embed_request(&self, base_url: &str, body: Bytes) -> Result<WireRequest, Error> {
        let (req, inputs) = self.parse_embed(&body)?;
        let resource = model_resource(&req.model)?;
        if self.vertex {
            let instances: Vec<Value> = inputs.iter().map(|t| json!({ "content": t })).collect();
            let mut wire = json!({ "instances": instances });
            if let Some(d) = req.dimensions {
                wire["parameters"] = json!({ "outputDimensionality": d });
            }
            return Ok(WireRequest::post_json(
                self.url(base_url, &format!("{resource}:predict")),
                wire.to_string(),
            ));
        }
        let requests: Vec<Value> = inputs
            .iter()
            .map(|text| {
                let mut r =
                    json!({ "model": resource, "content": { "parts": [{ "text": text }] } });
                if let Some(d) = req.dimensions {
                    r["outputDimensionality"] = json!(d);
                }
                r
            })
            .collect();
        Ok(WireRequest::post_json(
            self.url(base_url, &format!("{resource}:batchEmbedContents")),
            json!({ "requests": requests }).to_string(),
        ))
    }

    fn decode_embeddings(&self, body: &[u8]) -> Result<String, Error> {
        if self.vertex {
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
            let vectors = predictions
                .into_iter()
                .map(|p| p.embeddings.values)
                .collect();
            return Ok(embeddings_json(vectors, Some(tokens)));
        }
        let parsed: BatchEmbedResponse = serde_json::from_slice(body)
            .map_err(|e| bad_json("the embeddings response", e, body))?;
        if let Some(error) = parsed.error.filter(|e| !e.is_null()) {
            return Err(in_band_error(error));
        }
        let embeddings = parsed.embeddings.ok_or_else(|| {
            Error::BadResponse("the embeddings response has no embeddings".into())
        })?;
        // batchEmbedContents reports no token counts.
        let vectors = embeddings.into_iter().map(|e| e.values).collect();
        Ok(embeddings_json(vectors, None))
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        if self.vertex {
            return Err(unsupported(self.name(), "a model list"));
        }
        Ok(WireRequest::get(self.url(base_url, "models?pageSize=1000")))
    }

    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gemini() -> Gemini {
        Gemini { vertex: false }
    }

    fn vertex() -> Gemini {
        Gemini { vertex: true }
    }

    fn wire(provider: &Gemini, body: Value, stream: bool) -> (String, Value) {
        let w = provider
            .chat_request(
                "https://generativelanguage.googleapis.com",
                Bytes::from(body.to_string()),
                stream,
            )
            .unwrap();
        let json = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
        (w.url, json)
    }

    fn event(data: &str) -> SseEvent {
        SseEvent {
            data: data.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn flavour_comes_from_the_provider_id() {
        let g = Gemini::from_settings(&ProviderSettings::default(), false).unwrap();
        assert!(!g.vertex);
        assert_eq!(g.id(), "gemini");
        let v = Gemini::from_settings(&ProviderSettings::default(), true).unwrap();
        assert_eq!(v.id(), "vertex_ai");
    }

    #[test]
    fn the_key_goes_in_a_header_never_the_url() {
        let mut headers = http::HeaderMap::new();
        gemini().authorize("AIza-secret", &mut headers).unwrap();
        assert_eq!(headers["x-goog-api-key"], "AIza-secret");
        assert!(headers["x-goog-api-key"].is_sensitive());
        assert!(headers.get("authorization").is_none());
        let (url, _) = wire(
            &gemini(),
            json!({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}),
            true,
        );
        assert_eq!(
            url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        let mut headers = http::HeaderMap::new();
        vertex().authorize("ya29.token", &mut headers).unwrap();
        assert_eq!(headers["authorization"], "Bearer ya29.token");
    }

    #[test]
    fn urls_per_flavour() {
        let g = gemini();
        assert_eq!(
            g.url("http://h/", "models/m:generateContent"),
            "http://h/v1beta/models/m:generateContent"
        );
        assert_eq!(
            g.url("http://h/v1beta/", "models/m:generateContent"),
            "http://h/v1beta/models/m:generateContent"
        );
        let base = "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google";
        assert_eq!(
            vertex().url(base, "models/gemini-2.5-pro:generateContent"),
            format!("{base}/models/gemini-2.5-pro:generateContent")
        );
        assert_eq!(
            model_resource("tunedModels/my-tune").unwrap(),
            "tunedModels/my-tune"
        );
        assert_eq!(
            model_resource("models/gemini-2.0-flash").unwrap(),
            "models/gemini-2.0-flash"
        );
        assert!(model_resource("gemini?key=x").is_err());
        assert!(model_resource("").is_err());
    }

    #[test]
    fn translates_a_whole_conversation() {
        let body = json!({
            "model": "gemini-2.5-flash",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": "https://example.test/cat.JPG?x=1"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "low"}}
                ]},
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "call_a__thought__c2ln", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}
                ]},
                {"role": "tool", "tool_call_id": "call_a__thought__c2ln", "content": "{\"tempC\":21}"},
                {"role": "tool", "tool_call_id": "call_b", "content": "14:05"},
                {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": "Merci"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "description": "City"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                    "required": ["city"], "additionalProperties": false
                }}},
                {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "stop": "END", "seed": 7,
            "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "stream": true, "stream_options": {"include_usage": true}
        });
        let (url, json) = wire(&gemini(), body, false);
        assert!(url.ends_with("/v1beta/models/gemini-2.5-flash:generateContent"));
        assert_eq!(
            json,
            json!({
                "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Answer in French."}]},
                "contents": [
                    {"role": "user", "parts": [
                        {"text": "What is in these?"},
                        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.test/cat.JPG?x=1"}},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}, "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"}}
                    ]},
                    {"role": "model", "parts": [
                        {"text": "Checking."},
                        {"functionCall": {"id": "call_a", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
                        {"functionCall": {"id": "call_b", "name": "get_time", "args": {}}}
                    ]},
                    {"role": "user", "parts": [
                        {"functionResponse": {"id": "call_a", "name": "get_weather", "response": {"tempC": 21}}},
                        {"functionResponse": {"id": "call_b", "name": "get_time", "response": {"result": "14:05"}}},
                        {"text": "Merci"}
                    ]}
                ],
                "tools": [{"functionDeclarations": [
                    {"name": "get_weather", "description": "Weather", "parameters": {
                        "type": "OBJECT",
                        "properties": {"city": {"type": "STRING", "description": "City"}, "unit": {"type": "STRING", "enum": ["c", "f"]}},
                        "required": ["city"]
                    }},
                    {"name": "get_time"}
                ]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
                "generationConfig": {
                    "temperature": 0.2, "topP": 0.9, "maxOutputTokens": 50, "stopSequences": ["END"], "seed": 7,
                    "presencePenalty": 0.1, "frequencyPenalty": 0.2
                }
            })
        );
    }

    #[test]
    fn vertex_sends_no_call_ids_and_needs_image_types() {
        let body = json!({
            "model": "gemini-2.5-pro",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "[1,2]"}
            ]
        });
        let (_, json) = wire(&vertex(), body, false);
        assert_eq!(
            json["contents"],
            json!([
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"result": "[1,2]"}}}]}
            ])
        );
        let image = json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x.test/image"}}
        ]}]});
        let err = vertex()
            .chat_request("http://h", Bytes::from(image.to_string()), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("image"));
        // The Gemini API fetches it and works out the type itself.
        let (_, json) = wire(&gemini(), image, false);
        assert_eq!(
            json["contents"][0]["parts"][0],
            json!({"fileData": {"fileUri": "https://x.test/image"}})
        );
    }

    #[test]
    fn structured_output_is_native_json_schema() {
        let body = json!({
            "model": "gemini-2.5-flash",
            "messages": [{"role": "user", "content": "weather?"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "W", "strict": true, "description": "The weather", "schema": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "tempC": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                    "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                    "kind": {"const": "report"},
                    "level": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                    "either": {"oneOf": [{"type": "string"}, {"type": "boolean"}]}
                },
                "required": ["city"],
                "additionalProperties": false,
                "$defs": {"tag": {"type": "string", "description": "A tag"}},
                "$schema": "http://json-schema.org/draft-07/schema#"
            }}}
        });
        let (_, json) = wire(&gemini(), body, false);
        assert_eq!(
            json["generationConfig"],
            json!({
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "description": "The weather",
                    "properties": {
                        "city": {"type": "STRING"},
                        "tempC": {"type": "NUMBER", "nullable": true},
                        "tags": {"type": "ARRAY", "items": {"type": "STRING", "description": "A tag"}},
                        "kind": {"type": "STRING", "enum": ["report"]},
                        "level": {"type": "INTEGER", "minimum": 0, "nullable": true},
                        "either": {"anyOf": [{"type": "STRING"}, {"type": "BOOLEAN"}]}
                    },
                    "required": ["city"]
                }
            })
        );
        let mode = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}});
        let (_, json) = wire(&gemini(), mode, false);
        assert_eq!(
            json["generationConfig"],
            json!({"responseMimeType": "application/json"})
        );
    }

    #[test]
    fn schemas_gemini_cannot_express_are_refused_by_place() {
        for (schema, needle) in [
            (
                json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "number"}}}}),
                "tools.f.parameters.m.additionalProperties",
            ),
            (
                json!({"type": "object", "properties": {"t": {"type": "array", "items": [{"type": "string"}]}}}),
                "tuple",
            ),
            (
                json!({"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}}),
                "enum of non-strings",
            ),
            (
                json!({"type": "object", "properties": {"x": {"not": {"type": "string"}}}}),
                "\"not\"",
            ),
            (
                json!({"type": "object", "properties": {"r": {"$ref": "#"}}}),
                "recursive",
            ),
        ] {
            let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]});
            let err = gemini()
                .chat_request("http://h", Bytes::from(body.to_string()), false)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn fields_without_a_translation_are_refused_by_name() {
        let base = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        for (extra, name) in [
            (json!({"logit_bias": {"42": 1}}), "logit_bias"),
            (json!({"n": 2}), "n"),
            (json!({"user": "u1"}), "user"),
            (json!({"parallel_tool_calls": false}), "parallel_tool_calls"),
            (json!({"logprobs": true}), "logprobs"),
            (json!({"reasoning_effort": "extreme"}), "reasoning_effort"),
            (json!({"tool_choice": "required"}), "tool_choice"),
        ] {
            let mut body = base.clone();
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let err = gemini()
                .chat_request("http://h", Bytes::from(body.to_string()), false)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
            assert!(err.to_string().contains(name), "{err} lacks {name}");
        }
        let named =
            json!({"model": "m", "messages": [{"role": "user", "content": "x", "name": "bob"}]});
        assert!(gemini()
            .chat_request("http://h", Bytes::from(named.to_string()), false)
            .unwrap_err()
            .to_string()
            .contains("name"));
        let orphan = json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]});
        assert!(gemini()
            .chat_request("http://h", Bytes::from(orphan.to_string()), false)
            .unwrap_err()
            .to_string()
            .contains("nope"));
        for url in ["http://insecure.test/a.png", "ftp://x/a.png"] {
            let img = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]});
            let err = gemini()
                .chat_request("http://h", Bytes::from(img.to_string()), false)
                .unwrap_err();
            assert!(err.to_string().contains("image"), "{err}");
        }
        // What Gemini does anyway is accepted: one candidate, parallel calls allowed.
        let fine = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 1, "parallel_tool_calls": true});
        assert!(gemini()
            .chat_request("http://h", Bytes::from(fine.to_string()), false)
            .is_ok());
    }

    #[test]
    fn reasoning_effort_becomes_a_thinking_config() {
        let ask = |model: &str, effort: &str| {
            let body = json!({"model": model, "messages": [{"role": "user", "content": "x"}], "reasoning_effort": effort});
            wire(&gemini(), body, false).1["generationConfig"]["thinkingConfig"].clone()
        };
        assert_eq!(
            ask("gemini-2.5-flash", "low"),
            json!({"thinkingBudget": 1024, "includeThoughts": true})
        );
        assert_eq!(
            ask("gemini-3-pro-preview", "high"),
            json!({"thinkingLevel": "high", "includeThoughts": true})
        );
        assert_eq!(
            ask("gemini-2.5-flash", "none"),
            json!({"thinkingBudget": 0})
        );
    }

    #[test]
    fn decodes_a_text_answer_with_usage() {
        // Shape of the Gemini API reference's GenerateContentResponse.
        let body = br#"{
          "candidates": [{
            "content": {"parts": [{"text": "Let me think.", "thought": true}, {"text": "Hey there! "}, {"text": "How can I help?"}], "role": "model"},
            "finishReason": "STOP", "index": 0
          }],
          "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 10, "totalTokenCount": 111,
            "cachedContentTokenCount": 4, "thoughtsTokenCount": 93,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
          "modelVersion": "gemini-2.5-flash",
          "responseId": "B_4saZqCLv3w4-EP8ta6gQ8"
        }"#;
        let c = gemini().decode_completion(body, "").unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        assert_eq!(v["id"], "B_4saZqCLv3w4-EP8ta6gQ8");
        assert_eq!(v["model"], "gemini-2.5-flash");
        assert_eq!(v["object"], "chat.completion");
        let choice = &v["choices"][0];
        assert_eq!(choice["message"]["content"], "Hey there! How can I help?");
        assert_eq!(choice["message"]["reasoning_content"], "Let me think.");
        assert_eq!(choice["finish_reason"], "stop");
        assert_eq!(choice["provider_finish_reason"], "STOP");
        assert_eq!(
            v["usage"],
            json!({"prompt_tokens": 8, "completion_tokens": 103, "total_tokens": 111,
                "prompt_tokens_details": {"cached_tokens": 4},
                "completion_tokens_details": {"reasoning_tokens": 93}})
        );
        assert_eq!(c.usage.unwrap().total_tokens, 111);
    }

    #[test]
    fn decodes_function_calls_with_and_without_ids() {
        let body = br#"{
          "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "U2lnbmF0dXJl"},
            {"functionCall": {"name": "get_time", "args": {"city": "Paris"}}},
            {"functionCall": {"id": "fc_given", "name": "noop"}}
          ]}, "finishReason": "STOP"}],
          "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18},
          "modelVersion": "gemini-3-flash-preview", "responseId": "r1"
        }"#;
        let c = gemini().decode_completion(body, "").unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        let msg = &v["choices"][0]["message"];
        assert_eq!(msg["content"], Value::Null);
        assert_eq!(
            msg["tool_calls"],
            json!([
                {"id": "call_r1_0__thought__U2lnbmF0dXJl", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_r1_1", "type": "function", "function": {"name": "get_time", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "fc_given", "type": "function", "function": {"name": "noop", "arguments": "{}"}}
            ])
        );
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn finish_reasons_and_blocks() {
        let answer = |reason: &str| {
            let body = json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]});
            let c = gemini()
                .decode_completion(body.to_string().as_bytes(), "")
                .unwrap();
            let v: Value = serde_json::from_str(&c.json).unwrap();
            v["choices"][0]["finish_reason"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(answer("MAX_TOKENS"), "length");
        for r in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
        ] {
            assert_eq!(answer(r), "content_filter", "{r}");
        }
        assert_eq!(answer("OTHER"), "stop");
        // A blocked prompt has no candidates: an error, with Gemini's feedback kept.
        let blocked = br#"{"promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "unsafe prompt",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
            "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}"#;
        let err = gemini().decode_completion(blocked, "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ContentFilter);
        assert!(!err.retryable());
        assert_eq!(
            err.to_string(),
            "Gemini blocked the prompt (SAFETY): unsafe prompt"
        );
        let u = err.upstream().unwrap();
        assert_eq!(u.error_object().unwrap()["status"], "SAFETY");
        assert!(
            matches!(&u.body, UpstreamBody::Json(b) if b["promptFeedback"]["blockReason"] == "SAFETY")
        );
        let err = gemini().decode_completion(b"{}", "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse);
        let err = gemini().decode_completion(b"<html>", "").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse);
    }

    fn decode_stream(events: &[&str]) -> (StreamSink, Vec<Value>) {
        let mut decoder = GeminiStream::new();
        let mut sink = StreamSink::default();
        for e in events {
            assert_eq!(
                decoder.decode(&event(e), &mut sink).unwrap(),
                EventOutcome::Continue
            );
        }
        let batch = sink
            .take_batch()
            .map_or(json!([]), |b| serde_json::from_str(&b).unwrap());
        let chunks = batch.as_array().unwrap().clone();
        (sink, chunks)
    }

    #[test]
    fn a_streamed_answer_becomes_canonical_chunks() {
        let events = [
            r#"{"candidates": [{"content": {"parts": [{"text": "Sunny"}], "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 1, "totalTokenCount": 12}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": " and warm,"}], "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 4, "totalTokenCount": 15}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
            "",
            r#"{"candidates": [{"content": {"parts": [{"text": " 21 °C."}], "role": "model"}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18}, "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}"#,
        ];
        let (sink, chunks) = decode_stream(&events);
        assert_eq!(chunks.len(), 6);
        assert!(chunks.iter().all(|c| c["id"] == "resp-1"
            && c["object"] == "chat.completion.chunk"
            && c["model"] == "gemini-2.5-flash"));
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "Sunny and warm, 21 °C.");
        assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
        assert_eq!(chunks[4]["choices"][0]["provider_finish_reason"], "STOP");
        assert_eq!(chunks[5]["choices"], json!([]));
        assert_eq!(
            chunks[5]["usage"],
            json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
        );
        let p = &sink.progress;
        assert_eq!(p.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            p.content_chars,
            "Sunny and warm, 21 °C.".chars().count() as u64
        );
        assert!(GeminiStream::new().ended_cleanly(p));
        assert!(!GeminiStream::new().ended_cleanly(&Default::default()));
    }

    #[test]
    fn streamed_parallel_function_calls() {
        let events = [
            r#"{"candidates": [{"content": {"parts": [{"text": "Thinking about it", "thought": true}], "role": "model"}}], "responseId": "r9", "modelVersion": "gemini-3-flash-preview"}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"id": "call_w1", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}], "role": "model"}}], "responseId": "r9"}"#,
            r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_time", "args": {"city": "Paris"}}}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 30, "thoughtsTokenCount": 12}, "responseId": "r9"}"#,
        ];
        let (sink, chunks) = decode_stream(&events);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(deltas[1]["reasoning_content"], "Thinking about it");
        assert_eq!(
            deltas[2]["tool_calls"],
            json!([{"index": 0, "id": "call_w1__thought__c2ln", "type": "function", "function": {"name": "get_weather", "arguments": ""}}])
        );
        assert_eq!(
            deltas[3]["tool_calls"],
            json!([{"index": 0, "function": {"arguments": "{\"city\":\"Paris\"}"}}])
        );
        assert_eq!(deltas[4]["tool_calls"][0]["id"], "call_r9_1");
        assert_eq!(deltas[4]["tool_calls"][0]["index"], 1);
        assert_eq!(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            chunks[7]["usage"]["completion_tokens_details"]["reasoning_tokens"],
            12
        );
        assert_eq!(chunks[7]["usage"]["completion_tokens"], 19);
        assert_eq!(chunks.len(), 8);
        assert_eq!(sink.progress.tool_call_deltas, 4);
    }

    #[test]
    fn a_stream_fed_in_arbitrary_splits_decodes_the_same() {
        use crate::framing::FrameDecoder;
        use crate::providers::Framing;
        let transcript = concat!(
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"héllo \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 3,\"totalTokenCount\": 3},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"x1\"}\r\n\r\n",
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"wörld\"}],\"role\": \"model\"},\"finishReason\": \"MAX_TOKENS\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 3,\"candidatesTokenCount\": 2,\"totalTokenCount\": 5},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"x1\"}\r\n\r\n",
        )
        .as_bytes();
        let run = |piece: usize| {
            let mut frames = FrameDecoder::new(Framing::Sse);
            let mut decoder = GeminiStream::new();
            let mut sink = StreamSink::default();
            let mut events = Vec::new();
            for chunk in transcript.chunks(piece) {
                frames.feed(chunk, &mut events).unwrap();
            }
            frames.finish(&mut events).unwrap();
            for e in &events {
                decoder.decode(e, &mut sink).unwrap();
            }
            let batch: Value = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
            batch
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c.as_object_mut().unwrap().remove("created");
                    c
                })
                .collect::<Vec<_>>()
        };
        let whole = run(transcript.len());
        assert_eq!(whole.len(), 5);
        assert_eq!(whole[3]["choices"][0]["finish_reason"], "length");
        for piece in [1, 2, 3, 7, 13, 64] {
            assert_eq!(run(piece), whole, "piece {piece}");
        }
    }

    #[test]
    fn stream_errors_are_typed() {
        let mut sink = StreamSink::default();
        let mut d = GeminiStream::new();
        let err = d.decode(&event("not json"), &mut sink).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadResponse);
        let err = d
            .decode(
                &event(r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#),
                &mut sink,
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Overloaded);
        assert!(err.retryable());
        assert_eq!(
            err.to_string(),
            "The model is overloaded. Please try again later."
        );
        let err = d
            .decode(
                &event(r#"{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 4}}"#),
                &mut sink,
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ContentFilter);
        assert_eq!(sink.progress.chunks, 0);
    }

    fn http_error(status: u16, body: Value) -> UpstreamError {
        let mut e = UpstreamError {
            status: Some(status),
            headers: Vec::new(),
            body: UpstreamBody::Json(body),
            kind: ErrorKind::from_status(status),
            retryable: crate::retry::status_is_retryable(status, &http::HeaderMap::new()),
            retry_after: None,
        };
        gemini().classify(&mut e);
        e
    }

    #[test]
    fn classifies_google_errors() {
        let e = http_error(
            429,
            json!({"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}]}}),
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::RateLimited, true));
        assert_eq!(e.retry_after, Some(Duration::from_secs(13)));
        let e = http_error(
            400,
            json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::Auth, false));
        let e = http_error(
            403,
            json!({"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}}),
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = http_error(
            401,
            json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = http_error(
            400,
            json!({"error": {"code": 400, "message": "The input token count (1196266) exceeds the maximum number of tokens allowed (1048575).", "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!(
            (e.kind, e.retryable),
            (ErrorKind::ContextLengthExceeded, false)
        );
        let e = http_error(
            400,
            json!({"error": {"code": 400, "message": "Invalid value at 'safety_settings[0].category'", "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
        let e = http_error(
            503,
            json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}),
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::Overloaded, true));
        let e = http_error(
            500,
            json!({"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}),
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::UpstreamError, true));
        let e = http_error(
            404,
            json!({"error": {"code": 404, "message": "models/nope is not found", "status": "NOT_FOUND"}}),
        );
        assert_eq!((e.kind, e.retryable), (ErrorKind::NotFound, false));
    }

    #[test]
    fn embeddings_both_flavours() {
        let body = Bytes::from(
            r#"{"model":"gemini-embedding-001","input":["alpha","beta"],"dimensions":8}"#,
        );
        let w = gemini().embed_request("https://g", body.clone()).unwrap();
        assert_eq!(
            w.url,
            "https://g/v1beta/models/gemini-embedding-001:batchEmbedContents"
        );
        let sent: Value = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"requests": [
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "alpha"}]}, "outputDimensionality": 8},
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "beta"}]}, "outputDimensionality": 8}
            ]})
        );
        let out: Value = serde_json::from_str(
            &gemini()
                .decode_embeddings(
                    br#"{"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}"#,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"object": "list", "data": [
                {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
                {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]}
            ]})
        );
        let w = vertex()
            .embed_request("https://v/publishers/google", body)
            .unwrap();
        assert_eq!(
            w.url,
            "https://v/publishers/google/models/gemini-embedding-001:predict"
        );
        let sent: Value = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"instances": [{"content": "alpha"}, {"content": "beta"}], "parameters": {"outputDimensionality": 8}})
        );
        let out: Value = serde_json::from_str(
            &vertex()
                .decode_embeddings(
                    br#"{"predictions": [
            {"embeddings": {"statistics": {"truncated": false, "token_count": 2}, "values": [0.1]}},
            {"embeddings": {"statistics": {"truncated": false, "token_count": 3}, "values": [0.2]}}
        ]}"#,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out["usage"], json!({"prompt_tokens": 5, "total_tokens": 5}));
        assert_eq!(out["data"][1]["embedding"], json!([0.2]));
        for bad in [
            r#"{"model":"m","input":"x","encoding_format":"base64"}"#,
            r#"{"model":"m","input":"x","user":"u"}"#,
            r#"{"model":"m","input":[[1,2]]}"#,
            r#"{"model":"m","input":[]}"#,
        ] {
            let err = gemini()
                .embed_request("https://g", Bytes::from(bad))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn model_list() {
        let w = gemini().models_request("https://g").unwrap();
        assert_eq!(w.url, "https://g/v1beta/models?pageSize=1000");
        assert_eq!(w.method, http::Method::GET);
        let out: Value = serde_json::from_str(
            &gemini()
                .decode_models(
                    br#"{"models": [
            {"name": "models/gemini-2.0-flash", "version": "2.0", "displayName": "Gemini 2.0 Flash",
             "inputTokenLimit": 1048576, "outputTokenLimit": 8192,
             "supportedGenerationMethods": ["generateContent", "countTokens"]}
        ], "nextPageToken": "abc"}"#,
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out["object"], "list");
        let m = &out["data"][0];
        assert_eq!(m["id"], "gemini-2.0-flash");
        assert_eq!(m["owned_by"], "google");
        assert_eq!(m["inputTokenLimit"], 1048576);
        assert_eq!(m["displayName"], "Gemini 2.0 Flash");
        assert_eq!(
            vertex().models_request("https://v").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
