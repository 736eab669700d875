//! The canonical format: OpenAI chat completions. Requests arrive in it; every provider answers
//! in it. Providers that speak another wire format parse [`ChatRequest`] and write their answers
//! with [`ChunkWriter`] (streams) and [`CompletionWriter`] (whole answers).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::stream::StreamSink;
use crate::usage::Usage;

// ---- requests ---------------------------------------------------------------------------------

/// A chat-completions request. Fields a provider cannot take must be translated or rejected
/// (see [`ChatRequest::reject_extra`]); none is dropped silently. Nested objects (messages,
/// parts, tools) refuse fields they do not know at parse time, for the same reason.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<Value>,
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub n: Option<u32>,
    /// Everything else the caller sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub role: Role,
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Output-only fields of an earlier answer, accepted when that answer is sent back as
    /// history and not forwarded: providers take no reasoning text or refusal as input.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub refusal: Option<Value>,
}

#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

// By hand rather than `untagged`, so a bad part reports its own error (which field, which
// type) instead of "did not match any variant".
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Content::Text(text)),
            parts @ Value::Array(_) => serde_json::from_value(parts)
                .map(Content::Parts)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "content must be a string or an array of parts, not {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
    File { file: FileRef },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCall {
    pub name: String,
    /// JSON text, as OpenAI sends it.
    pub arguments: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// Always `"function"`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub function: FunctionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `"auto"`, `"none"` or `"required"`.
    Mode(String),
    /// `{ "type": "function", "function": { "name": … } }`.
    Function { function: NamedFunction },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NamedFunction {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    pub name: String,
    #[serde(default)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

/// An image reference resolved from an `image_url` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    Url(String),
    Base64 { media_type: String, data: String },
}

impl ImageSource {
    /// `data:<mime>;base64,<data>` URLs become inline data; anything else stays a URL.
    pub fn parse(url: &str) -> Self {
        url.strip_prefix("data:")
            .and_then(|rest| rest.split_once(";base64,"))
            .map_or_else(
                || ImageSource::Url(url.to_string()),
                |(media_type, data)| ImageSource::Base64 {
                    media_type: media_type.to_string(),
                    data: data.to_string(),
                },
            )
    }
}

impl Content {
    /// The text of the content: a string, or its text parts joined with newlines.
    pub fn text(&self) -> String {
        match self {
            Content::Text(t) => t.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl ChatRequest {
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(body)
            .map_err(|e| Error::InvalidInput(format!("invalid chat request: {e}")))
    }

    /// `max_completion_tokens` or `max_tokens`.
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Fail on fields this provider has no translation for, naming them.
    pub fn reject_extra(
        &self,
        provider: &str,
        also_unsupported: &[(&str, bool)],
    ) -> Result<(), Error> {
        let mut names: Vec<&str> = self.extra.keys().map(String::as_str).collect();
        names.extend(
            also_unsupported
                .iter()
                .filter(|(_, set)| *set)
                .map(|(n, _)| *n),
        );
        if names.is_empty() {
            return Ok(());
        }
        Err(Error::InvalidInput(format!(
            "{provider} cannot take {}: remove {} or use a provider that supports {}",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" },
            if names.len() == 1 { "it" } else { "them" },
        )))
    }
}

// ---- answers ----------------------------------------------------------------------------------

/// The finish reasons JAF reads; the provider's own value travels beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    ToolCalls,
    Length,
    ContentFilter,
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<ChunkChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<&'a Usage>,
}

#[derive(Serialize)]
struct ChunkChoiceOut<'a> {
    index: u32,
    delta: DeltaOut<'a>,
    finish_reason: Option<FinishReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_finish_reason: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDeltaOut<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDeltaOut<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDeltaOut<'a>,
}

#[derive(Serialize)]
struct FunctionDeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes canonical `chat.completion.chunk`s for providers with another stream format, keeping
/// the stream's progress counters right.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    pub id: String,
    pub model: String,
    created: u64,
}

impl ChunkWriter {
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            model: model.into(),
            created: now_secs(),
        }
    }

    fn push(
        &self,
        sink: &mut StreamSink,
        choice: Option<ChunkChoiceOut<'_>>,
        usage: Option<&Usage>,
    ) {
        let chunk = ChunkOut {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            choices: choice.into_iter().collect(),
            usage,
        };
        // Serializing plain structs of strings and numbers cannot fail.
        let json = serde_json::to_string(&chunk).unwrap_or_default();
        sink.push_chunk(&json);
    }

    fn delta(&self, sink: &mut StreamSink, delta: DeltaOut<'_>) {
        let choice = ChunkChoiceOut {
            index: 0,
            delta,
            finish_reason: None,
            provider_finish_reason: None,
        };
        self.push(sink, Some(choice), None);
    }

    /// The opening chunk: `delta: { role: "assistant", content: "" }`.
    pub fn role(&self, sink: &mut StreamSink) {
        let delta = DeltaOut {
            role: Some("assistant"),
            content: Some(""),
            ..Default::default()
        };
        self.delta(sink, delta);
    }

    pub fn text(&self, sink: &mut StreamSink, text: &str) {
        if text.is_empty() {
            return;
        }
        sink.progress.content_chars += text.chars().count() as u64;
        let delta = DeltaOut {
            content: Some(text),
            ..Default::default()
        };
        self.delta(sink, delta);
    }

    /// Thinking / reasoning text, as `delta.reasoning_content` (LiteLLM's spelling).
    pub fn reasoning(&self, sink: &mut StreamSink, text: &str) {
        if text.is_empty() {
            return;
        }
        let delta = DeltaOut {
            reasoning_content: Some(text),
            ..Default::default()
        };
        self.delta(sink, delta);
    }

    /// The first piece of tool call `index`: its id and name.
    pub fn tool_call_start(&self, sink: &mut StreamSink, index: u32, id: &str, name: &str) {
        sink.progress.tool_call_deltas += 1;
        let call = ToolCallDeltaOut {
            index,
            id: Some(id),
            kind: Some("function"),
            function: FunctionDeltaOut {
                name: Some(name),
                arguments: "",
            },
        };
        let delta = DeltaOut {
            tool_calls: Some([call]),
            ..Default::default()
        };
        self.delta(sink, delta);
    }

    /// More JSON text of tool call `index`'s arguments.
    pub fn tool_call_arguments(&self, sink: &mut StreamSink, index: u32, fragment: &str) {
        if fragment.is_empty() {
            return;
        }
        sink.progress.tool_call_deltas += 1;
        let call = ToolCallDeltaOut {
            index,
            id: None,
            kind: None,
            function: FunctionDeltaOut {
                name: None,
                arguments: fragment,
            },
        };
        let delta = DeltaOut {
            tool_calls: Some([call]),
            ..Default::default()
        };
        self.delta(sink, delta);
    }

    /// The finish chunk: empty delta, the normalised reason and the provider's own.
    pub fn finish(&self, sink: &mut StreamSink, reason: FinishReason, provider_reason: &str) {
        sink.progress.finish_reason = Some(
            serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        );
        let choice = ChunkChoiceOut {
            index: 0,
            delta: DeltaOut::default(),
            finish_reason: Some(reason),
            provider_finish_reason: Some(provider_reason),
        };
        self.push(sink, Some(choice), None);
    }

    /// The closing usage chunk (`choices: []`), as OpenAI sends it with `include_usage`.
    pub fn usage(&self, sink: &mut StreamSink, usage: &Usage) {
        sink.progress.usage = Some(*usage);
        self.push(sink, None, Some(usage));
    }
}

/// Builds a canonical `chat.completion` for providers with another response format.
#[derive(Debug, Clone, Default)]
pub struct CompletionWriter {
    pub id: String,
    pub model: String,
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    pub provider_finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

impl CompletionWriter {
    pub fn to_json(&self) -> String {
        let mut message = Map::new();
        message.insert("role".into(), "assistant".into());
        message.insert(
            "content".into(),
            self.content.clone().map_or(Value::Null, Value::String),
        );
        if let Some(r) = &self.reasoning {
            message.insert("reasoning_content".into(), r.clone().into());
        }
        if !self.tool_calls.is_empty() {
            message.insert(
                "tool_calls".into(),
                serde_json::to_value(&self.tool_calls).unwrap_or_default(),
            );
        }
        let body = serde_json::json!({
            "id": self.id,
            "object": "chat.completion",
            "created": now_secs(),
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "finish_reason": self.finish_reason,
                "provider_finish_reason": self.provider_finish_reason,
            }],
            "usage": self.usage,
        });
        body.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_requests_jaf_sends() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA"}}]},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r","tool_call_id":"c1"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],"tool_choice":"auto","response_format":{"type":"json_schema","json_schema":{"name":"n","strict":true,"schema":{"type":"object"}}},"temperature":0,"max_tokens":5,"stop":["x"],"logit_bias":{}}"#;
        let req = ChatRequest::parse(body).unwrap();
        assert_eq!(req.messages.len(), 4);
        assert_eq!(req.tool_choice, Some(ToolChoice::Mode("auto".into())));
        assert!(matches!(
            req.response_format,
            Some(ResponseFormat::JsonSchema { .. })
        ));
        assert_eq!(req.stop.unwrap().to_vec(), vec!["x"]);
        let err = ChatRequest::parse(body)
            .unwrap()
            .reject_extra("anthropic", &[("seed", false), ("n", true)])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "anthropic cannot take logit_bias, n: remove them or use a provider that supports them"
        );
    }

    #[test]
    fn unknown_nested_fields_are_refused_not_dropped() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","strict":true,"parameters":{}}}]}"#;
        let err = ChatRequest::parse(body).unwrap_err();
        assert!(err.to_string().contains("unknown field `strict`"), "{err}");
        let body = br#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u","mystery":1}}]}]}"#;
        assert!(ChatRequest::parse(body)
            .unwrap_err()
            .to_string()
            .contains("mystery"));
        // An earlier answer sent back as history keeps its output-only fields.
        let body = br#"{"model":"m","messages":[{"role":"assistant","content":"ok","refusal":null,"reasoning_content":"thought"}]}"#;
        assert!(ChatRequest::parse(body).is_ok());
    }

    #[test]
    fn data_urls_become_inline_images() {
        assert_eq!(
            ImageSource::parse("data:image/png;base64,iVBOR"),
            ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBOR".into()
            }
        );
        assert_eq!(
            ImageSource::parse("https://x/y.png"),
            ImageSource::Url("https://x/y.png".into())
        );
    }

    #[test]
    fn chunk_writer_emits_openai_chunks_and_counts_progress() {
        let w = ChunkWriter::new("id1", "claude");
        let mut sink = StreamSink::default();
        w.role(&mut sink);
        w.text(&mut sink, "héllo");
        w.tool_call_start(&mut sink, 0, "call_1", "f");
        w.tool_call_arguments(&mut sink, 0, "{\"a\":1}");
        w.finish(&mut sink, FinishReason::ToolCalls, "tool_use");
        w.usage(
            &mut sink,
            &Usage {
                prompt_tokens: 3,
                completion_tokens: 4,
                total_tokens: 7,
                ..Default::default()
            },
        );
        let p = sink.progress.clone();
        assert_eq!((p.chunks, p.content_chars, p.tool_call_deltas), (6, 5, 2));
        assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
        let batch: Value = serde_json::from_str(&sink.take_batch().unwrap()).unwrap();
        assert_eq!(batch[1]["choices"][0]["delta"]["content"], "héllo");
        assert_eq!(
            batch[2]["choices"][0]["delta"]["tool_calls"][0]["id"],
            "call_1"
        );
        assert_eq!(batch[4]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(batch[4]["choices"][0]["provider_finish_reason"], "tool_use");
        assert_eq!(batch[5]["choices"], serde_json::json!([]));
        assert_eq!(batch[5]["usage"]["total_tokens"], 7);
    }
}
