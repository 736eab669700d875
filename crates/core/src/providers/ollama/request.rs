//! Canonical (OpenAI chat) request → `/api/chat` body, refusing what Ollama cannot take.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::wire::{
    ChatBody, WireFunctionOut, WireMessage, WireTool, WireToolCallOut, WireToolFunction,
};
use super::ID;
use crate::canonical::{
    ChatRequest, Content, ImageSource, Message, Part, ResponseFormat, Role, ToolCall, ToolChoice,
};
use crate::error::Error;
use crate::providers::support::invalid;

/// Ollama options the caller may also set by their own name (Ollama's `num_ctx`, which
/// `normalizeParameters` produces from `context` / `ctx_size`).
const NATIVE_TOP_LEVEL_OPTIONS: &[&str] = &["num_ctx"];

/// The options object: canonical sampling fields under Ollama's names, plus the caller's own
/// Ollama `options` (a key set both ways is refused rather than one silently winning).
fn options_of(req: &mut ChatRequest) -> Result<Map<String, Value>, Error> {
    let mut options = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            options.insert(key.to_string(), v);
        }
    };
    set("temperature", req.temperature.map(Value::from));
    set("top_p", req.top_p.map(Value::from));
    set("num_predict", req.max_output_tokens().map(Value::from));
    set("stop", req.stop.as_ref().map(|s| Value::from(s.to_vec())));
    set("seed", req.seed.map(Value::from));
    set("frequency_penalty", req.frequency_penalty.map(Value::from));
    set("presence_penalty", req.presence_penalty.map(Value::from));
    for name in NATIVE_TOP_LEVEL_OPTIONS {
        if let Some(v) = req.extra.remove(*name) {
            options.insert((*name).to_string(), v);
        }
    }
    match req.extra.remove("options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(native)) => {
            for (key, value) in native {
                if options.contains_key(&key) {
                    return Err(invalid(format!(
                        "ollama got options.{key} and the request's own {key}: set it once"
                    )));
                }
                options.insert(key, value);
            }
        }
        Some(_) => return Err(invalid("ollama's options must be an object")),
    }
    Ok(options)
}

/// `think` from `reasoning_effort`, or from Ollama's own `think` passed as is.
fn think_of(req: &mut ChatRequest) -> Result<Option<Value>, Error> {
    let native = match req.extra.remove("think") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Bool(_)) => Some(v),
        Some(Value::String(s)) if matches!(s.as_str(), "low" | "medium" | "high") => {
            Some(Value::String(s))
        }
        Some(other) => {
            return Err(invalid(format!(
                "ollama's think is true, false, \"low\", \"medium\" or \"high\", got {other}"
            )))
        }
    };
    let effort = match req.reasoning_effort.as_deref() {
        None => None,
        Some("none") => Some(Value::Bool(false)),
        Some(level @ ("low" | "medium" | "high")) => Some(Value::from(level)),
        Some(other) => {
            return Err(invalid(format!(
                "ollama cannot take reasoning_effort {other:?}: use none, low, medium or high"
            )))
        }
    };
    match (native, effort) {
        (Some(_), Some(_)) => Err(invalid(
            "ollama got both think and reasoning_effort: set one",
        )),
        (native, effort) => Ok(native.or(effort)),
    }
}

fn keep_alive_of(req: &mut ChatRequest) -> Result<Option<Value>, Error> {
    keep_alive(req.extra.remove("keep_alive"))
}

pub(super) fn keep_alive(value: Option<Value>) -> Result<Option<Value>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(Some(v)),
        Some(_) => Err(invalid(
            "ollama's keep_alive is a duration (\"5m\") or a number of seconds",
        )),
    }
}

/// `format`: a JSON schema, or `"json"` for JSON mode.
fn format_of(req: &ChatRequest) -> Option<Value> {
    match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(Value::from("json")),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| Value::from("json")),
        ),
    }
}

/// Whether the request's tools are sent: Ollama has no `tool_choice`. `auto` is its behaviour;
/// `none` is kept by not offering the tools; a forced call cannot be expressed.
fn offer_tools(req: &ChatRequest) -> Result<bool, Error> {
    match &req.tool_choice {
        None => Ok(true),
        Some(ToolChoice::Mode(mode)) if mode == "auto" => Ok(true),
        Some(ToolChoice::Mode(mode)) if mode == "none" => Ok(false),
        Some(choice) => Err(invalid(format!(
            "ollama cannot take tool_choice {}: it cannot force a tool call; use \"auto\" or \"none\"",
            match choice {
                ToolChoice::Mode(m) => format!("{m:?}"),
                ToolChoice::Function { function } => format!("for function {:?}", function.name),
            }
        ))),
    }
}

fn tools_of(req: &ChatRequest) -> Result<Option<Vec<WireTool<'_>>>, Error> {
    let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if !offer_tools(req)? {
        return Ok(None);
    }
    Ok(Some(
        tools
            .iter()
            .map(|t| WireTool {
                kind: "function",
                function: WireToolFunction {
                    name: &t.function.name,
                    description: t.function.description.as_deref(),
                    parameters: t.function.parameters.as_ref().map_or_else(
                        || Cow::Owned(json!({ "type": "object", "properties": {} })),
                        Cow::Borrowed,
                    ),
                },
            })
            .collect(),
    ))
}

/// Text and base64 images of a message's content.
fn split_content(content: Option<&Content>, at: usize) -> Result<(String, Vec<String>), Error> {
    let Some(content) = content else {
        return Ok((String::new(), Vec::new()));
    };
    let mut images = Vec::new();
    if let Content::Parts(parts) = content {
        for part in parts {
            match part {
                Part::Text { .. } => {}
                Part::ImageUrl { image_url } => {
                    if let Some(detail) = image_url.detail.as_deref().filter(|d| *d != "auto") {
                        return Err(invalid(format!(
                            "ollama cannot take image detail {detail:?} (messages[{at}]): remove it"
                        )));
                    }
                    match ImageSource::parse(&image_url.url) {
                        ImageSource::Base64 { media_type, data } => {
                            if !media_type.starts_with("image/") {
                                return Err(invalid(format!(
                                    "ollama takes image data only, got {media_type} in an image_url (messages[{at}])"
                                )));
                            }
                            images.push(data);
                        }
                        ImageSource::Url(_) => {
                            return Err(invalid(format!(
                                "ollama takes images only inline as base64 data URLs (data:image/png;base64,…) and cannot fetch an image URL (messages[{at}]): download the image and send its data"
                            )))
                        }
                    }
                }
                Part::File { .. } => {
                    return Err(invalid(format!(
                        "ollama cannot take file content parts (messages[{at}])"
                    )))
                }
            }
        }
    }
    Ok((content.text(), images))
}

/// JSON text of tool-call arguments as the object Ollama wants.
fn arguments_object(call: &ToolCall) -> Result<Value, Error> {
    let text = call.function.arguments.trim();
    if text.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(invalid(format!(
            "ollama takes tool-call arguments as a JSON object; the arguments of {} ({}) are not one",
            call.function.name, call.id
        ))),
    }
}

/// The name of the tool that produced a result: the message's `name`, or the call it answers.
fn tool_name_for(messages: &[Message], at: usize) -> Option<String> {
    let msg = &messages[at];
    if let Some(name) = &msg.name {
        return Some(name.clone());
    }
    let id = msg.tool_call_id.as_deref()?;
    messages[..at]
        .iter()
        .rev()
        .filter_map(|m| m.tool_calls.as_ref())
        .flatten()
        .find(|c| c.id == id)
        .map(|c| c.function.name.clone())
}

fn messages_of(messages: &[Message]) -> Result<Vec<WireMessage>, Error> {
    messages
        .iter()
        .enumerate()
        .map(|(at, msg)| {
            let role = match msg.role {
                Role::System | Role::Developer => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            };
            if msg.name.is_some() && msg.role != Role::Tool {
                return Err(invalid(format!(
                    "ollama cannot take a participant name (messages[{at}].name): remove it"
                )));
            }
            let (content, images) = split_content(msg.content.as_ref(), at)?;
            let tool_calls = msg
                .tool_calls
                .iter()
                .flatten()
                .enumerate()
                .map(|(index, call)| {
                    Ok(WireToolCallOut {
                        id: call.id.clone(),
                        function: WireFunctionOut {
                            index,
                            name: call.function.name.clone(),
                            arguments: arguments_object(call)?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let (tool_name, tool_call_id) = if msg.role == Role::Tool {
                (tool_name_for(messages, at), msg.tool_call_id.clone())
            } else {
                (None, None)
            };
            Ok(WireMessage {
                role,
                content,
                images,
                tool_calls,
                tool_name,
                tool_call_id,
            })
        })
        .collect()
}

pub(super) fn chat_body(body: &[u8], stream: bool) -> Result<Vec<u8>, Error> {
    let mut req = ChatRequest::parse(body)?;
    // Ollama's own fields, taken by their names; everything else unknown is refused below.
    let options = options_of(&mut req)?;
    let think = think_of(&mut req)?;
    let keep_alive = keep_alive_of(&mut req)?;
    req.reject_extra(
        ID,
        &[
            ("n", req.n.is_some_and(|n| n != 1)),
            ("user", req.user.is_some()),
            (
                "parallel_tool_calls: false",
                req.parallel_tool_calls == Some(false),
            ),
        ],
    )?;
    let wire = ChatBody {
        model: &req.model,
        messages: messages_of(&req.messages)?,
        tools: tools_of(&req)?,
        format: format_of(&req),
        options,
        stream,
        think,
        keep_alive,
    };
    serde_json::to_vec(&wire).map_err(|e| Error::Internal(format!("encoding the request: {e}")))
}
