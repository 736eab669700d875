//! JSON Schemas → Gemini schemas: structured output and tool parameters.

use bytes::Bytes;
use serde_json::json;

use super::{gemini, wire};
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

#[test]
fn structured_output_is_native_json_schema() {
    let body = json!({
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "weather?"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "W", "strict": true, "description": "The weather", "schema": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "tempC": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                "kind": {"const": "report"},
                "level": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                "either": {"oneOf": [{"type": "string"}, {"type": "boolean"}]}
            },
            "required": ["city"],
            "additionalProperties": false,
            "$defs": {"tag": {"type": "string", "description": "A tag"}},
            "$schema": "http://json-schema.org/draft-07/schema#"
        }}}
    });
    let (_, json) = wire(&gemini(), body, false);
    assert_eq!(
        json["generationConfig"],
        json!({
            "responseMimeType": "application/json",
            "responseSchema": {
                "type": "OBJECT",
                "description": "The weather",
                "properties": {
                    "city": {"type": "STRING"},
                    "tempC": {"type": "NUMBER", "nullable": true},
                    "tags": {"type": "ARRAY", "items": {"type": "STRING", "description": "A tag"}},
                    "kind": {"type": "STRING", "enum": ["report"]},
                    "level": {"type": "INTEGER", "minimum": 0, "nullable": true},
                    "either": {"anyOf": [{"type": "STRING"}, {"type": "BOOLEAN"}]}
                },
                "required": ["city"]
            }
        })
    );
    let mode = json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}});
    let (_, json) = wire(&gemini(), mode, false);
    assert_eq!(
        json["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
}

#[test]
fn schemas_gemini_cannot_express_are_refused_by_place() {
    for (schema, needle) in [
        (
            json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "number"}}}}),
            "tools.f.parameters.m.additionalProperties",
        ),
        (
            json!({"type": "object", "properties": {"t": {"type": "array", "items": [{"type": "string"}]}}}),
            "tuple",
        ),
        (
            json!({"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}}),
            "enum of non-strings",
        ),
        (
            json!({"type": "object", "properties": {"x": {"not": {"type": "string"}}}}),
            "\"not\"",
        ),
        (
            json!({"type": "object", "properties": {"r": {"$ref": "#"}}}),
            "recursive",
        ),
    ] {
        let body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]});
        let err = gemini()
            .chat_request("http://h", Bytes::from(body.to_string()), false)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
}
