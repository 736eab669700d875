//! Canonical requests → `POST /v2/chat`, and what Cohere cannot take refused by name.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind};
use crate::providers::cohere::Cohere;
use crate::providers::ChatProvider;

fn wire(body: Value, stream: bool) -> Result<Value, Error> {
    let req = Cohere.chat_request(
        "https://api.cohere.com/",
        Bytes::from(body.to_string()),
        stream,
    )?;
    assert_eq!(req.method, http::Method::POST);
    assert_eq!(req.url, "https://api.cohere.com/v2/chat");
    let accept = req.headers.get(http::header::ACCEPT);
    assert_eq!(
        accept.map(|v| v.to_str().unwrap()),
        stream.then_some("text/event-stream")
    );
    Ok(serde_json::from_slice(req.body.as_deref().unwrap()).unwrap())
}

fn rejected(body: Value) -> String {
    let err = wire(body, false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    err.to_string()
}

#[test]
fn a_plain_request_translates_field_for_field() {
    let body = json!({
        "model": "command-a-03-2025",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"}
        ],
        "temperature": 0.3,
        "max_tokens": 64
    });
    assert_eq!(
        wire(body, false).unwrap(),
        json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi"}
            ],
            "temperature": 0.3,
            "max_tokens": 64,
            "stream": false
        })
    );
}

#[test]
fn every_field_cohere_takes_is_translated() {
    let body = json!({
        "model": "command-a-03-2025",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x.test/cat.png", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}
            ]},
            {"role": "assistant", "content": "I will look it up.", "tool_calls": [
                {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "get_weather_1", "content": "{\"tempC\":21}"},
            {"role": "tool", "tool_call_id": "get_time_2", "content": [{"type": "text", "text": "14:05"}]},
            {"role": "assistant", "content": "Sunny."},
            {"role": "user", "content": "Thanks"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time"}}
        ],
        "tool_choice": "required",
        "parallel_tool_calls": true,
        "response_format": {"type": "json_schema", "json_schema": {"name": "Out", "strict": true, "description": "The answer", "schema": {"type": "object"}}},
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 50,
        "max_tokens": 10,
        "stop": "END",
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "reasoning_effort": "low",
        "n": 1,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    assert_eq!(
        wire(body, true).unwrap(),
        json!({
            "model": "command-a-03-2025",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}
                ]},
                {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
                    {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "get_weather_1", "content": "{\"tempC\":21}"},
                {"role": "tool", "tool_call_id": "get_time_2", "content": [{"type": "text", "text": "14:05"}]},
                {"role": "assistant", "content": "Sunny."},
                {"role": "user", "content": "Thanks"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
            ],
            "tool_choice": "REQUIRED",
            "response_format": {"type": "json_object", "json_schema": {"type": "object", "description": "The answer"}},
            "temperature": 0.2,
            "p": 0.9,
            "max_tokens": 50,
            "stop_sequences": ["END"],
            "seed": 7,
            "frequency_penalty": 0.1,
            "presence_penalty": 0.2,
            "thinking": {"type": "enabled", "token_budget": 1024},
            "stream": true
        })
    );
}

#[test]
fn tool_choice_modes_and_named_functions() {
    let base = |choice: Value| {
        json!({
            "model": "command-r7b-12-2024",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
                {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}
            ],
            "tool_choice": choice
        })
    };
    let out = wire(base(json!("auto")), false).unwrap();
    assert!(out.get("tool_choice").is_none());
    assert_eq!(out["tools"].as_array().unwrap().len(), 2);
    assert_eq!(
        wire(base(json!("none")), false).unwrap()["tool_choice"],
        "NONE"
    );
    let named = wire(
        base(json!({"type": "function", "function": {"name": "b"}})),
        false,
    )
    .unwrap();
    assert_eq!(named["tool_choice"], "REQUIRED");
    assert_eq!(
        named["tools"],
        json!([{"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}])
    );
    let err = wire(
        base(json!({"type": "function", "function": {"name": "zzz"}})),
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("zzz"), "{err}");
    assert!(rejected(base(json!("sometimes"))).contains("tool_choice"));
    // Without tools, "none" is the default and says nothing.
    let plain = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none"});
    assert!(wire(plain, false).unwrap().get("tool_choice").is_none());
}

#[test]
fn reasoning_effort_and_response_formats() {
    let req = |extra: Value| {
        let mut body = json!({"model": "command-a-reasoning-08-2025", "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(
        wire(req(json!({"reasoning_effort": "none"})), false).unwrap()["thinking"],
        json!({"type": "disabled"})
    );
    assert_eq!(
        wire(req(json!({"reasoning_effort": "high"})), false).unwrap()["thinking"],
        json!({"type": "enabled", "token_budget": 4096})
    );
    assert!(rejected(req(json!({"reasoning_effort": "extreme"}))).contains("reasoning_effort"));
    assert_eq!(
        wire(
            req(json!({"response_format": {"type": "json_object"}})),
            false
        )
        .unwrap()["response_format"],
        json!({"type": "json_object"})
    );
    assert_eq!(
        wire(req(json!({"response_format": {"type": "text"}})), false).unwrap()["response_format"],
        json!({"type": "text"})
    );
    assert_eq!(
        wire(
            req(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object", "description": "own"}, "description": "other"}}})),
            false
        )
        .unwrap()["response_format"],
        json!({"type": "json_object", "json_schema": {"type": "object", "description": "own"}})
    );
}

#[test]
fn what_cohere_cannot_take_is_refused_by_name() {
    let with = |extra: Value| {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(
        rejected(with(json!({"logit_bias": {"42": 1}, "logprobs": true}))),
        "cohere cannot take logit_bias, logprobs: remove them or use a provider that supports them"
    );
    assert!(rejected(with(json!({"n": 2}))).contains("n"));
    assert!(rejected(with(json!({"user": "u1"}))).contains("user"));
    assert!(rejected(with(json!({"parallel_tool_calls": false}))).contains("parallel_tool_calls"));
    let msg = |m: Value| json!({"model": "m", "messages": [m]});
    assert!(
        rejected(msg(json!({"role": "user", "name": "bob", "content": "hi"})))
            .contains("messages[].name")
    );
    assert!(rejected(msg(
        json!({"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]})
    ))
    .contains("file"));
    assert!(rejected(msg(json!({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]})))
        .contains("image"));
    assert!(rejected(msg(json!({"role": "tool", "content": "r"}))).contains("tool_call_id"));
    assert_eq!(
        Cohere
            .chat_request("https://api.cohere.com", Bytes::from_static(b"{"), false)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
