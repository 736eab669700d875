//! Canonical chat request → Cohere's `POST /v2/chat`, refusing by name what Cohere cannot take.

use serde_json::{json, Value};

use super::wire::{
    ChatBody, Thinking, WireContent, WireFunction, WireImageUrl, WireMessage, WirePart,
    WireResponseFormat, WireTool,
};
use super::ID;
use crate::canonical::{
    ChatRequest, Content, Message, Part, ResponseFormat, Role, Tool, ToolChoice,
};
use crate::error::Error;
use crate::providers::support::invalid;
use crate::providers::{join_url, WireRequest};

/// The chat request for a canonical `body`.
pub(super) fn chat_request(
    base_url: &str,
    body: &[u8],
    stream: bool,
) -> Result<WireRequest, Error> {
    let req = ChatRequest::parse(body)?;
    let mut wire = WireRequest::post_json(join_url(base_url, "v2/chat"), chat_body(&req, stream)?);
    if stream {
        wire.headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("text/event-stream"),
        );
    }
    // Cohere's answers do not name their model: the decoders get the requested one back.
    wire.model = Some(req.model);
    Ok(wire)
}

/// Text parts only (system, assistant and tool messages take no images).
fn text_only<'a>(content: &'a Content, role: &str) -> Result<WireContent<'a>, Error> {
    match content {
        Content::Text(text) => Ok(WireContent::Text(text)),
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => Ok(WirePart::Text { text }),
                Part::ImageUrl { .. } => Err(invalid(format!(
                    "{ID} takes images only in user messages, not in {role} messages"
                ))),
                Part::File { .. } => Err(invalid(format!(
                    "{ID} cannot take file content parts: send the document's text instead"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(WireContent::Parts),
    }
}

fn user_content(content: &Content) -> Result<WireContent<'_>, Error> {
    match content {
        Content::Text(text) => Ok(WireContent::Text(text)),
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => Ok(WirePart::Text { text }),
                Part::ImageUrl { image_url } => Ok(WirePart::ImageUrl {
                    image_url: WireImageUrl {
                        url: &image_url.url,
                        detail: image_url.detail.as_deref(),
                    },
                }),
                Part::File { .. } => Err(invalid(format!(
                    "{ID} cannot take file content parts: send the document's text instead"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(WireContent::Parts),
    }
}

fn wire_message(message: &Message) -> Result<WireMessage<'_>, Error> {
    let empty = || WireContent::Text("");
    Ok(match message.role {
        Role::System | Role::Developer => WireMessage::System {
            content: match &message.content {
                Some(c) => text_only(c, "system")?,
                None => empty(),
            },
        },
        Role::User => WireMessage::User {
            content: match &message.content {
                Some(c) => user_content(c)?,
                None => empty(),
            },
        },
        Role::Assistant => {
            let calls = message.tool_calls.as_deref().filter(|c| !c.is_empty());
            if let Some(call) = calls.and_then(|c| c.iter().find(|c| c.kind != "function")) {
                return Err(invalid(format!(
                    "{ID} takes only function tool calls, got type {:?}",
                    call.kind
                )));
            }
            match (calls, &message.content) {
                // Cohere keeps the text an assistant wrote next to its tool calls as the plan.
                (Some(calls), content) => WireMessage::Assistant {
                    content: None,
                    tool_plan: content
                        .as_ref()
                        .map(Content::text)
                        .filter(|t| !t.is_empty()),
                    tool_calls: Some(calls),
                },
                (None, content) => WireMessage::Assistant {
                    content: match content {
                        Some(c) => Some(text_only(c, "assistant")?),
                        None => None,
                    },
                    tool_plan: None,
                    tool_calls: None,
                },
            }
        }
        Role::Tool => WireMessage::Tool {
            tool_call_id: message.tool_call_id.as_deref().ok_or_else(|| {
                invalid("a tool message needs the tool_call_id of the call it answers")
            })?,
            content: match &message.content {
                Some(c) => text_only(c, "tool")?,
                None => empty(),
            },
        },
    })
}

/// LiteLLM's thinking budgets for `reasoning_effort`.
fn thinking(effort: &str) -> Result<Thinking, Error> {
    let budget = match effort {
        "none" => {
            return Ok(Thinking {
                kind: "disabled",
                token_budget: None,
            })
        }
        "minimal" => 128,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            let levels = "none, minimal, low, medium or high";
            return Err(invalid(format!(
                "{ID} cannot take reasoning_effort {other:?}: use {levels}"
            )));
        }
    };
    Ok(Thinking {
        kind: "enabled",
        token_budget: Some(budget),
    })
}

fn response_format(format: &ResponseFormat) -> Result<WireResponseFormat, Error> {
    Ok(match format {
        ResponseFormat::Text => WireResponseFormat::Text,
        ResponseFormat::JsonObject => WireResponseFormat::JsonObject { json_schema: None },
        ResponseFormat::JsonSchema { json_schema } => {
            let mut schema = json_schema.schema.clone();
            if let Some(description) = &json_schema.description {
                // Cohere has no separate description: it goes into the schema, where it means
                // the same, unless the schema already has its own.
                match schema.as_mut().and_then(Value::as_object_mut) {
                    Some(object) => {
                        object
                            .entry("description")
                            .or_insert_with(|| description.clone().into());
                    }
                    None => {
                        let field = "response_format.json_schema.description";
                        return Err(invalid(format!(
                            "{ID} cannot take {field} without a schema"
                        )));
                    }
                }
            }
            WireResponseFormat::JsonObject {
                json_schema: schema,
            }
        }
    })
}

fn chat_body(req: &ChatRequest, stream: bool) -> Result<Vec<u8>, Error> {
    req.reject_extra(
        ID,
        &[
            ("n", req.n.is_some_and(|n| n != 1)),
            ("user", req.user.is_some()),
            // Cohere may always answer with several calls at once; it cannot be told not to.
            (
                "parallel_tool_calls",
                req.parallel_tool_calls == Some(false),
            ),
            (
                "messages[].name",
                req.messages.iter().any(|m| m.name.is_some()),
            ),
        ],
    )?;

    let messages = req
        .messages
        .iter()
        .map(wire_message)
        .collect::<Result<Vec<_>, _>>()?;

    let mut tools: Option<Vec<&Tool>> = req
        .tools
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| t.iter().collect());
    let tool_choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => None,
            // With no tools, "none" is what Cohere does anyway.
            "none" => tools.as_ref().map(|_| "NONE"),
            "required" => Some("REQUIRED"),
            other => {
                return Err(invalid(format!(
                    "{ID} cannot take tool_choice {other:?}: use auto, none, required or a function"
                )))
            }
        },
        Some(ToolChoice::Function { function }) => {
            // Cohere cannot name the tool to call: offer only that one and require a call.
            let only: Vec<_> = tools
                .iter()
                .flatten()
                .copied()
                .filter(|t| t.function.name == function.name)
                .collect();
            if only.is_empty() {
                return Err(invalid(format!(
                    "tool_choice names the function {:?}, which is not among the tools",
                    function.name
                )));
            }
            tools = Some(only);
            Some("REQUIRED")
        }
    };
    let tools = tools.map(|tools| {
        tools
            .into_iter()
            .map(|t| WireTool {
                kind: "function",
                function: WireFunction {
                    name: &t.function.name,
                    description: t.function.description.as_deref(),
                    // OpenAI allows a function without parameters; Cohere wants a schema.
                    parameters: t
                        .function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                },
            })
            .collect()
    });

    let body = ChatBody {
        model: &req.model,
        messages,
        tools,
        tool_choice,
        response_format: req
            .response_format
            .as_ref()
            .map(response_format)
            .transpose()?,
        temperature: req.temperature,
        p: req.top_p,
        max_tokens: req.max_output_tokens(),
        stop_sequences: req.stop.as_ref().map(|s| s.to_vec()),
        seed: req.seed,
        frequency_penalty: req.frequency_penalty,
        presence_penalty: req.presence_penalty,
        thinking: req.reasoning_effort.as_deref().map(thinking).transpose()?,
        stream,
    };
    serde_json::to_vec(&body)
        .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))
}
