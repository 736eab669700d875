//! Replicate predictions.
//!
//! A chat becomes one prediction of a language model:
//!
//! - `owner/name` (official models) → `POST {base}/models/{owner}/{name}/predictions`;
//!   `owner/name:version` or a bare version id → `POST {base}/predictions` with `version`.
//! - The body is `{ input: { prompt, system_prompt, max_tokens, temperature, top_p,
//!   presence_penalty, frequency_penalty, stop_sequences, seed } }`, the inputs Replicate's
//!   Llama-style chat models take. System and developer messages become `system_prompt`; the
//!   conversation becomes `prompt`: a single user message verbatim, anything longer as a
//!   transcript of `User:` / `Assistant:` turns separated by blank lines (the model's own prompt
//!   template then wraps it, so no model-specific special tokens are written here).
//! - Whole answers use sync mode (`Prefer: wait`); a prediction still `starting`/`processing`
//!   when it returns is polled at `urls.get` until it ends. Its `output` (an array of tokens) is
//!   joined; `metrics.input_token_count` / `output_token_count` become usage.
//! - Streams create the prediction with `stream: true`, then read `urls.stream` as server-sent
//!   events: `output` (a text token), `error` (`{"detail": …}`) and `done` (`{}` or
//!   `{"reason": …}`). The stream carries no token counts, so streamed answers have no usage.
//!
//! Replicate's language models have no tool calling, structured output or image input: those
//! requests are refused, as is every field without a translation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL};
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::azure::encode;
use super::openai::bad_json;
use super::{
    join_url, ChatProvider, Completion, EventOutcome, FollowUp, StreamDecode, WireRequest,
};
use crate::canonical::{
    ChatRequest, ChunkWriter, CompletionWriter, Content, FinishReason, Part, ResponseFormat, Role,
    ToolChoice,
};
use crate::error::{classify_common, Error, ErrorKind, UpstreamBody, UpstreamError};
use crate::routing::ProviderSettings;
use crate::sse::SseEvent;
use crate::stream::StreamSink;
use crate::usage::Usage;

#[derive(Debug, Clone)]
pub struct Replicate;

impl Replicate {
    pub fn from_settings(_settings: &ProviderSettings) -> Result<Self, Error> {
        Ok(Self)
    }
}

const ID: &str = "replicate";

// ---- wire types -------------------------------------------------------------------------------

/// `POST /predictions` or `POST /models/{owner}/{name}/predictions`.
#[derive(Serialize)]
struct CreatePrediction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    input: Input,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

/// The inputs of Replicate's chat language models (Meta Llama 3 / 3.1 and alike).
#[derive(Serialize, Default, Debug, PartialEq)]
struct Input {
    prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f64>,
    /// Comma-separated, as the models take it.
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
}

/// A prediction, as every endpoint returns it.
#[derive(Deserialize, Default)]
struct Prediction {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    input: Option<Map<String, Value>>,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    metrics: Option<Map<String, Value>>,
    #[serde(default)]
    urls: Option<Urls>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize, Default)]
struct Urls {
    #[serde(default)]
    get: Option<String>,
    #[serde(default)]
    stream: Option<String>,
}

/// `GET /models`: one page of public models.
#[derive(Deserialize)]
struct ModelPage {
    #[serde(default)]
    results: Vec<Map<String, Value>>,
    #[serde(default)]
    next: Option<Value>,
}

fn parse_prediction(body: &[u8]) -> Result<Prediction, Error> {
    serde_json::from_slice(body).map_err(|e| bad_json("the prediction", e, body))
}

// ---- requests ---------------------------------------------------------------------------------

/// Which endpoint runs a model id.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    /// An official model, run by name.
    Model { owner: &'a str, name: &'a str },
    /// A model version, run through `POST /predictions`.
    Version(&'a str),
}

fn target(model: &str) -> Result<Target<'_>, Error> {
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
        ID,
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

// ---- polling ----------------------------------------------------------------------------------

/// Seconds since the Unix epoch of an RFC 3339 time (`2024-07-23T15:04:21.227000Z`).
fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> { text.get(from..to)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// How long to wait before polling a prediction again: quick at first, slower as it ages.
fn poll_delay(created_at: Option<&str>, now: SystemTime) -> Duration {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ms = match created_at.and_then(parse_rfc3339).map(|t| now - t) {
        None => 500,
        Some(age) if age < 2 => 250,
        Some(age) if age < 10 => 500,
        Some(age) if age < 30 => 1000,
        Some(_) => 2000,
    };
    Duration::from_millis(ms)
}

// ---- answers ----------------------------------------------------------------------------------

fn count(metrics: Option<&Map<String, Value>>, name: &str) -> Option<u64> {
    let v = metrics?.get(name)?;
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f.max(0.0).round() as u64))
}

/// `output` as text: language models return an array of tokens.
fn output_text(output: Option<&Value>) -> String {
    match output {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(other) => other.to_string(),
    }
}

/// What a failure's text says it is, across Replicate's models and platform codes.
fn classify_text(text: &str) -> Option<(ErrorKind, bool)> {
    let t = text.to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    if says(&[
        "maximum context length",
        "context length",
        "context window",
        "context_length",
        "is too long and exceeds",
        "prompt is too long",
        "input is too long",
        "max_model_len",
        "too many tokens",
    ]) {
        Some((ErrorKind::ContextLengthExceeded, false))
    } else if says(&[
        "(e005)",
        "flagged as sensitive",
        "nsfw",
        "safety",
        "content policy",
        "content_filter",
    ]) {
        Some((ErrorKind::ContentFilter, false))
    } else if says(&[
        "(e6716)",
        "timeout starting prediction",
        "overloaded",
        "at capacity",
        "high demand",
    ]) {
        Some((ErrorKind::Overloaded, true))
    } else if says(&["throttled", "rate limit"]) {
        Some((ErrorKind::RateLimited, true))
    } else if says(&["(code: pa)", "please retry"]) {
        Some((ErrorKind::UpstreamError, true))
    } else {
        None
    }
}

/// Replicate's platform code in a failure's text: `(E005)`, `(code: PA)`.
fn platform_code(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = upper.find("(CODE: ") {
        let rest = &text[i + 7..];
        return rest
            .split_once(')')
            .map(|(code, _)| code.trim().to_string());
    }
    let start = upper.rfind("(E")?;
    let (code, _) = text[start + 1..].split_once(')')?;
    (code.len() > 1 && code[1..].bytes().all(|b| b.is_ascii_digit())).then(|| code.to_string())
}

/// A prediction that failed, was canceled, or a stream's `error` event, as an upstream error:
/// its text in an OpenAI-style `error` object, what Replicate sent kept whole under `source`.
fn failure(text: &str, source_key: &str, source: Value, classify: bool) -> Error {
    let (kind, retryable) = classify
        .then(|| classify_text(text))
        .flatten()
        .unwrap_or((ErrorKind::UpstreamError, false));
    let body = json!({
        "error": { "message": text, "code": platform_code(text) },
        source_key: source,
    });
    Error::Upstream(Box::new(UpstreamError {
        status: None,
        headers: Vec::new(),
        body: UpstreamBody::Json(body),
        kind,
        retryable,
        retry_after: None,
    }))
}

fn prediction_failure(p: &Prediction, raw: &[u8]) -> Error {
    let source = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if p.status == "canceled" {
        return failure("the prediction was canceled", "prediction", source, false);
    }
    let text = match &p.error {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => format!("the prediction {}", p.status),
    };
    failure(&text, "prediction", source, true)
}

impl ChatProvider for Replicate {
    fn id(&self) -> &'static str {
        ID
    }

    fn chat_request(
        &self,
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
        if !stream {
            // Sync mode: the answer comes with the response when the model finishes in 60 s.
            wire.headers
                .insert("prefer", HeaderValue::from_static("wait"));
        }
        Ok(wire)
    }

    fn follow_up(&self, response: &[u8], stream: bool) -> Result<Option<FollowUp>, Error> {
        let p = parse_prediction(response)?;
        if matches!(p.status.as_str(), "failed" | "canceled" | "aborted") {
            return Err(prediction_failure(&p, response));
        }
        let urls = p.urls.as_ref();
        if stream {
            let Some(url) = urls.and_then(|u| u.stream.clone()) else {
                return Err(Error::InvalidInput(format!(
                    "replicate model {} does not stream (its prediction {} has no stream URL): call it without stream",
                    p.model, p.id
                )));
            };
            let mut request = WireRequest::get(url);
            request
                .headers
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
            request
                .headers
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(Some(FollowUp {
                request,
                after: Duration::ZERO,
            }));
        }
        if !matches!(p.status.as_str(), "starting" | "processing") {
            return Ok(None);
        }
        let Some(url) = urls.and_then(|u| u.get.clone()) else {
            return Err(Error::BadResponse(format!(
                "prediction {} is {} but has no URL to poll",
                p.id, p.status
            )));
        };
        Ok(Some(FollowUp {
            request: WireRequest::get(url),
            after: poll_delay(p.created_at.as_deref(), SystemTime::now()),
        }))
    }

    fn decode_completion(&self, body: &[u8], _model: &str) -> Result<Completion, Error> {
        let p = parse_prediction(body)?;
        match p.status.as_str() {
            "succeeded" => {}
            "failed" | "canceled" | "aborted" => return Err(prediction_failure(&p, body)),
            other => {
                return Err(Error::BadResponse(format!(
                    "prediction {} is still {other:?}",
                    p.id
                )))
            }
        }
        let metrics = p.metrics.as_ref();
        let usage = match (
            count(metrics, "input_token_count"),
            count(metrics, "output_token_count"),
        ) {
            (None, None) => None,
            (input, output) => {
                let (input, output) = (input.unwrap_or(0), output.unwrap_or(0));
                Some(Usage {
                    prompt_tokens: input,
                    completion_tokens: output,
                    total_tokens: input + output,
                    ..Default::default()
                })
            }
        };
        // No stop reason is reported; an answer that used every requested token was cut.
        let limit = p.input.as_ref().and_then(|i| {
            i.get("max_tokens")
                .or_else(|| i.get("max_new_tokens"))
                .and_then(Value::as_u64)
        });
        let cut = matches!((limit, usage), (Some(limit), Some(u)) if limit > 0 && u.completion_tokens >= limit);
        let writer = CompletionWriter {
            id: p.id.clone(),
            model: p.model.clone(),
            content: Some(output_text(p.output.as_ref())),
            finish_reason: Some(if cut {
                FinishReason::Length
            } else {
                FinishReason::Stop
            }),
            provider_finish_reason: Some(p.status.clone()),
            usage,
            ..Default::default()
        };
        Ok(Completion {
            json: writer.to_json(),
            usage,
        })
    }

    fn stream_decoder(&self, _model: &str) -> Box<dyn StreamDecode> {
        Box::new(ReplicateStream::new())
    }

    /// The stream request's own `Accept` replaces the client's default `application/json`
    /// (request headers are appended to the defaults, so both would be sent).
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        let headers = request.headers_mut();
        if headers
            .get_all(ACCEPT)
            .iter()
            .any(|v| v.as_bytes() == b"text/event-stream")
        {
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        Ok(())
    }

    /// Replicate's errors are problem details: `{ "title", "detail", "status" }`.
    fn classify(&self, error: &mut UpstreamError) {
        classify_common(error);
        if !matches!(
            error.kind,
            ErrorKind::InvalidRequest | ErrorKind::UpstreamError
        ) {
            return;
        }
        let UpstreamBody::Json(body) = &error.body else {
            return;
        };
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
        let text = format!("{} {}", field("title"), field("detail"));
        if let Some((kind, retryable)) = classify_text(&text) {
            error.kind = kind;
            error.retryable = retryable;
        }
    }

    fn models_request(&self, base_url: &str) -> Result<WireRequest, Error> {
        Ok(WireRequest::get(join_url(base_url, "models")))
    }

    /// One page of public models, each as `owner/name` with everything Replicate said of it;
    /// `next` is the cursor URL of the following page.
    fn decode_models(&self, body: &[u8]) -> Result<String, Error> {
        let page: ModelPage =
            serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
        let data: Vec<Value> = page
            .results
            .into_iter()
            .map(|mut m| {
                let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let (owner, name) = (text("owner"), text("name"));
                m.insert("id".into(), format!("{owner}/{name}").into());
                m.insert("object".into(), "model".into());
                m.insert("owned_by".into(), owner.into());
                Value::Object(m)
            })
            .collect();
        let mut out = json!({ "object": "list", "data": data });
        if let Some(next) = page.next.filter(|n| !n.is_null()) {
            out["next"] = next;
        }
        Ok(out.to_string())
    }
}

/// Replicate's event stream as canonical chunks.
struct ReplicateStream {
    writer: ChunkWriter,
    opened: bool,
}

impl ReplicateStream {
    fn new() -> Self {
        // The stream names neither the prediction nor the model.
        let id = format!("replicate-{:016x}", fastrand::u64(..));
        Self {
            writer: ChunkWriter::new(id, ""),
            opened: false,
        }
    }

    fn open(&mut self, sink: &mut StreamSink) {
        if !self.opened {
            self.writer.role(sink);
            self.opened = true;
        }
    }
}

impl StreamDecode for ReplicateStream {
    fn decode(&mut self, event: &SseEvent, sink: &mut StreamSink) -> Result<EventOutcome, Error> {
        match event.event.as_deref() {
            Some("output") => {
                self.open(sink);
                self.writer.text(sink, &event.data);
                Ok(EventOutcome::Continue)
            }
            Some("error") => {
                let data: Value = serde_json::from_str(&event.data)
                    .unwrap_or_else(|_| Value::String(event.data.clone()));
                let text = data
                    .get("detail")
                    .and_then(Value::as_str)
                    .map_or_else(|| event.data.clone(), str::to_string);
                Err(failure(&text, "event", data, true))
            }
            Some("done") => {
                let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
                match data.get("reason").and_then(Value::as_str).unwrap_or("") {
                    "" => {
                        self.open(sink);
                        self.writer.finish(sink, FinishReason::Stop, "succeeded");
                        Ok(EventOutcome::Done)
                    }
                    "canceled" => Err(failure("the prediction was canceled", "event", data, false)),
                    reason => Err(failure(
                        &format!("the prediction ended: {reason}"),
                        "event",
                        data,
                        true,
                    )),
                }
            }
            // `logs`, keep-alives and anything newer carry no answer.
            _ => Ok(EventOutcome::Continue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseDecoder;

    fn wire(body: &Value, stream: bool) -> Result<WireRequest, Error> {
        Replicate.chat_request(
            "https://api.replicate.com/v1/",
            Bytes::from(body.to_string()),
            stream,
        )
    }

    fn sent(w: &WireRequest) -> Value {
        serde_json::from_slice(w.body.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn a_chat_becomes_a_sync_prediction_of_an_official_model() {
        let w = wire(
            &json!({
                "model": "meta/meta-llama-3-70b-instruct",
                "messages": [
                    {"role": "system", "content": "You are terse."},
                    {"role": "user", "content": "What is the weather in Paris?"}
                ],
                "temperature": 0.3, "max_tokens": 64
            }),
            false,
        )
        .unwrap();
        assert_eq!(w.method, http::Method::POST);
        assert_eq!(
            w.url,
            "https://api.replicate.com/v1/models/meta/meta-llama-3-70b-instruct/predictions"
        );
        assert_eq!(w.headers["prefer"], "wait");
        assert_eq!(
            sent(&w),
            json!({"input": {
                "prompt": "What is the weather in Paris?",
                "system_prompt": "You are terse.",
                "max_tokens": 64,
                "temperature": 0.3
            }})
        );
    }

    #[test]
    fn every_sampling_parameter_is_translated_and_streams_ask_for_a_stream() {
        let w = wire(
            &json!({
                "model": "acme/llama:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
                "messages": [
                    {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "name": "ann", "content": "Weather?"}
                ],
                "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "max_tokens": 10,
                "stop": ["END", "</s>"], "seed": 7, "presence_penalty": 0.5, "frequency_penalty": 0.1,
                "stream": true, "stream_options": {"include_usage": true}, "n": 1,
                "tool_choice": "none", "response_format": {"type": "text"}
            }),
            true,
        )
        .unwrap();
        assert_eq!(w.url, "https://api.replicate.com/v1/predictions");
        assert!(w.headers.get("prefer").is_none());
        assert_eq!(
            sent(&w),
            json!({
                "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
                "input": {
                    "prompt": "User: Hi\n\nAssistant: Hello! How can I help?\n\nUser (ann): Weather?",
                    "system_prompt": "Be brief.",
                    "max_tokens": 50, "temperature": 0.2, "top_p": 0.9,
                    "presence_penalty": 0.5, "frequency_penalty": 0.1,
                    "stop_sequences": "END,</s>", "seed": 7
                },
                "stream": true
            })
        );
    }

    #[test]
    fn model_ids_pick_the_endpoint() {
        let v = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";
        assert_eq!(
            target("meta/meta-llama-3-8b").unwrap(),
            Target::Model {
                owner: "meta",
                name: "meta-llama-3-8b"
            }
        );
        assert_eq!(target(&format!("a/b:{v}")).unwrap(), Target::Version(v));
        assert_eq!(target(v).unwrap(), Target::Version(v));
        for bad in ["llama", "a/b/c", "/b", "a/", "a/b:", ":v", "a:b"] {
            assert_eq!(
                target(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn what_cannot_be_translated_is_refused_by_name() {
        let base = json!({"model": "meta/m", "messages": [{"role": "user", "content": "hi"}]});
        let with = |extra: Value| {
            let mut body = base.clone();
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            wire(&body, false).unwrap_err()
        };
        let cases = [
            (
                json!({"tools": [{"type": "function", "function": {"name": "f"}}]}),
                "tools",
            ),
            (json!({"tool_choice": "required"}), "tools"),
            (
                json!({"response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}}}),
                "response_format",
            ),
            (
                json!({"response_format": {"type": "json_object"}}),
                "response_format",
            ),
            (json!({"logit_bias": {"42": 1}}), "logit_bias"),
            (json!({"reasoning_effort": "low"}), "reasoning_effort"),
            (json!({"user": "u1"}), "user"),
            (json!({"n": 2}), "n"),
            (json!({"stop": ["a,b"]}), "comma"),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]}]}),
                "image",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}]}]}),
                "image",
            ),
            (
                json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
                "tool",
            ),
            (
                json!({"messages": [{"role": "tool", "content": "r", "tool_call_id": "c1"}]}),
                "tool",
            ),
            (
                json!({"messages": [{"role": "system", "content": "s"}]}),
                "user message",
            ),
            (json!({"model": "llama"}), "owner/name"),
        ];
        for (extra, needle) in cases {
            let e = with(extra.clone());
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{extra}");
            assert!(e.to_string().contains(needle), "{extra}: {e}");
        }
    }

    // A sync-mode answer of meta/meta-llama-3.1-405b-instruct, as Replicate's examples show it.
    const SUCCEEDED: &str = r#"{"completed_at":"2024-07-23T15:04:24.090090Z","created_at":"2024-07-23T15:04:21.227000Z","data_removed":false,"error":null,"id":"zjq6szssxdrm20cgw0fsntgvbg","input":{"top_p":0.9,"prompt":"Tina has one brother and one sister. How many sisters do Tina's siblings have?","max_tokens":1024,"min_tokens":0,"temperature":0.6,"system_prompt":"You are a helpful assistant.","presence_penalty":0,"frequency_penalty":0},"logs":"","metrics":{"input_token_count":26,"output_token_count":84,"predict_time":2.85,"time_to_first_token":0.12,"tokens_per_second":29.5},"model":"meta/meta-llama-3.1-405b-instruct","output":["Tina"," has"," one brother"],"started_at":"2024-07-23T15:04:21.236000Z","status":"succeeded","urls":{"cancel":"https://api.replicate.com/v1/predictions/zjq6szssxdrm20cgw0fsntgvbg/cancel","get":"https://api.replicate.com/v1/predictions/zjq6szssxdrm20cgw0fsntgvbg","stream":"https://stream.replicate.com/v1/files/bcwr-3okdfv3o2wehstv5f2okyftwxy57hhypqsi6osiim5iaq5yebbvq"},"version":"dp-4d6a9b4e0f2a4c0ca3a24e1bcd1d3cf4"}"#;

    #[test]
    fn a_succeeded_prediction_decodes_with_usage() {
        assert!(Replicate
            .follow_up(SUCCEEDED.as_bytes(), false)
            .unwrap()
            .is_none());
        let c = Replicate
            .decode_completion(SUCCEEDED.as_bytes(), "")
            .unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        assert_eq!(v["id"], "zjq6szssxdrm20cgw0fsntgvbg");
        assert_eq!(v["model"], "meta/meta-llama-3.1-405b-instruct");
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "Tina has one brother"
        );
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["choices"][0]["provider_finish_reason"], "succeeded");
        assert_eq!(v["usage"]["total_tokens"], 110);
        let u = c.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (26, 84));
    }

    #[test]
    fn an_answer_that_used_every_token_is_cut() {
        let body = SUCCEEDED.replace("\"max_tokens\":1024", "\"max_tokens\":84");
        let v: Value = serde_json::from_str(
            &Replicate
                .decode_completion(body.as_bytes(), "")
                .unwrap()
                .json,
        )
        .unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        // Without metrics there is no usage and no way to tell.
        let body = json!({"id": "p", "status": "succeeded", "output": "plain", "input": {"max_tokens": 1}});
        let c = Replicate
            .decode_completion(body.to_string().as_bytes(), "")
            .unwrap();
        let v: Value = serde_json::from_str(&c.json).unwrap();
        assert_eq!(
            (v["choices"][0]["message"]["content"].as_str(), &v["usage"]),
            (Some("plain"), &Value::Null)
        );
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert!(c.usage.is_none());
    }

    #[test]
    fn unfinished_predictions_are_polled() {
        let body = |created: &str| {
            json!({"id": "p1", "status": "processing", "created_at": created,
                   "urls": {"get": "https://api.replicate.com/v1/predictions/p1",
                            "cancel": "https://api.replicate.com/v1/predictions/p1/cancel"}})
            .to_string()
        };
        let next = Replicate
            .follow_up(body("2024-07-23T15:04:21.227Z").as_bytes(), false)
            .unwrap()
            .unwrap();
        assert_eq!(next.request.method, http::Method::GET);
        assert_eq!(
            next.request.url,
            "https://api.replicate.com/v1/predictions/p1"
        );
        assert!(next.request.body.is_none());
        // An old prediction is polled slowly.
        assert_eq!(next.after, Duration::from_secs(2));
        let e = Replicate
            .follow_up(br#"{"id":"p","status":"starting"}"#, false)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
        let e = Replicate
            .decode_completion(body("x").as_bytes(), "")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
    }

    #[test]
    fn poll_delays_grow_with_age() {
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        let created = "2024-07-23T15:04:21.227000Z";
        let t = parse_rfc3339(created).unwrap();
        assert_eq!(t, 1_721_747_061);
        assert_eq!(parse_rfc3339("2024-07-23T17:04:21+02:00"), Some(t));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
        let t = t as u64;
        let delay = |now| poll_delay(Some(created), at(now)).as_millis();
        assert_eq!(
            [delay(t), delay(t + 5), delay(t + 20), delay(t + 90)],
            [250, 500, 1000, 2000]
        );
        assert_eq!(poll_delay(None, at(t)).as_millis(), 500);
    }

    #[test]
    fn a_stream_is_read_from_its_stream_url() {
        let next = Replicate
            .follow_up(SUCCEEDED.as_bytes(), true)
            .unwrap()
            .unwrap();
        assert_eq!(next.after, Duration::ZERO);
        assert_eq!(
            next.request.url,
            "https://stream.replicate.com/v1/files/bcwr-3okdfv3o2wehstv5f2okyftwxy57hhypqsi6osiim5iaq5yebbvq"
        );
        assert_eq!(next.request.headers[ACCEPT], "text/event-stream");
        assert_eq!(next.request.headers[CACHE_CONTROL], "no-store");
        let e = Replicate
            .follow_up(
                br#"{"id":"p","model":"a/b","status":"starting","urls":{"get":"g"}}"#,
                true,
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("does not stream"));
    }

    #[test]
    fn the_stream_accept_header_replaces_the_default() {
        let client = reqwest::Client::new();
        let mut req = client
            .get("https://stream.replicate.com/v1/files/x")
            .header(ACCEPT, "application/json")
            .header(ACCEPT, "text/event-stream")
            .build()
            .unwrap();
        Replicate.sign(&mut req).unwrap();
        let accepts: Vec<_> = req.headers().get_all(ACCEPT).iter().collect();
        assert_eq!(accepts, ["text/event-stream"]);
        let mut req = client
            .post("https://api.replicate.com/v1/predictions")
            .header(ACCEPT, "application/json")
            .build()
            .unwrap();
        Replicate.sign(&mut req).unwrap();
        assert_eq!(req.headers()[ACCEPT], "application/json");
    }

    fn decode_transcript(
        transcript: &str,
        piece: usize,
    ) -> (Vec<Value>, StreamSink, Result<EventOutcome, Error>) {
        let mut framer = SseDecoder::new();
        let mut events = Vec::new();
        for chunk in transcript.as_bytes().chunks(piece) {
            framer.feed(chunk, &mut events);
        }
        framer.finish(&mut events);
        let mut decoder = Replicate.stream_decoder("");
        let mut sink = StreamSink::default();
        let mut last = Ok(EventOutcome::Continue);
        for e in &events {
            last = decoder.decode(e, &mut sink);
            if !matches!(last, Ok(EventOutcome::Continue)) {
                break;
            }
        }
        let batch = sink
            .take_batch()
            .map_or_else(Vec::new, |b| serde_json::from_str(&b).unwrap());
        (batch, sink, last)
    }

    // Replicate's documented event types: text `output`, ignorable `logs`, JSON `done`.
    const TRANSCRIPT: &str = "event: output\nid: 1690212292:0\ndata: Once\n\n\
        event: logs\nid: 1690212292:1\ndata: INFO generating\n\n\
        event: output\nid: 1690212292:2\ndata:  upon a\n\n\
        event: output\nid: 1690212292:3\ndata:  tíme\ndata: \n\n\
        : keep-alive\n\n\
        event: done\nid: 1690212292:4\ndata: {}\n\n";

    #[test]
    fn a_stream_transcript_decodes_into_canonical_chunks_in_any_split() {
        for piece in 1..TRANSCRIPT.len() {
            let (chunks, sink, last) = decode_transcript(TRANSCRIPT, piece);
            assert_eq!(last.unwrap(), EventOutcome::Done, "piece {piece}");
            assert_eq!(chunks.len(), 5, "piece {piece}");
            assert_eq!(
                chunks[0]["choices"][0]["delta"],
                json!({"role": "assistant", "content": ""})
            );
            let text: String = chunks[1..4]
                .iter()
                .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
                .collect();
            assert_eq!(text, "Once upon a tíme\n");
            assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
            assert_eq!(
                chunks[4]["choices"][0]["provider_finish_reason"],
                "succeeded"
            );
            assert_eq!(chunks[4]["object"], "chat.completion.chunk");
            assert!(chunks.iter().all(|c| c.get("usage").is_none()));
            let p = &sink.progress;
            assert_eq!((p.chunks, p.content_chars), (5, 17));
            assert_eq!(p.finish_reason.as_deref(), Some("stop"));
            assert!(p.usage.is_none());
        }
    }

    #[test]
    fn stream_ends_errors_and_cancels() {
        // Nothing said before `done`: still a role chunk and one finish.
        let (chunks, _, last) = decode_transcript("event: done\ndata: {}\n\n", 7);
        assert_eq!(last.unwrap(), EventOutcome::Done);
        assert_eq!(chunks.len(), 2);
        // A body that ends before `done` did not end cleanly.
        let (_, sink, last) = decode_transcript("event: output\ndata: half\n\n", 3);
        assert_eq!(last.unwrap(), EventOutcome::Continue);
        assert!(!ReplicateStream::new().ended_cleanly(&sink.progress));
        let (chunks, _, last) = decode_transcript(
            "event: output\ndata: Hi\n\nevent: error\ndata: {\"detail\": \"The input or output was flagged as sensitive. Please try again with different inputs. (E005)\"}\n\nevent: done\ndata: {\"reason\": \"error\"}\n\n",
            5,
        );
        assert_eq!(chunks.len(), 2);
        let e = last.unwrap_err();
        assert_eq!((e.kind(), e.retryable()), (ErrorKind::ContentFilter, false));
        assert!(e.to_string().starts_with("The input or output was flagged"));
        let body = &e.upstream().unwrap().body;
        assert_eq!(
            body,
            &UpstreamBody::Json(json!({
                "error": {"message": "The input or output was flagged as sensitive. Please try again with different inputs. (E005)", "code": "E005"},
                "event": {"detail": "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"}
            }))
        );
        let (_, _, last) =
            decode_transcript("event: done\ndata: {\"reason\": \"canceled\"}\n\n", 9);
        let e = last.unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string()),
            (
                ErrorKind::UpstreamError,
                "the prediction was canceled".to_string()
            )
        );
        let (_, _, last) = decode_transcript(
            "event: error\ndata: Prediction interrupted; please retry (code: PA)\n\n",
            9,
        );
        let e = last.unwrap_err();
        assert_eq!((e.kind(), e.retryable()), (ErrorKind::UpstreamError, true));
        assert_eq!(e.upstream().unwrap().error_object().unwrap()["code"], "PA");
    }

    #[test]
    fn failed_predictions_are_typed_errors_keeping_the_prediction() {
        let failed = |error: &str| {
            json!({"id": "p9", "model": "meta/meta-llama-3-8b-instruct", "status": "failed",
                   "error": error, "output": null, "logs": "", "urls": {"get": "g"}})
        };
        let cases = [
            ("Input prompt (9001 tokens) is too long and exceeds limit of 8192", ErrorKind::ContextLengthExceeded, false),
            ("The input or output was flagged as sensitive. Please try again with different inputs. (E005)", ErrorKind::ContentFilter, false),
            ("Timeout starting prediction (E6716)", ErrorKind::Overloaded, true),
            ("Prediction interrupted; please retry (code: PA)", ErrorKind::UpstreamError, true),
            ("CUDA out of memory (E1001)", ErrorKind::UpstreamError, false),
        ];
        for (text, kind, retryable) in cases {
            let body = failed(text).to_string();
            // Whether it fails in sync mode, while polling or before a stream.
            for e in [
                Replicate
                    .decode_completion(body.as_bytes(), "")
                    .unwrap_err(),
                Replicate.follow_up(body.as_bytes(), false).unwrap_err(),
                Replicate.follow_up(body.as_bytes(), true).unwrap_err(),
            ] {
                assert_eq!((e.kind(), e.retryable()), (kind, retryable), "{text}");
                assert_eq!(e.to_string(), text);
                let u = e.upstream().unwrap();
                assert_eq!(u.status, None);
                let UpstreamBody::Json(b) = &u.body else {
                    panic!()
                };
                assert_eq!(b["prediction"], failed(text));
            }
        }
        let canceled = json!({"id": "p", "status": "canceled", "error": null});
        let e = Replicate
            .decode_completion(canceled.to_string().as_bytes(), "")
            .unwrap_err();
        assert_eq!(e.to_string(), "the prediction was canceled");
        let e = Replicate.decode_completion(b"<html>", "").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadResponse);
    }

    #[test]
    fn problem_details_are_classified() {
        let classify = |status: u16, body: Value| {
            let mut u = UpstreamError {
                status: Some(status),
                headers: vec![],
                body: UpstreamBody::Json(body),
                kind: ErrorKind::from_status(status),
                retryable: crate::retry::status_is_retryable(status, &http::HeaderMap::new()),
                retry_after: None,
            };
            Replicate.classify(&mut u);
            (u.kind, u.retryable)
        };
        assert_eq!(
            classify(
                429,
                json!({"title": "Request was throttled", "detail": "Request was throttled. Expected available in 7 seconds.", "status": 429})
            ),
            (ErrorKind::RateLimited, true)
        );
        assert_eq!(
            classify(
                401,
                json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401})
            ),
            (ErrorKind::Auth, false)
        );
        assert_eq!(
            classify(
                422,
                json!({"detail": "- input.max_tokens: Must be greater than or equal to 1\n", "status": 422, "title": "Input validation failed",
                "invalid_fields": [{"type": "greater_equal", "field": "input.max_tokens", "description": "Must be greater than or equal to 1"}]})
            ),
            (ErrorKind::InvalidRequest, false)
        );
        assert_eq!(
            classify(
                422,
                json!({"detail": "Input prompt (9001 tokens) is too long and exceeds limit of 8192", "status": 422, "title": "Input validation failed"})
            ),
            (ErrorKind::ContextLengthExceeded, false)
        );
        assert_eq!(
            classify(
                503,
                json!({"detail": "The model is overloaded, try again later", "status": 503, "title": "Service Unavailable"})
            ),
            (ErrorKind::Overloaded, true)
        );
        assert_eq!(
            classify(404, json!({"detail": "Not found.", "status": 404})),
            (ErrorKind::NotFound, false)
        );
    }

    #[test]
    fn models_become_owner_slash_name() {
        let body = br#"{"next":"https://api.replicate.com/v1/models?cursor=cD0yMDI0","previous":null,"results":[{"url":"https://replicate.com/meta/meta-llama-3-70b-instruct","owner":"meta","name":"meta-llama-3-70b-instruct","description":"A 70 billion parameter language model from Meta, fine tuned for chat completions","visibility":"public","github_url":null,"paper_url":null,"license_url":"https://github.com/meta-llama/llama3/blob/main/LICENSE","run_count":160000000,"cover_image_url":null,"default_example":null,"latest_version":null}]}"#;
        let w = Replicate
            .models_request("https://api.replicate.com/v1")
            .unwrap();
        assert_eq!(
            (w.method, w.url.as_str()),
            (http::Method::GET, "https://api.replicate.com/v1/models")
        );
        let v: Value = serde_json::from_str(&Replicate.decode_models(body).unwrap()).unwrap();
        assert_eq!(v["object"], "list");
        assert_eq!(
            v["next"],
            "https://api.replicate.com/v1/models?cursor=cD0yMDI0"
        );
        let m = &v["data"][0];
        assert_eq!(m["id"], "meta/meta-llama-3-70b-instruct");
        assert_eq!(m["owned_by"], "meta");
        assert_eq!(m["object"], "model");
        assert_eq!(m["run_count"], 160000000);
        assert!(m["description"]
            .as_str()
            .unwrap()
            .starts_with("A 70 billion"));
        assert_eq!(
            Replicate
                .embed_request("https://x", Bytes::new())
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
}
