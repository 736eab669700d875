//! Canonical chat request → Converse request. What Converse has no way to say is refused by
//! name, never dropped.

use http::HeaderValue;
use serde_json::json;

use super::wire::{
    Block, ConverseRequest, Empty, ImageBlock, ImageBytes, InferenceConfig, InputSchema, NamedTool,
    SystemBlock, ToolConfig, ToolResultBlock, ToolResultContent, ToolSpec, ToolUseBlock,
    WireMessage, WireTool, WireToolChoice,
};
use super::{EVENT_STREAM, ID, JSON_TOOL};
use crate::canonical::{
    ChatRequest, Content, ImageSource, Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::Error;
use crate::providers::support::invalid;
use crate::providers::{join_url, WireRequest};
use crate::sigv4;

/// The Converse (or ConverseStream) call for a canonical chat request. Converse answers do not
/// name their model: the model id goes along in [`WireRequest::model`] for the decoders.
pub(super) fn chat_request(
    base_url: &str,
    body: &[u8],
    stream: bool,
) -> Result<WireRequest, Error> {
    let req = ChatRequest::parse(body)?;
    let converse = converse_request(&req)?;
    let action = if stream {
        "converse-stream"
    } else {
        "converse"
    };
    let url = join_url(base_url, &model_path(&req.model, action)?);
    let body = serde_json::to_vec(&converse)
        .map_err(|e| Error::Internal(format!("cannot write the Converse request: {e}")))?;
    let mut wire = WireRequest::post_json(url, body);
    if stream {
        wire.headers
            .insert(http::header::ACCEPT, HeaderValue::from_static(EVENT_STREAM));
    }
    wire.model = Some(req.model);
    Ok(wire)
}

fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn image_block(url: &str, detail: Option<&str>) -> Result<ImageBlock, Error> {
    if let Some(d) = detail.filter(|d| *d != "auto") {
        return Err(invalid(format!(
            "bedrock cannot take image detail {d:?}: Converse has no detail setting; remove it"
        )));
    }
    match ImageSource::parse(url) {
        ImageSource::Url(_) => Err(invalid(
            "bedrock cannot take images by URL: the Converse API only takes image bytes; send the image as a data: URL (data:image/png;base64,…)",
        )),
        ImageSource::Base64 { media_type, data } => {
            let format = match media_type.to_ascii_lowercase().as_str() {
                "image/png" => "png",
                "image/jpeg" | "image/jpg" => "jpeg",
                "image/gif" => "gif",
                "image/webp" => "webp",
                other => {
                    return Err(invalid(format!(
                        "bedrock cannot take {other:?} images: Converse takes png, jpeg, gif and webp"
                    )))
                }
            };
            Ok(ImageBlock {
                format,
                source: ImageBytes { bytes: data },
            })
        }
    }
}

fn file_part_error() -> Error {
    invalid("bedrock cannot take file parts by file_id: Converse has no file store; send the document's text instead")
}

/// A user message's blocks: text and inline images.
fn user_blocks(content: &Content) -> Result<Vec<Block>, Error> {
    match content {
        Content::Text(t) if blank(t) => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![Block::Text(t.clone())]),
        Content::Parts(parts) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part {
                    Part::Text { text } if blank(text) => {}
                    Part::Text { text } => blocks.push(Block::Text(text.clone())),
                    Part::ImageUrl { image_url } => blocks.push(Block::Image(image_block(
                        &image_url.url,
                        image_url.detail.as_deref(),
                    )?)),
                    Part::File { .. } => return Err(file_part_error()),
                }
            }
            Ok(blocks)
        }
    }
}

fn text_only(content: &Content, role: &str) -> Result<String, Error> {
    if let Content::Parts(parts) = content {
        if parts.iter().any(|p| !matches!(p, Part::Text { .. })) {
            return Err(invalid(format!(
                "bedrock cannot take images or files in {role} messages: Converse takes them in user messages only"
            )));
        }
    }
    Ok(content.text())
}

fn tool_result(message: &Message) -> Result<Block, Error> {
    let tool_use_id = message
        .tool_call_id
        .clone()
        .ok_or_else(|| invalid("a tool message needs tool_call_id"))?;
    let content = match &message.content {
        None => Vec::new(),
        Some(Content::Text(t)) if blank(t) => Vec::new(),
        Some(Content::Text(t)) => vec![ToolResultContent::Text(t.clone())],
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for part in parts {
                match part {
                    Part::Text { text } if blank(text) => {}
                    Part::Text { text } => out.push(ToolResultContent::Text(text.clone())),
                    Part::ImageUrl { image_url } => out.push(ToolResultContent::Image(
                        image_block(&image_url.url, image_url.detail.as_deref())?,
                    )),
                    Part::File { .. } => return Err(file_part_error()),
                }
            }
            out
        }
    };
    Ok(Block::ToolResult(ToolResultBlock {
        tool_use_id,
        content,
    }))
}

fn tool_use(call: &ToolCall) -> Result<Block, Error> {
    let args = call.function.arguments.trim();
    let input = if args.is_empty() {
        json!({})
    } else {
        serde_json::from_str(args).map_err(|e| {
            invalid(format!(
                "tool call {:?} has arguments that are not JSON ({e}); Converse takes them as a JSON value",
                call.id
            ))
        })?
    };
    Ok(Block::ToolUse(ToolUseBlock {
        tool_use_id: call.id.clone(),
        name: call.function.name.clone(),
        input,
    }))
}

/// Converse wants user and assistant turns to alternate: consecutive turns of one role (tool
/// results and the user message after them, say) become one message.
fn push(messages: &mut Vec<WireMessage>, role: &'static str, blocks: Vec<Block>) {
    if blocks.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(WireMessage {
            role,
            content: blocks,
        }),
    }
}

fn translate_messages(req: &ChatRequest) -> Result<(Vec<SystemBlock>, Vec<WireMessage>), Error> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for m in &req.messages {
        if m.name.is_some() && m.role != Role::Tool {
            return Err(invalid(
                "bedrock cannot take a message name: Converse messages have no participant names; remove it",
            ));
        }
        match m.role {
            Role::System | Role::Developer => {
                let text = match &m.content {
                    Some(c) => text_only(c, "system")?,
                    None => String::new(),
                };
                if !blank(&text) {
                    system.push(SystemBlock { text });
                }
            }
            Role::User => {
                let blocks = match &m.content {
                    Some(c) => user_blocks(c)?,
                    None => Vec::new(),
                };
                push(&mut messages, "user", blocks);
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                if let Some(c) = &m.content {
                    let text = text_only(c, "assistant")?;
                    if !blank(&text) {
                        blocks.push(Block::Text(text));
                    }
                }
                for call in m.tool_calls.iter().flatten() {
                    blocks.push(tool_use(call)?);
                }
                push(&mut messages, "assistant", blocks);
            }
            Role::Tool => push(&mut messages, "user", vec![tool_result(m)?]),
        }
    }
    Ok((system, messages))
}

fn structured_tool(format: &ResponseFormat) -> Option<WireTool> {
    let (schema, description) = match format {
        ResponseFormat::Text => return None,
        ResponseFormat::JsonObject => (
            json!({ "type": "object" }),
            "Respond with a JSON object.".to_string(),
        ),
        ResponseFormat::JsonSchema { json_schema } => (
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({ "type": "object" })),
            json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with a JSON object that matches the {} schema.",
                    json_schema.name
                )
            }),
        ),
    };
    Some(WireTool {
        tool_spec: ToolSpec {
            name: JSON_TOOL.to_string(),
            description: Some(description),
            input_schema: InputSchema { json: schema },
        },
    })
}

fn has_tool_blocks(messages: &[WireMessage]) -> bool {
    messages.iter().any(|m| {
        m.content
            .iter()
            .any(|b| matches!(b, Block::ToolUse(_) | Block::ToolResult(_)))
    })
}

fn tool_config(req: &ChatRequest, messages: &[WireMessage]) -> Result<Option<ToolConfig>, Error> {
    let mut tools = Vec::new();
    for tool in req.tools.iter().flatten() {
        let f = &tool.function;
        if f.name == JSON_TOOL {
            return Err(invalid(format!(
                "bedrock reserves the tool name {JSON_TOOL:?} for structured output; rename the tool"
            )));
        }
        tools.push(WireTool {
            tool_spec: ToolSpec {
                name: f.name.clone(),
                description: f.description.clone(),
                input_schema: InputSchema {
                    json: f
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
                },
            },
        });
    }
    let structured = req.response_format.as_ref().and_then(structured_tool);
    let forced = |tools: Vec<WireTool>, name: &str| ToolConfig {
        tools,
        tool_choice: Some(WireToolChoice::Tool(NamedTool {
            name: name.to_string(),
        })),
    };
    let mode = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(m)) => Some(m.as_str()),
        Some(ToolChoice::Function { function }) => {
            if !tools.iter().any(|t| t.tool_spec.name == function.name) {
                return Err(invalid(format!(
                    "tool_choice names {:?}, which is not among the tools",
                    function.name
                )));
            }
            tools.extend(structured);
            return Ok(Some(forced(tools, &function.name)));
        }
    };
    Ok(match (mode, structured) {
        (Some("none"), Some(s)) => Some(forced(vec![s], JSON_TOOL)),
        (Some("none"), None) if has_tool_blocks(messages) => {
            return Err(invalid(
                "bedrock cannot take tool_choice \"none\" in a conversation with tool calls: Converse needs the tools defined then and has no way to forbid calling them",
            ))
        }
        (Some("none"), None) => None,
        (Some("auto") | None, None) if tools.is_empty() => None,
        (Some("auto"), None) => Some(ToolConfig {
            tools,
            tool_choice: Some(WireToolChoice::Auto(Empty {})),
        }),
        (None, None) => Some(ToolConfig {
            tools,
            tool_choice: None,
        }),
        (Some("required"), None) if tools.is_empty() => {
            return Err(invalid("tool_choice \"required\" needs tools"))
        }
        (Some("required"), None) => Some(ToolConfig {
            tools,
            tool_choice: Some(WireToolChoice::Any(Empty {})),
        }),
        // The answer must come through the structured tool, or through one of the caller's.
        (Some("auto" | "required") | None, Some(s)) if tools.is_empty() => {
            Some(forced(vec![s], JSON_TOOL))
        }
        (Some("auto" | "required") | None, Some(s)) => {
            tools.push(s);
            Some(ToolConfig {
                tools,
                tool_choice: Some(WireToolChoice::Any(Empty {})),
            })
        }
        (Some(other), _) => {
            return Err(invalid(format!(
                "bedrock cannot take tool_choice {other:?}: use \"auto\", \"required\", \"none\" or a function"
            )))
        }
    })
}

fn converse_request(req: &ChatRequest) -> Result<ConverseRequest, Error> {
    req.reject_extra(
        ID,
        &[
            ("seed", req.seed.is_some()),
            ("frequency_penalty", req.frequency_penalty.is_some()),
            ("presence_penalty", req.presence_penalty.is_some()),
            ("reasoning_effort", req.reasoning_effort.is_some()),
            ("user", req.user.is_some()),
            ("n", req.n.is_some_and(|n| n != 1)),
            (
                "parallel_tool_calls=false",
                req.parallel_tool_calls == Some(false),
            ),
        ],
    )?;
    let (system, messages) = translate_messages(req)?;
    let tool_config = tool_config(req, &messages)?;
    let inference = InferenceConfig {
        max_tokens: req.max_output_tokens(),
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: req.stop.as_ref().map(|s| s.to_vec()),
    };
    let set = inference.max_tokens.is_some()
        || inference.temperature.is_some()
        || inference.top_p.is_some()
        || inference.stop_sequences.is_some();
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: set.then_some(inference),
        tool_config,
    })
}

/// `model/{modelId}/{action}`, the model id encoded as one path segment (`:` → `%3A`).
pub(super) fn model_path(model: &str, action: &str) -> Result<String, Error> {
    if model.trim().is_empty() {
        return Err(invalid("the request needs a model"));
    }
    Ok(format!("model/{}/{action}", sigv4::uri_encode(model, true)))
}
