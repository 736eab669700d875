//! Canonical chat request → Converse request, and what Converse refuses.

use bytes::Bytes;
use serde_json::{json, Value};

use super::provider;
use crate::error::{Error, ErrorKind};
use crate::providers::bedrock::{EVENT_STREAM, JSON_TOOL};
use crate::providers::{ChatProvider, Framing};

fn request(body: Value, stream: bool) -> Result<(String, Value), Error> {
    let wire = provider().chat_request(
        "https://bedrock-runtime.eu-west-1.amazonaws.com/",
        Bytes::from(body.to_string()),
        stream,
    )?;
    let sent: Value = serde_json::from_slice(wire.body.as_deref().unwrap()).unwrap();
    Ok((wire.url, sent))
}

fn translate(body: Value) -> Value {
    request(body, false).unwrap().1
}

fn rejection(body: Value) -> String {
    let err = request(body, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    err.to_string()
}

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[test]
fn a_whole_conversation_translates_field_for_field() {
    let (url, sent) = request(
        json!({
            "model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "Weather in Paris?"},
                    {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"}}
                ]},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_t1", "type": "function", "function": {"name": "get_time", "arguments": ""}}
                ]},
                {"role": "tool", "tool_call_id": "call_w1", "content": "{\"tempC\":21}"},
                {"role": "tool", "tool_call_id": "call_t1", "name": "get_time", "content": [{"type": "text", "text": "14:05"}]},
                {"role": "user", "content": "And tomorrow?"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                {"type": "function", "function": {"name": "get_time"}}
            ],
            "tool_choice": "auto",
            "parallel_tool_calls": true,
            "temperature": 0.3,
            "top_p": 0.9,
            "max_completion_tokens": 300,
            "stop": "END",
            "n": 1,
            "stream": false,
            "stream_options": {"include_usage": true}
        }),
        false,
    )
    .unwrap();
    assert_eq!(
        url,
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    );
    assert_eq!(
        sent,
        json!({
            "system": [{"text": "You are terse."}, {"text": "Use metric units."}],
            "messages": [
                {"role": "user", "content": [
                    {"text": "Weather in Paris?"},
                    {"image": {"format": "png", "source": {"bytes": PNG}}},
                    {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}}
                ]},
                {"role": "assistant", "content": [
                    {"toolUse": {"toolUseId": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "call_t1", "name": "get_time", "input": {}}}
                ]},
                {"role": "user", "content": [
                    {"toolResult": {"toolUseId": "call_w1", "content": [{"text": "{\"tempC\":21}"}]}},
                    {"toolResult": {"toolUseId": "call_t1", "content": [{"text": "14:05"}]}},
                    {"text": "And tomorrow?"}
                ]}
            ],
            "inferenceConfig": {"maxTokens": 300, "temperature": 0.3, "topP": 0.9, "stopSequences": ["END"]},
            "toolConfig": {
                "tools": [
                    {"toolSpec": {"name": "get_weather", "description": "Weather for a city", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}},
                    {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
                ],
                "toolChoice": {"auto": {}}
            }
        })
    );
}

#[test]
fn streams_go_to_converse_stream_and_ask_for_an_event_stream() {
    let wire = provider()
        .chat_request(
            "http://127.0.0.1:9/base",
            Bytes::from(
                json!({"model": "arn:aws:bedrock:us-east-1:123:inference-profile/us.x:0", "messages": [{"role": "user", "content": "hi"}], "stream": true})
                    .to_string(),
            ),
            true,
        )
        .unwrap();
    assert_eq!(
        wire.url,
        "http://127.0.0.1:9/base/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x%3A0/converse-stream"
    );
    assert_eq!(wire.headers[http::header::ACCEPT], EVENT_STREAM);
    assert_eq!(
        serde_json::from_slice::<Value>(wire.body.as_deref().unwrap()).unwrap(),
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    );
    assert_eq!(provider().framing(), Framing::AwsEventStream);
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}})
}

const SCHEMA: &str = r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"#;

fn structured() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "WeatherAgent", "strict": true, "schema": serde_json::from_str::<Value>(SCHEMA).unwrap()}})
}

fn json_tool(description: &str, schema: Value) -> Value {
    json!({"toolSpec": {"name": JSON_TOOL, "description": description, "inputSchema": {"json": schema}}})
}

#[test]
fn structured_output_is_a_forced_tool() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let described = "Respond with a JSON object that matches the WeatherAgent schema.";
    let sent =
        translate(json!({"model": "m", "messages": [user("hi")], "response_format": structured()}));
    assert_eq!(
        sent["toolConfig"],
        json!({"tools": [json_tool(described, schema.clone())], "toolChoice": {"tool": {"name": JSON_TOOL}}})
    );
    let sent = translate(
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "json_object"}}),
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"tools": [json_tool("Respond with a JSON object.", json!({"type": "object"}))], "toolChoice": {"tool": {"name": JSON_TOOL}}})
    );
    // With the caller's tools: some tool must be called, theirs or the answer.
    let sent = translate(
        json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "response_format": structured()}),
    );
    assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(
        sent["toolConfig"]["tools"][1],
        json_tool(described, schema.clone())
    );
    // tool_choice none hides the caller's tools but still forces the answer.
    let sent = translate(
        json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": "none", "response_format": structured()}),
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"tools": [json_tool(described, schema)], "toolChoice": {"tool": {"name": JSON_TOOL}}})
    );
    let sent = translate(
        json!({"model": "m", "messages": [user("hi")], "response_format": {"type": "text"}}),
    );
    assert!(sent.get("toolConfig").is_none());
}

#[test]
fn tool_choice_modes_translate() {
    let with = |choice: Value| {
        translate(json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()], "tool_choice": choice}))["toolConfig"].clone()
    };
    assert_eq!(with(json!("required"))["toolChoice"], json!({"any": {}}));
    assert_eq!(
        with(json!({"type": "function", "function": {"name": "get_weather"}}))["toolChoice"],
        json!({"tool": {"name": "get_weather"}})
    );
    // none with no tool calls in the conversation: the tools are not offered at all.
    assert_eq!(with(json!("none")), Value::Null);
    let sent =
        translate(json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()]}));
    assert!(sent["toolConfig"].get("toolChoice").is_none());
    let sent = translate(json!({"model": "m", "messages": [user("hi")], "tool_choice": "auto"}));
    assert!(sent.get("toolConfig").is_none());
}

#[test]
fn what_converse_cannot_take_is_refused_by_name() {
    let base = || json!({"model": "m", "messages": [user("hi")]});
    let with = |field: &str, value: Value| {
        let mut b = base();
        b[field] = value;
        rejection(b)
    };
    assert!(with("seed", json!(7)).contains("cannot take seed:"));
    assert_eq!(
        with("logit_bias", json!({"42": 1})),
        "bedrock cannot take logit_bias: remove it or use a provider that supports it"
    );
    assert!(with("frequency_penalty", json!(0.5)).contains("frequency_penalty"));
    assert!(with("presence_penalty", json!(0.5)).contains("presence_penalty"));
    assert!(with("reasoning_effort", json!("low")).contains("reasoning_effort"));
    assert!(with("user", json!("u-1")).contains("cannot take user:"));
    assert!(with("n", json!(2)).contains("cannot take n:"));
    assert!(with("parallel_tool_calls", json!(false)).contains("parallel_tool_calls"));
    let msg = |m: Value| rejection(json!({"model": "m", "messages": [m]}));
    assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}]})).contains("images by URL"));
    assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "high"}}]})).contains("image detail"));
    assert!(msg(json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AA"}}]})).contains("image/tiff"));
    assert!(
        msg(json!({"role": "user", "content": [{"type": "file", "file": {"file_id": "f1"}}]}))
            .contains("file")
    );
    assert!(msg(json!({"role": "user", "name": "bob", "content": "hi"})).contains("message name"));
    assert!(msg(json!({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]})).contains("user messages only"));
    assert!(msg(json!({"role": "tool", "content": "x"})).contains("tool_call_id"));
    assert!(msg(json!({"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]})).contains("not JSON"));
    let tools = |extra: Value| {
        let mut b = json!({"model": "m", "messages": [user("hi")], "tools": [weather_tool()]});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        rejection(b)
    };
    assert!(
        tools(json!({"tool_choice": {"type": "function", "function": {"name": "nope"}}}))
            .contains("not among the tools")
    );
    assert!(tools(json!({"tool_choice": "sometimes"})).contains("sometimes"));
    assert!(
        rejection(json!({"model": "m", "messages": [user("hi")], "tool_choice": "required"}))
            .contains("needs tools")
    );
    assert!(rejection(json!({"model": "m", "messages": [user("hi")], "tools": [{"type": "function", "function": {"name": JSON_TOOL}}]})).contains("reserves"));
    assert!(rejection(json!({"model": "m", "messages": [
        user("hi"),
        {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "sunny"}
    ], "tools": [weather_tool()], "tool_choice": "none"})).contains("\"none\""));
    assert!(rejection(json!({"model": "", "messages": [user("hi")]})).contains("model"));
    assert!(rejection(json!({"messages": []})).contains("invalid chat request"));
}
