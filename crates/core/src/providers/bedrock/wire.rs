//! Converse's wire types: what goes out (`ConverseRequest` and its blocks) and what comes back
//! (`ConverseResponse`, and one type per ConverseStream event).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::usage::{PromptDetails, Usage};

// ---- requests ---------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConverseRequest {
    pub(super) messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) system: Vec<SystemBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) inference_config: Option<InferenceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_config: Option<ToolConfig>,
}

#[derive(Debug, Serialize)]
pub(super) struct SystemBlock {
    pub(super) text: String,
}

#[derive(Debug, Serialize)]
pub(super) struct WireMessage {
    pub(super) role: &'static str,
    pub(super) content: Vec<Block>,
}

/// A `ContentBlock` union member: `{"text": …}`, `{"image": …}`, `{"toolUse": …}`, ….
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Block {
    Text(String),
    Image(ImageBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
}

#[derive(Debug, Serialize)]
pub(super) struct ImageBlock {
    pub(super) format: &'static str,
    pub(super) source: ImageBytes,
}

/// Blobs travel base64-encoded in Bedrock's JSON protocol.
#[derive(Debug, Serialize)]
pub(super) struct ImageBytes {
    pub(super) bytes: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolUseBlock {
    pub(super) tool_use_id: String,
    pub(super) name: String,
    pub(super) input: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolResultBlock {
    pub(super) tool_use_id: String,
    pub(super) content: Vec<ToolResultContent>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ToolResultContent {
    Text(String),
    Image(ImageBlock),
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InferenceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) stop_sequences: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolConfig {
    pub(super) tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_choice: Option<WireToolChoice>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireTool {
    pub(super) tool_spec: ToolSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolSpec {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<String>,
    pub(super) input_schema: InputSchema,
}

#[derive(Debug, Serialize)]
pub(super) struct InputSchema {
    pub(super) json: Value,
}

#[derive(Debug, Serialize)]
pub(super) struct Empty {}

#[derive(Debug, Serialize)]
pub(super) struct NamedTool {
    pub(super) name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum WireToolChoice {
    Auto(Empty),
    Any(Empty),
    Tool(NamedTool),
}

// ---- answers ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConverseResponse {
    #[serde(default)]
    pub(super) output: Option<Output>,
    #[serde(default)]
    pub(super) stop_reason: Option<String>,
    #[serde(default)]
    pub(super) usage: Option<TokenUsage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Output {
    #[serde(default)]
    pub(super) message: Option<OutMessage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct OutMessage {
    #[serde(default)]
    pub(super) content: Vec<OutBlock>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OutBlock {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) tool_use: Option<OutToolUse>,
    #[serde(default)]
    pub(super) reasoning_content: Option<OutReasoning>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OutToolUse {
    pub(super) tool_use_id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) input: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OutReasoning {
    #[serde(default)]
    pub(super) reasoning_text: Option<ReasoningText>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReasoningText {
    #[serde(default)]
    pub(super) text: String,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenUsage {
    #[serde(default)]
    pub(super) input_tokens: u64,
    #[serde(default)]
    pub(super) output_tokens: u64,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_write_input_tokens: Option<u64>,
}

impl TokenUsage {
    /// OpenAI counts cached prompt tokens inside `prompt_tokens`; Bedrock reports cache reads
    /// and writes beside `inputTokens`.
    pub(super) fn to_usage(self) -> Usage {
        let cache_read = self.cache_read_input_tokens.unwrap_or(0);
        let prompt = self.input_tokens + cache_read + self.cache_write_input_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            completion_tokens: self.output_tokens,
            total_tokens: prompt + self.output_tokens,
            prompt_tokens_details: self
                .cache_read_input_tokens
                .map(|cached_tokens| PromptDetails { cached_tokens }),
            completion_tokens_details: None,
        }
    }
}

/// `contentBlockStart`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockStart {
    pub(super) content_block_index: u32,
    #[serde(default)]
    pub(super) start: Option<StartBody>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartBody {
    #[serde(default)]
    pub(super) tool_use: Option<StartToolUse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartToolUse {
    pub(super) tool_use_id: String,
    pub(super) name: String,
}

/// `contentBlockDelta`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockDelta {
    pub(super) content_block_index: u32,
    pub(super) delta: DeltaBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeltaBody {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    pub(super) reasoning_content: Option<ReasoningDelta>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolUseDelta {
    #[serde(default)]
    pub(super) input: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReasoningDelta {
    #[serde(default)]
    pub(super) text: Option<String>,
}

/// `messageStop`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageStop {
    pub(super) stop_reason: String,
}

/// `metadata`.
#[derive(Debug, Deserialize)]
pub(super) struct Metadata {
    #[serde(default)]
    pub(super) usage: Option<TokenUsage>,
}
