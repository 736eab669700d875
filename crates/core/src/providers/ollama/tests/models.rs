//! The model list.

use serde_json::{json, Value};

use super::super::models::decode_models;
use crate::error::ErrorKind;

#[test]
fn the_model_list_keeps_what_ollama_says() {
    // The /api/tags example of Ollama's API reference.
    let out: Value = serde_json::from_str(
        &decode_models(br#"{"models":[{"name":"gemma3","modified_at":"2025-10-03T23:34:03.409490317-07:00","size":3338801804,"digest":"a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a","details":{"format":"gguf","family":"gemma","families":["gemma"],"parameter_size":"4.3B","quantization_level":"Q4_K_M"}}]}"#).unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({ "object": "list", "data": [{
            "id": "gemma3", "object": "model", "name": "gemma3",
            "modified_at": "2025-10-03T23:34:03.409490317-07:00", "size": 3338801804u64,
            "digest": "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a",
            "details": { "format": "gguf", "family": "gemma", "families": ["gemma"], "parameter_size": "4.3B", "quantization_level": "Q4_K_M" }
        }] })
    );
    assert_eq!(
        decode_models(br#"{"models":[]}"#).unwrap(),
        r#"{"object":"list","data":[]}"#
    );
    assert_eq!(
        decode_models(b"{}").unwrap_err().kind(),
        ErrorKind::BadResponse
    );
}
