use serde_json::{json, Value};

use super::super::request::{target, Target};
use super::{sent, wire};
use crate::error::ErrorKind;

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
