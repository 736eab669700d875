//! Canonical request → `generateContent` request, refusing by name what Gemini has no place for.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::schema::gemini_schema;
use super::wire::{
    Blob, FileData, FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest,
    GenerationConfig, MediaResolution, SystemInstruction, ToolConfig, WireContent,
    WireFunctionCall, WireFunctionResponse, WirePart, WireTool,
};
use super::{Gemini, THOUGHT_SEPARATOR};
use crate::canonical::{
    ChatRequest, Content, ImageSource, Message, Part, ResponseFormat, Role, ToolChoice,
};
use crate::error::Error;

/// The model's resource path: `models/{id}` for a bare id, anything with a slash
/// (`tunedModels/…`, `models/…`) as given.
pub(super) fn model_resource(model: &str) -> Result<String, Error> {
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

    pub(super) fn translate(&self, req: &ChatRequest) -> Result<GenerateContentRequest, Error> {
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
