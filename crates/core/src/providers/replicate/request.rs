//! Canonical chat requests as Replicate predictions: which endpoint runs the model, the prompt
//! the conversation becomes, the inputs the sampling parameters become, and what is refused.

use bytes::Bytes;
use http::HeaderValue;

use super::wire::{CreatePrediction, Input};
use crate::canonical::{ChatRequest, Content, Part, ResponseFormat, Role, ToolChoice};
use crate::error::Error;
use crate::providers::azure::encode;
use crate::providers::{join_url, WireRequest};

/// A chat as the request that creates its prediction.
pub(super) fn chat_request(
    base_url: &str,
    body: Bytes,
    stream: bool,
) -> Result<WireRequest, Error> {
    let req = ChatRequest::parse(&body)?;
    let target = target(&req.model)?;
    let input = translate(&req)?;
    let (url, version) = match target {
        Target::Model { owner, name } => (
            join_url(
                base_url,
                &format!("models/{}/{}/predictions", encode(owner), encode(name)),
            ),
            None,
        ),
        Target::Version(v) => (join_url(base_url, "predictions"), Some(v)),
    };
    let create = CreatePrediction {
        version,
        input,
        stream,
    };
    let json = serde_json::to_vec(&create)
        .map_err(|e| Error::Internal(format!("cannot encode the prediction: {e}")))?;
    let mut wire = WireRequest::post_json(url, json);
    // The stream names no model, and a version's prediction names only `owner/name`: answers
    // name the model as it was asked for.
    wire.model = Some(req.model);
    if !stream {
        // Sync mode: the answer comes with the response when the model finishes in 60 s.
        wire.headers
            .insert("prefer", HeaderValue::from_static("wait"));
    }
    Ok(wire)
}

/// Which endpoint runs a model id.
#[derive(Debug, PartialEq)]
pub(super) enum Target<'a> {
    /// An official model, run by name.
    Model { owner: &'a str, name: &'a str },
    /// A model version, run through `POST /predictions`.
    Version(&'a str),
}

pub(super) fn target(model: &str) -> Result<Target<'_>, Error> {
    let bad = || {
        Error::InvalidInput(format!(
            "replicate models are written owner/name or owner/name:version, got {model:?}"
        ))
    };
    let slug = |s: &str| !s.is_empty() && !s.contains(['/', ':', ' ']);
    if let Some((name, version)) = model.split_once(':') {
        let owned = name
            .split_once('/')
            .is_some_and(|(o, n)| slug(o) && slug(n));
        return if owned && slug(version) {
            Ok(Target::Version(version))
        } else {
            Err(bad())
        };
    }
    match model.split_once('/') {
        Some((owner, name)) if slug(owner) && slug(name) => Ok(Target::Model { owner, name }),
        None if model.len() == 64 && model.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Target::Version(model))
        }
        _ => Err(bad()),
    }
}

/// The text of a message, refusing what a text-only model cannot read.
fn message_text(content: Option<&Content>) -> Result<String, Error> {
    if let Some(Content::Parts(parts)) = content {
        for part in parts {
            match part {
                Part::Text { .. } => {}
                Part::ImageUrl { .. } => {
                    return Err(Error::InvalidInput(
                        "replicate cannot take images: its language models read text only; remove the image_url parts or use a provider that supports images".into(),
                    ))
                }
                Part::File { .. } => {
                    return Err(Error::InvalidInput(
                        "replicate cannot take file parts: its language models read text only"
                            .into(),
                    ))
                }
            }
        }
    }
    Ok(content.map(Content::text).unwrap_or_default())
}

fn no_tools() -> Error {
    Error::InvalidInput(
        "replicate cannot take tools: its language models have no tool calling; remove tools, tool calls and tool messages or use a provider that supports them".into(),
    )
}

/// The system prompt and the conversation as one prompt.
fn render_prompt(req: &ChatRequest) -> Result<(Option<String>, String), Error> {
    let mut system = Vec::new();
    let mut turns: Vec<(&str, Option<&str>, String)> = Vec::new();
    for m in &req.messages {
        let text = message_text(m.content.as_ref())?;
        match m.role {
            Role::System | Role::Developer => system.push(text),
            Role::User => turns.push(("User", m.name.as_deref(), text)),
            Role::Assistant => {
                if m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) {
                    return Err(no_tools());
                }
                turns.push(("Assistant", m.name.as_deref(), text));
            }
            Role::Tool => return Err(no_tools()),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    let prompt = match turns.as_slice() {
        [] => {
            return Err(Error::InvalidInput(
                "replicate needs at least one user message".into(),
            ))
        }
        [("User", None, text)] => text.clone(),
        _ => turns
            .iter()
            .map(|(role, name, text)| match name {
                Some(name) => format!("{role} ({name}): {text}"),
                None => format!("{role}: {text}"),
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    Ok((system, prompt))
}

fn translate(req: &ChatRequest) -> Result<Input, Error> {
    let tools = req.tools.as_ref().is_some_and(|t| !t.is_empty());
    let forced_tool = match &req.tool_choice {
        Some(ToolChoice::Mode(mode)) => mode != "auto" && mode != "none",
        Some(ToolChoice::Function { .. }) => true,
        None => false,
    };
    let structured = matches!(
        req.response_format,
        Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })
    );
    if tools || forced_tool {
        return Err(no_tools());
    }
    if structured {
        return Err(Error::InvalidInput(
            "replicate cannot take response_format: its language models have no JSON mode or structured output; remove response_format or use a provider that supports it".into(),
        ));
    }
    req.reject_extra(
        super::ID,
        &[
            ("reasoning_effort", req.reasoning_effort.is_some()),
            ("user", req.user.is_some()),
            ("n", req.n.is_some_and(|n| n != 1)),
        ],
    )?;
    let stop_sequences = match req.stop.as_ref().map(|s| s.to_vec()) {
        Some(stops) if !stops.is_empty() => {
            if let Some(s) = stops.iter().find(|s| s.contains(',') || s.is_empty()) {
                return Err(Error::InvalidInput(format!(
                    "replicate takes stop sequences as one comma-separated string, so a stop sequence cannot be empty or contain a comma: {s:?}"
                )));
            }
            Some(stops.join(","))
        }
        _ => None,
    };
    let (system_prompt, prompt) = render_prompt(req)?;
    Ok(Input {
        prompt,
        system_prompt,
        max_tokens: req.max_output_tokens(),
        temperature: req.temperature,
        top_p: req.top_p,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        stop_sequences,
        seed: req.seed,
    })
}
