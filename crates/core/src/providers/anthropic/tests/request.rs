//! Canonical requests as Messages requests, and what is refused.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Value};

use super::super::{api_url, Anthropic, API_VERSION, DEFAULT_MAX_TOKENS, JSON_TOOL};
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

fn wire(request: Value, stream: bool) -> Value {
    let req = Anthropic
        .chat_request(
            "https://api.anthropic.com",
            Bytes::from(request.to_string()),
            stream,
        )
        .unwrap();
    assert_eq!(req.url, "https://api.anthropic.com/v1/messages");
    assert_eq!(req.headers["anthropic-version"], "2023-06-01");
    serde_json::from_slice(req.body.as_deref().unwrap()).unwrap()
}

fn refused(request: Value) -> String {
    let err = Anthropic
        .chat_request("https://x", Bytes::from(request.to_string()), false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    err.to_string()
}

fn user(text: &str) -> Value {
    json!({ "role": "user", "content": text })
}

fn weather_tool() -> Value {
    json!({ "type": "function", "function": { "name": "get_weather", "description": "Weather for a city",
        "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } })
}

#[test]
fn a_jaf_turn_becomes_a_messages_request() {
    let body = wire(
        json!({
            "model": "claude-sonnet-4-5-20250929",
            "messages": [{ "role": "system", "content": "You are terse." }, user("Hi")],
            "temperature": 0.3, "max_tokens": 64, "top_p": 0.9, "stop": "END", "user": "u-42",
            "stream": true, "stream_options": { "include_usage": true },
        }),
        true,
    );
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 64,
            "system": "You are terse.",
            "messages": [{ "role": "user", "content": "Hi" }],
            "temperature": 0.3,
            "top_p": 0.9,
            "stop_sequences": ["END"],
            "metadata": { "user_id": "u-42" },
            "stream": true,
        })
    );
}

#[test]
fn max_tokens_defaults_and_system_prompts_stay_apart() {
    let body = wire(
        json!({
            "model": "claude-haiku-4-5",
            "messages": [
                { "role": "system", "content": "One." },
                { "role": "developer", "content": [{ "type": "text", "text": "Two." }] },
                user("a"), user("b"),
                { "role": "assistant", "content": "" },
                { "role": "assistant", "content": "prefill" },
            ],
            "max_completion_tokens": null,
        }),
        false,
    );
    assert_eq!(
        body,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": DEFAULT_MAX_TOKENS,
            "system": [{ "type": "text", "text": "One." }, { "type": "text", "text": "Two." }],
            "messages": [
                { "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b" }] },
                { "role": "assistant", "content": "prefill" },
            ],
        })
    );
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "max_completion_tokens": 99, "max_tokens": 5 }),
        false,
    );
    assert_eq!(body["max_tokens"], 99);
}

#[test]
fn tool_calls_and_results_become_blocks() {
    let body = wire(
        json!({
            "model": "m",
            "messages": [
                user("Weather and time in Paris?"),
                { "role": "assistant", "content": "", "tool_calls": [
                    { "id": "toolu_01A", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                    { "id": "toolu_01B", "type": "function", "function": { "name": "get_time", "arguments": "" } },
                ] },
                { "role": "tool", "tool_call_id": "toolu_01A", "content": "{\"tempC\":21}" },
                { "role": "tool", "tool_call_id": "toolu_01B", "content": [{ "type": "text", "text": "14:05" }] },
                user("Thanks"),
            ],
            "tools": [weather_tool(), { "type": "function", "function": { "name": "get_time" } }],
            "tool_choice": "auto",
            "parallel_tool_calls": false,
        }),
        false,
    );
    assert_eq!(
        body,
        json!({
            "model": "m",
            "max_tokens": DEFAULT_MAX_TOKENS,
            "messages": [
                { "role": "user", "content": "Weather and time in Paris?" },
                { "role": "assistant", "content": [
                    { "type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": { "city": "Paris" } },
                    { "type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {} },
                ] },
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": "toolu_01A", "content": "{\"tempC\":21}" },
                    { "type": "tool_result", "tool_use_id": "toolu_01B", "content": [{ "type": "text", "text": "14:05" }] },
                    { "type": "text", "text": "Thanks" },
                ] },
            ],
            "tools": [
                { "name": "get_weather", "description": "Weather for a city",
                  "input_schema": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } },
                { "name": "get_time", "input_schema": { "type": "object", "properties": {} } },
            ],
            "tool_choice": { "type": "auto", "disable_parallel_tool_use": true },
        })
    );
}

#[test]
fn tool_choice_takes_anthropic_forms() {
    let choice = |c: Value| {
        wire(json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": c }), false)
            ["tool_choice"]
            .clone()
    };
    assert_eq!(choice(json!("required")), json!({ "type": "any" }));
    assert_eq!(choice(json!("none")), json!({ "type": "none" }));
    assert_eq!(
        choice(json!({ "type": "function", "function": { "name": "get_weather" } })),
        json!({ "type": "tool", "name": "get_weather" })
    );
    assert!(refused(json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": "sometimes" }))
        .contains("tool_choice"));
}

#[test]
fn response_format_becomes_a_forced_tool() {
    let schema = json!({ "type": "object", "properties": { "city": { "type": "string" }, "tempC": { "type": "number" } },
        "required": ["city", "tempC"], "additionalProperties": false });
    let format = json!({ "type": "json_schema", "json_schema": { "name": "WeatherAgent", "strict": true, "schema": schema } });
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "response_format": format }),
        false,
    );
    assert_eq!(
        body["tools"],
        json!([{ "name": JSON_TOOL, "description": "Respond with the answer (WeatherAgent) as this tool's input: the input is the answer.",
                 "input_schema": schema }])
    );
    assert_eq!(
        body["tool_choice"],
        json!({ "type": "tool", "name": JSON_TOOL })
    );

    // With the caller's tools the model must call one of them, or the JSON tool to answer.
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "tools": [weather_tool()], "tool_choice": "auto", "response_format": format }),
        false,
    );
    assert_eq!(body["tools"][0]["name"], "get_weather");
    assert_eq!(body["tools"][1]["name"], JSON_TOOL);
    assert_eq!(body["tool_choice"], json!({ "type": "any" }));

    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "response_format": { "type": "json_object" } }),
        false,
    );
    assert_eq!(
        body["tools"][0]["input_schema"],
        json!({ "type": "object" })
    );
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "response_format": { "type": "text" } }),
        false,
    );
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
}

#[test]
fn images_by_url_and_base64() {
    let body = wire(
        json!({ "model": "m", "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "What is this?" },
            { "type": "image_url", "image_url": { "url": "https://example.test/cat.png" } },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto" } },
        ] }] }),
        false,
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            { "type": "text", "text": "What is this?" },
            { "type": "image", "source": { "type": "url", "url": "https://example.test/cat.png" } },
            { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" } },
        ])
    );
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget() {
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "high" }),
        false,
    );
    assert_eq!(
        body["thinking"],
        json!({ "type": "enabled", "budget_tokens": 4096 })
    );
    assert_eq!(body["max_tokens"], 4096 + DEFAULT_MAX_TOKENS);
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "low", "max_tokens": 3000 }),
        false,
    );
    assert_eq!(
        (
            body["thinking"]["budget_tokens"].clone(),
            body["max_tokens"].clone()
        ),
        (json!(1024), json!(3000))
    );
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "none" }),
        false,
    );
    assert_eq!(body["thinking"], json!({ "type": "disabled" }));
    // Anthropic's own parameters pass as they are.
    let body = wire(
        json!({ "model": "m", "messages": [user("x")], "top_k": 5, "thinking": { "type": "enabled", "budget_tokens": 2000 } }),
        false,
    );
    assert_eq!(
        (body["top_k"].clone(), body["max_tokens"].clone()),
        (json!(5), json!(2000 + DEFAULT_MAX_TOKENS))
    );

    assert!(refused(json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "medium", "max_tokens": 2048 }))
        .contains("thinking budget"));
    assert!(refused(
        json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "minimal" })
    )
    .contains("reasoning_effort"));
    let format = json!({ "type": "json_schema", "json_schema": { "name": "n", "schema": { "type": "object" } } });
    assert!(refused(json!({ "model": "m", "messages": [user("x")], "reasoning_effort": "low", "response_format": format }))
        .contains("extended thinking"));
}

#[test]
fn what_anthropic_cannot_take_is_refused_by_name() {
    let base = || json!({ "model": "m", "messages": [user("x")] });
    let with = |k: &str, v: Value| {
        let mut r = base();
        r[k] = v;
        refused(r)
    };
    assert_eq!(
        with("seed", json!(7)),
        "anthropic cannot take seed: remove it or use a provider that supports it"
    );
    assert!(with("logit_bias", json!({ "42": 1 })).contains("logit_bias"));
    assert!(with("frequency_penalty", json!(0.5)).contains("frequency_penalty"));
    assert!(with("presence_penalty", json!(0.5)).contains("presence_penalty"));
    assert!(with("n", json!(2)).contains("n"));
    wire(
        json!({ "model": "m", "messages": [user("x")], "n": 1 }),
        false,
    );
    assert!(with(
        "messages",
        json!([{ "role": "user", "content": "x", "name": "bob" }])
    )
    .contains("messages[].name"));
    assert!(with("messages", json!([{ "role": "user", "content": [{ "type": "file", "file": { "file_id": "file-1" } }] }]))
        .contains("file parts"));
    assert!(with("messages", json!([{ "role": "system", "content": [{ "type": "image_url", "image_url": { "url": "https://x/y.png" } }] }, user("x")]))
        .contains("only text"));
    assert!(with("messages", json!([{ "role": "tool", "content": "r" }])).contains("tool_call_id"));
    assert!(with("messages", json!([{ "role": "assistant", "tool_calls": [{ "id": "c", "type": "function", "function": { "name": "f", "arguments": "{oops" } }] }]))
        .contains("not valid JSON"));
    assert!(with(
        "tools",
        json!([{ "type": "function", "function": { "name": JSON_TOOL } }])
    )
    .contains("reserves"));
}

#[test]
fn requests_carry_the_key_and_version() {
    let mut headers = HeaderMap::new();
    Anthropic.authorize("sk-ant-test", &mut headers).unwrap();
    assert_eq!(headers["x-api-key"], "sk-ant-test");
    assert!(headers["x-api-key"].is_sensitive());
    assert!(headers.get(http::header::AUTHORIZATION).is_none());
    let req = Anthropic.models_request("https://proxy.test/v1/").unwrap();
    assert_eq!(req.url, "https://proxy.test/v1/models?limit=1000");
    assert_eq!(req.headers["anthropic-version"], API_VERSION);
    assert_eq!(
        api_url("http://127.0.0.1:9", "messages"),
        "http://127.0.0.1:9/v1/messages"
    );
}
