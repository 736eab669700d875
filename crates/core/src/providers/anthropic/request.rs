//! Canonical (OpenAI chat) requests as Messages requests, and the refusals of what Messages
//! cannot take.

use serde_json::{json, Value};

use super::wire::{
    Block, MessagesRequest, Metadata, System, WireContent, WireImage, WireMessage, WireTool,
    WireToolChoice,
};
use super::{DEFAULT_MAX_TOKENS, ID, JSON_TOOL};
use crate::canonical::{
    ChatRequest, Content, ImageSource, Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::Error;
use crate::providers::support::invalid;

/// `reasoning_effort` → extended-thinking `budget_tokens` (LiteLLM's budgets; 1024 is the
/// minimum Anthropic takes).
const THINKING_BUDGETS: &[(&str, u64)] = &[("low", 1024), ("medium", 2048), ("high", 4096)];

/// Non-empty text as a block list.
fn text_blocks(text: &str) -> Vec<Block> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Block::Text {
            text: text.to_string(),
        }]
    }
}

fn image_block(url: &str) -> Block {
    let source = match ImageSource::parse(url) {
        ImageSource::Url(url) => WireImage::Url { url },
        ImageSource::Base64 { media_type, data } => WireImage::Base64 { media_type, data },
    };
    Block::Image { source }
}

/// A user (or tool result) content: text and images. Empty text parts are left out (Anthropic
/// refuses empty text blocks).
fn content_blocks(content: &Content, role: &str) -> Result<Vec<Block>, Error> {
    match content {
        Content::Text(text) => Ok(text_blocks(text)),
        Content::Parts(parts) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for part in parts {
                match part {
                    Part::Text { text } => blocks.extend(text_blocks(text)),
                    // `detail` is a resolution hint with no Anthropic counterpart: Anthropic
                    // always reads the image at its own resolution.
                    Part::ImageUrl { image_url } => blocks.push(image_block(&image_url.url)),
                    Part::File { .. } => {
                        return Err(invalid(format!(
                            "{ID} cannot take file parts (OpenAI file ids) in {role} messages: send the document as text or an image"
                        )))
                    }
                }
            }
            Ok(blocks)
        }
    }
}

/// Text-only content (system prompts, assistant turns).
fn text_only(content: &Content, role: &str) -> Result<String, Error> {
    if let Content::Parts(parts) = content {
        if parts.iter().any(|p| !matches!(p, Part::Text { .. })) {
            return Err(invalid(format!(
                "{ID} takes only text in {role} messages (no image or file parts)"
            )));
        }
    }
    Ok(content.text())
}

fn tool_use_block(call: &ToolCall) -> Result<Block, Error> {
    if call.kind != "function" {
        return Err(invalid(format!(
            "{ID} cannot take tool calls of type {:?}",
            call.kind
        )));
    }
    let arguments = call.function.arguments.trim();
    let input = if arguments.is_empty() {
        json!({})
    } else {
        serde_json::from_str::<Value>(arguments).map_err(|e| {
            invalid(format!(
                "the arguments of tool call {:?} are not valid JSON ({e})",
                call.id
            ))
        })?
    };
    if !input.is_object() {
        return Err(invalid(format!(
            "{ID} takes tool call arguments only as a JSON object (tool call {:?})",
            call.id
        )));
    }
    Ok(Block::ToolUse {
        id: call.id.clone(),
        name: call.function.name.clone(),
        input,
    })
}

fn tool_result_block(message: &Message) -> Result<Block, Error> {
    let tool_use_id = message
        .tool_call_id
        .clone()
        .ok_or_else(|| invalid("a tool message needs its tool_call_id"))?;
    let content = match &message.content {
        None => None,
        Some(Content::Text(text)) if text.is_empty() => None,
        Some(Content::Text(text)) => Some(WireContent::Text(text.clone())),
        Some(content) => {
            let blocks = content_blocks(content, "tool")?;
            (!blocks.is_empty()).then_some(WireContent::Blocks(blocks))
        }
    };
    Ok(Block::ToolResult {
        tool_use_id,
        content,
    })
}

/// System prompts and the alternating turns. Consecutive turns of one role are merged (tool
/// results become one user turn), as Anthropic reads them anyway.
fn translate_messages(messages: &[Message]) -> Result<(Option<System>, Vec<WireMessage>), Error> {
    let mut system: Vec<String> = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Block>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => {
                if let Some(content) = &message.content {
                    let text = text_only(content, "system")?;
                    if !text.is_empty() {
                        system.push(text);
                    }
                }
                continue;
            }
            Role::User => (
                "user",
                match &message.content {
                    Some(content) => content_blocks(content, "user")?,
                    None => Vec::new(),
                },
            ),
            Role::Assistant => {
                let mut blocks = match &message.content {
                    Some(content) => text_blocks(&text_only(content, "assistant")?),
                    None => Vec::new(),
                };
                for call in message.tool_calls.iter().flatten() {
                    blocks.push(tool_use_block(call)?);
                }
                ("assistant", blocks)
            }
            Role::Tool => ("user", vec![tool_result_block(message)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, merged)) if *last == role => merged.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(System::Text),
        _ => Some(System::Blocks(
            system
                .into_iter()
                .map(|text| Block::Text { text })
                .collect(),
        )),
    };
    let messages = turns
        .into_iter()
        .map(|(role, mut blocks)| {
            let content = match blocks.as_slice() {
                [Block::Text { .. }] => match blocks.pop() {
                    Some(Block::Text { text }) => WireContent::Text(text),
                    _ => unreachable!("matched a single text block"),
                },
                _ => WireContent::Blocks(blocks),
            };
            WireMessage { role, content }
        })
        .collect();
    Ok((system, messages))
}

fn wire_tool(name: String, description: Option<String>, schema: Option<Value>) -> WireTool {
    WireTool {
        name,
        description,
        input_schema: schema.unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
    }
}

/// The forced tool standing in for `response_format`, if any.
fn response_tool(format: Option<&ResponseFormat>) -> Option<WireTool> {
    match format? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(wire_tool(
            JSON_TOOL.into(),
            Some(
                "Respond with the answer as a JSON object: the input of this tool is the answer."
                    .into(),
            ),
            Some(json!({ "type": "object" })),
        )),
        ResponseFormat::JsonSchema { json_schema } => Some(wire_tool(
            JSON_TOOL.into(),
            Some(json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with the answer ({}) as this tool's input: the input is the answer.",
                    json_schema.name
                )
            })),
            Some(
                json_schema
                    .schema
                    .clone()
                    .unwrap_or_else(|| json!({ "type": "object" })),
            ),
        )),
    }
}

/// `reasoning_effort` as an extended-thinking config.
fn thinking_for(effort: &str) -> Result<Value, Error> {
    if effort == "none" {
        return Ok(json!({ "type": "disabled" }));
    }
    THINKING_BUDGETS
        .iter()
        .find(|(name, _)| *name == effort)
        .map(|(_, budget)| json!({ "type": "enabled", "budget_tokens": budget }))
        .ok_or_else(|| {
            invalid(format!(
                "{ID} cannot take reasoning_effort {effort:?}: use none, low, medium or high"
            ))
        })
}

/// The Messages request for a canonical chat request.
pub(super) fn messages_request(
    mut req: ChatRequest,
    stream: bool,
) -> Result<MessagesRequest, Error> {
    // Anthropic-native parameters a caller may pass beside the OpenAI ones.
    let top_k = req.extra.remove("top_k");
    let mut thinking = req.extra.remove("thinking");
    let named = req
        .messages
        .iter()
        .any(|m| m.role != Role::Tool && m.name.is_some());
    req.reject_extra(
        ID,
        &[
            ("seed", req.seed.is_some()),
            ("frequency_penalty", req.frequency_penalty.is_some()),
            ("presence_penalty", req.presence_penalty.is_some()),
            ("n", req.n.is_some_and(|n| n != 1)),
            ("messages[].name", named),
        ],
    )?;
    if let Some(effort) = &req.reasoning_effort {
        if thinking.is_some() {
            return Err(invalid(format!(
                "{ID} takes reasoning_effort or thinking, not both"
            )));
        }
        thinking = Some(thinking_for(effort)?);
    }
    let budget = thinking
        .as_ref()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64);

    let (system, messages) = translate_messages(&req.messages)?;

    let mut tools: Vec<WireTool> = Vec::new();
    for tool in req.tools.take().into_iter().flatten() {
        let f = tool.function;
        if f.name == JSON_TOOL {
            return Err(invalid(format!(
                "{ID} reserves the tool name {JSON_TOOL} for response_format: rename the tool"
            )));
        }
        tools.push(wire_tool(f.name, f.description, f.parameters));
    }
    let user_tools = !tools.is_empty();
    let structured = response_tool(req.response_format.as_ref());

    let mut tool_choice = match (&req.tool_choice, structured.is_some()) {
        (None, false) => None,
        (Some(ToolChoice::Mode(mode)), false) => Some(match mode.as_str() {
            "auto" => WireToolChoice::of("auto", None),
            "required" => WireToolChoice::of("any", None),
            "none" => WireToolChoice::of("none", None),
            other => return Err(invalid(format!("{ID} cannot take tool_choice {other:?}"))),
        }),
        (Some(ToolChoice::Function { function }), _) => {
            Some(WireToolChoice::of("tool", Some(function.name.clone())))
        }
        // The answer is a call of the JSON tool: forced when it is the only tool, else one of
        // the tools must be called (the caller's, or the JSON tool to answer).
        (None, true) => Some(if user_tools {
            WireToolChoice::of("any", None)
        } else {
            WireToolChoice::of("tool", Some(JSON_TOOL.into()))
        }),
        (Some(ToolChoice::Mode(mode)), true) => Some(match mode.as_str() {
            "auto" | "required" if user_tools => WireToolChoice::of("any", None),
            "auto" | "required" | "none" => WireToolChoice::of("tool", Some(JSON_TOOL.into())),
            other => return Err(invalid(format!("{ID} cannot take tool_choice {other:?}"))),
        }),
    };
    if let Some(tool) = structured {
        tools.push(tool);
    }
    if req.parallel_tool_calls == Some(false) && !tools.is_empty() {
        let choice = tool_choice.get_or_insert_with(|| WireToolChoice::of("auto", None));
        if choice.kind != "none" {
            choice.disable_parallel_tool_use = Some(true);
        }
    }
    if budget.is_some()
        && tool_choice
            .as_ref()
            .is_some_and(|c| matches!(c.kind, "any" | "tool"))
    {
        return Err(invalid(format!(
            "{ID} cannot force tool use (tool_choice required or a named function, or response_format, which {ID} answers with a forced tool) while extended thinking (reasoning_effort) is on"
        )));
    }

    let max_tokens = match (req.max_output_tokens(), budget) {
        (Some(max), Some(budget)) if u64::from(max) <= budget => {
            return Err(invalid(format!(
                "{ID} needs max_tokens above the thinking budget ({budget} tokens): raise max_tokens or lower reasoning_effort"
            )))
        }
        (Some(max), _) => max,
        (None, Some(budget)) => {
            u32::try_from(budget).unwrap_or(u32::MAX).saturating_add(DEFAULT_MAX_TOKENS)
        }
        (None, None) => DEFAULT_MAX_TOKENS,
    };
    let stop_sequences = req
        .stop
        .as_ref()
        .map(|s| s.to_vec())
        .filter(|s| !s.is_empty());

    Ok(MessagesRequest {
        model: req.model,
        max_tokens,
        system,
        messages,
        tools,
        tool_choice,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k,
        stop_sequences,
        metadata: req.user.map(|user_id| Metadata { user_id }),
        thinking,
        stream: stream.then_some(true),
    })
}
