//! Canonical requests → `generateContent` requests, and what is refused by name.

use bytes::Bytes;
use serde_json::json;

use super::{gemini, vertex, wire};
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

#[test]
fn translates_a_whole_conversation() {
    let body = json!({
        "model": "gemini-2.5-flash",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": "https://example.test/cat.JPG?x=1"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "low"}}
            ]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call_a__thought__c2ln", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_a__thought__c2ln", "content": "{\"tempC\":21}"},
            {"role": "tool", "tool_call_id": "call_b", "content": "14:05"},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "Merci"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City"}, "unit": {"type": "string", "enum": ["c", "f"]}},
                "required": ["city"], "additionalProperties": false
            }}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50, "stop": "END", "seed": 7,
        "presence_penalty": 0.1, "frequency_penalty": 0.2,
        "stream": true, "stream_options": {"include_usage": true}
    });
    let (url, json) = wire(&gemini(), body, false);
    assert!(url.ends_with("/v1beta/models/gemini-2.5-flash:generateContent"));
    assert_eq!(
        json,
        json!({
            "systemInstruction": {"parts": [{"text": "You are terse."}, {"text": "Answer in French."}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "What is in these?"},
                    {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.test/cat.JPG?x=1"}},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}, "mediaResolution": {"level": "MEDIA_RESOLUTION_LOW"}}
                ]},
                {"role": "model", "parts": [
                    {"text": "Checking."},
                    {"functionCall": {"id": "call_a", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
                    {"functionCall": {"id": "call_b", "name": "get_time", "args": {}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"id": "call_a", "name": "get_weather", "response": {"tempC": 21}}},
                    {"functionResponse": {"id": "call_b", "name": "get_time", "response": {"result": "14:05"}}},
                    {"text": "Merci"}
                ]}
            ],
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather", "parameters": {
                    "type": "OBJECT",
                    "properties": {"city": {"type": "STRING", "description": "City"}, "unit": {"type": "STRING", "enum": ["c", "f"]}},
                    "required": ["city"]
                }},
                {"name": "get_time"}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
            "generationConfig": {
                "temperature": 0.2, "topP": 0.9, "maxOutputTokens": 50, "stopSequences": ["END"], "seed": 7,
                "presencePenalty": 0.1, "frequencyPenalty": 0.2
            }
        })
    );
}

#[test]
fn vertex_sends_no_call_ids_and_needs_image_types() {
    let body = json!({
        "model": "gemini-2.5-pro",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "[1,2]"}
        ]
    });
    let (_, json) = wire(&vertex(), body, false);
    assert_eq!(
        json["contents"],
        json!([
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"result": "[1,2]"}}}]}
        ])
    );
    let image = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://x.test/image"}}
    ]}]});
    let err = vertex()
        .chat_request("http://h", Bytes::from(image.to_string()), false)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("image"));
    // The Gemini API fetches it and works out the type itself.
    let (_, json) = wire(&gemini(), image, false);
    assert_eq!(
        json["contents"][0]["parts"][0],
        json!({"fileData": {"fileUri": "https://x.test/image"}})
    );
}

#[test]
fn fields_without_a_translation_are_refused_by_name() {
    let base = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
    for (extra, name) in [
        (json!({"logit_bias": {"42": 1}}), "logit_bias"),
        (json!({"n": 2}), "n"),
        (json!({"user": "u1"}), "user"),
        (json!({"parallel_tool_calls": false}), "parallel_tool_calls"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"reasoning_effort": "extreme"}), "reasoning_effort"),
        (json!({"tool_choice": "required"}), "tool_choice"),
    ] {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let err = gemini()
            .chat_request("http://h", Bytes::from(body.to_string()), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
        assert!(err.to_string().contains(name), "{err} lacks {name}");
    }
    let named =
        json!({"model": "m", "messages": [{"role": "user", "content": "x", "name": "bob"}]});
    assert!(gemini()
        .chat_request("http://h", Bytes::from(named.to_string()), false)
        .unwrap_err()
        .to_string()
        .contains("name"));
    let orphan = json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]});
    assert!(gemini()
        .chat_request("http://h", Bytes::from(orphan.to_string()), false)
        .unwrap_err()
        .to_string()
        .contains("nope"));
    for url in ["http://insecure.test/a.png", "ftp://x/a.png"] {
        let img = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]});
        let err = gemini()
            .chat_request("http://h", Bytes::from(img.to_string()), false)
            .unwrap_err();
        assert!(err.to_string().contains("image"), "{err}");
    }
    // What Gemini does anyway is accepted: one candidate, parallel calls allowed.
    let fine = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 1, "parallel_tool_calls": true});
    assert!(gemini()
        .chat_request("http://h", Bytes::from(fine.to_string()), false)
        .is_ok());
}

#[test]
fn reasoning_effort_becomes_a_thinking_config() {
    let ask = |model: &str, effort: &str| {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "x"}], "reasoning_effort": effort});
        wire(&gemini(), body, false).1["generationConfig"]["thinkingConfig"].clone()
    };
    assert_eq!(
        ask("gemini-2.5-flash", "low"),
        json!({"thinkingBudget": 1024, "includeThoughts": true})
    );
    assert_eq!(
        ask("gemini-3-pro-preview", "high"),
        json!({"thinkingLevel": "high", "includeThoughts": true})
    );
    assert_eq!(
        ask("gemini-2.5-flash", "none"),
        json!({"thinkingBudget": 0})
    );
}
