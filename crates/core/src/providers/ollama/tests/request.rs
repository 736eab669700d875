//! Canonical requests → `/api/chat` bodies, the refusals, and where each request goes.

use bytes::Bytes;
use serde_json::{json, Value};

use super::super::request::chat_body;
use super::super::Ollama;
use crate::error::ErrorKind;
use crate::providers::{ChatProvider, Framing};

fn wire(request: Value, stream: bool) -> Value {
    let bytes = chat_body(request.to_string().as_bytes(), stream).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn refused(request: Value) -> String {
    let err = chat_body(request.to_string().as_bytes(), false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    err.to_string()
}

fn user(content: Value) -> Value {
    json!({ "model": "llama3.1", "messages": [{ "role": "user", "content": content }] })
}

#[test]
fn text_request_states_stream_false_and_maps_sampling_to_options() {
    let body = wire(
        json!({
            "model": "llama3.1",
            "messages": [
                { "role": "system", "content": "You are terse." },
                { "role": "developer", "content": [{ "type": "text", "text": "Be exact." }] },
                { "role": "user", "content": "What is the weather in Paris?" }
            ],
            "temperature": 0.3,
            "max_tokens": 64
        }),
        false,
    );
    assert_eq!(
        body,
        json!({
            "model": "llama3.1",
            "messages": [
                { "role": "system", "content": "You are terse." },
                { "role": "system", "content": "Be exact." },
                { "role": "user", "content": "What is the weather in Paris?" }
            ],
            "options": { "temperature": 0.3, "num_predict": 64 },
            "stream": false
        })
    );
}

#[test]
fn every_sampling_field_lands_in_options() {
    let body = wire(
        json!({
            "model": "llama3.1",
            "messages": [{ "role": "user", "content": "hi" }],
            "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "max_tokens": 10,
            "stop": "END", "seed": 7, "frequency_penalty": 0.5, "presence_penalty": 0.25,
            "n": 1, "parallel_tool_calls": true,
            "stream": true, "stream_options": { "include_usage": true }
        }),
        true,
    );
    assert_eq!(
        body,
        json!({
            "model": "llama3.1",
            "messages": [{ "role": "user", "content": "hi" }],
            "options": {
                "temperature": 0.2, "top_p": 0.9, "num_predict": 50, "stop": ["END"],
                "seed": 7, "frequency_penalty": 0.5, "presence_penalty": 0.25
            },
            "stream": true
        })
    );
}

#[test]
fn tools_calls_and_results_translate_to_ollama_shapes() {
    let body = wire(
        json!({
            "model": "llama3.1",
            "messages": [
                { "role": "user", "content": "Weather and time in Paris?" },
                { "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_w1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}" } },
                    { "id": "call_t1", "type": "function", "function": { "name": "get_time", "arguments": "" } }
                ] },
                { "role": "tool", "tool_call_id": "call_w1", "content": "{\"tempC\":21}" },
                { "role": "tool", "tool_call_id": "call_t1", "name": "get_time", "content": [{ "type": "text", "text": "14:05" }] },
                { "role": "tool", "tool_call_id": "call_unknown", "content": "?" }
            ],
            "tools": [
                { "type": "function", "function": { "name": "get_weather", "description": "Weather for a city", "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } },
                { "type": "function", "function": { "name": "get_time" } }
            ],
            "tool_choice": "auto"
        }),
        false,
    );
    assert_eq!(
        body,
        json!({
            "model": "llama3.1",
            "messages": [
                { "role": "user", "content": "Weather and time in Paris?" },
                { "role": "assistant", "content": "", "tool_calls": [
                    { "id": "call_w1", "function": { "index": 0, "name": "get_weather", "arguments": { "city": "Paris", "unit": "c" } } },
                    { "id": "call_t1", "function": { "index": 1, "name": "get_time", "arguments": {} } }
                ] },
                { "role": "tool", "content": "{\"tempC\":21}", "tool_name": "get_weather", "tool_call_id": "call_w1" },
                { "role": "tool", "content": "14:05", "tool_name": "get_time", "tool_call_id": "call_t1" },
                { "role": "tool", "content": "?", "tool_call_id": "call_unknown" }
            ],
            "tools": [
                { "type": "function", "function": { "name": "get_weather", "description": "Weather for a city", "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } },
                { "type": "function", "function": { "name": "get_time", "parameters": { "type": "object", "properties": {} } } }
            ],
            "stream": false
        })
    );
}

#[test]
fn tool_choice_none_withholds_tools_and_forced_calls_are_refused() {
    let mut req = user(json!("hi"));
    req["tools"] = json!([{ "type": "function", "function": { "name": "f", "parameters": { "type": "object" } } }]);
    req["tool_choice"] = json!("none");
    assert!(wire(req.clone(), false).get("tools").is_none());
    req["tool_choice"] = json!("required");
    assert!(refused(req.clone()).contains("tool_choice"));
    req["tool_choice"] = json!({ "type": "function", "function": { "name": "f" } });
    assert!(refused(req).contains("tool_choice"));
}

#[test]
fn structured_output_is_native() {
    let schema = json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"], "additionalProperties": false });
    let mut req = user(json!("hi"));
    req["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "Weather", "strict": true, "schema": schema } });
    assert_eq!(wire(req.clone(), false)["format"], schema);
    req["response_format"] = json!({ "type": "json_object" });
    assert_eq!(wire(req.clone(), false)["format"], "json");
    req["response_format"] = json!({ "type": "text" });
    assert!(wire(req, false).get("format").is_none());
}

#[test]
fn images_go_inline_and_urls_are_refused() {
    let body = wire(
        user(json!([
            { "type": "text", "text": "What is this?" },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=" } },
            { "type": "image_url", "image_url": { "url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto" } }
        ])),
        false,
    );
    assert_eq!(
        body["messages"],
        json!([{ "role": "user", "content": "What is this?", "images": ["iVBORw0KGgo=", "/9j/4AAQ"] }])
    );
    let url = refused(user(
        json!([{ "type": "image_url", "image_url": { "url": "https://example.test/cat.png" } }]),
    ));
    assert!(url.contains("image"), "{url}");
    let detail = refused(user(
        json!([{ "type": "image_url", "image_url": { "url": "data:image/png;base64,AA", "detail": "high" } }]),
    ));
    assert!(detail.contains("detail"), "{detail}");
    let pdf = refused(user(
        json!([{ "type": "image_url", "image_url": { "url": "data:application/pdf;base64,AA" } }]),
    ));
    assert!(pdf.contains("application/pdf"), "{pdf}");
    let file = refused(user(
        json!([{ "type": "file", "file": { "file_id": "f1" } }]),
    ));
    assert!(file.contains("file"), "{file}");
}

#[test]
fn fields_without_a_translation_are_refused_by_name() {
    let with = |field: &str, value: Value| {
        let mut req = user(json!("hi"));
        req[field] = value;
        refused(req)
    };
    assert_eq!(
        with("logit_bias", json!({ "42": 1 })),
        "ollama cannot take logit_bias: remove it or use a provider that supports it"
    );
    assert!(with("n", json!(2)).contains("cannot take n"));
    assert!(with("user", json!("u-1")).contains("cannot take user"));
    assert!(with("parallel_tool_calls", json!(false)).contains("parallel_tool_calls"));
    assert!(with("reasoning_effort", json!("minimal")).contains("reasoning_effort"));
    assert!(with("keep_alive", json!(true)).contains("keep_alive"));
    assert!(with("think", json!("max")).contains("think"));
    let mut named = user(json!("hi"));
    named["messages"][0]["name"] = json!("alice");
    assert!(refused(named).contains("messages[0].name"));
    let bad_args = json!({ "model": "m", "messages": [
        { "role": "assistant", "tool_calls": [{ "id": "c", "type": "function", "function": { "name": "f", "arguments": "[1]" } }] }
    ] });
    assert!(refused(bad_args).contains("JSON object"));
}

#[test]
fn ollama_native_fields_pass_by_their_own_names() {
    let mut req = user(json!("hi"));
    req["temperature"] = json!(0.1);
    req["num_ctx"] = json!(8192);
    req["options"] = json!({ "top_k": 20, "repeat_penalty": 1.1 });
    req["keep_alive"] = json!("10m");
    req["reasoning_effort"] = json!("high");
    let body = wire(req.clone(), true);
    assert_eq!(
        body["options"],
        json!({ "temperature": 0.1, "num_ctx": 8192, "top_k": 20, "repeat_penalty": 1.1 })
    );
    assert_eq!(
        (&body["think"], &body["keep_alive"]),
        (&json!("high"), &json!("10m"))
    );

    req["reasoning_effort"] = json!("none");
    assert_eq!(wire(req.clone(), false)["think"], false);
    req["think"] = json!(true);
    assert!(refused(req.clone()).contains("think and reasoning_effort"));
    let mut twice = user(json!("hi"));
    twice["temperature"] = json!(0.1);
    twice["options"] = json!({ "temperature": 0.9 });
    assert!(refused(twice).contains("options.temperature"));
}

#[test]
fn requests_go_to_the_native_paths() {
    let chat = Ollama
        .chat_request(
            "http://localhost:11434/",
            Bytes::from(user(json!("hi")).to_string()),
            true,
        )
        .unwrap();
    assert_eq!(
        (chat.method.as_str(), chat.url.as_str()),
        ("POST", "http://localhost:11434/api/chat")
    );
    let models = Ollama.models_request("http://localhost:11434").unwrap();
    assert_eq!(
        (models.method.as_str(), models.url.as_str()),
        ("GET", "http://localhost:11434/api/tags")
    );
    assert!(models.body.is_none());
    assert_eq!(Ollama.framing(), Framing::Ndjson);
}
