//! Embeddings, both ways.

use bytes::Bytes;
use serde_json::{json, Value};

use super::super::embeddings::decode_embeddings;
use super::super::Ollama;
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

#[test]
fn embeddings_translate_both_ways() {
    let wire = Ollama
        .embed_request(
            "http://h:11434",
            Bytes::from(json!({ "model": "embeddinggemma", "input": ["Why is the sky blue?", "Why is the grass green?"], "dimensions": 128, "encoding_format": "float", "truncate": false, "keep_alive": 0 }).to_string()),
        )
        .unwrap();
    assert_eq!(wire.url, "http://h:11434/api/embed");
    let body: Value = serde_json::from_slice(wire.body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "model": "embeddinggemma", "input": ["Why is the sky blue?", "Why is the grass green?"], "dimensions": 128, "truncate": false, "keep_alive": 0 })
    );
    for bad in [
        json!({ "model": "m", "input": [[1, 2, 3]] }),
        json!({ "model": "m", "input": "x", "encoding_format": "base64" }),
        json!({ "model": "m", "input": "x", "user": "u" }),
        json!({ "model": "m", "input": "x", "logit_bias": {} }),
    ] {
        let e = Ollama
            .embed_request("http://h", Bytes::from(bad.to_string()))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
    }

    // The /api/embed example of Ollama's API reference, vectors kept as written.
    let out = decode_embeddings(br#"{"model":"embeddinggemma","embeddings":[[0.010071029,-0.0017594862,0.05007221],[0.04692972,0.054916814,0.008599704]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#).unwrap();
    assert_eq!(
        out,
        r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.010071029,-0.0017594862,0.05007221]},{"object":"embedding","index":1,"embedding":[0.04692972,0.054916814,0.008599704]}],"model":"embeddinggemma","usage":{"prompt_tokens":8,"total_tokens":8}}"#
    );
    let e =
        decode_embeddings(br#"{"error":"this model does not support embeddings"}"#).unwrap_err();
    assert!(e.to_string().contains("does not support embeddings"));
}
