//! Embeddings (both flavours) and the model list.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{gemini, vertex};
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

#[test]
fn embeddings_both_flavours() {
    let body =
        Bytes::from(r#"{"model":"gemini-embedding-001","input":["alpha","beta"],"dimensions":8}"#);
    let w = gemini().embed_request("https://g", body.clone()).unwrap();
    assert_eq!(
        w.url,
        "https://g/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    let sent: Value = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "alpha"}]}, "outputDimensionality": 8},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "beta"}]}, "outputDimensionality": 8}
        ]})
    );
    let out: Value = serde_json::from_str(
        &gemini()
            .decode_embeddings(
                br#"{"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}"#,
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"object": "list", "data": [
            {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
            {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]}
        ]})
    );
    let w = vertex()
        .embed_request("https://v/publishers/google", body)
        .unwrap();
    assert_eq!(
        w.url,
        "https://v/publishers/google/models/gemini-embedding-001:predict"
    );
    let sent: Value = serde_json::from_slice(w.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        sent,
        json!({"instances": [{"content": "alpha"}, {"content": "beta"}], "parameters": {"outputDimensionality": 8}})
    );
    let out: Value = serde_json::from_str(
        &vertex()
            .decode_embeddings(
                br#"{"predictions": [
        {"embeddings": {"statistics": {"truncated": false, "token_count": 2}, "values": [0.1]}},
        {"embeddings": {"statistics": {"truncated": false, "token_count": 3}, "values": [0.2]}}
    ]}"#,
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["usage"], json!({"prompt_tokens": 5, "total_tokens": 5}));
    assert_eq!(out["data"][1]["embedding"], json!([0.2]));
    for bad in [
        r#"{"model":"m","input":"x","encoding_format":"base64"}"#,
        r#"{"model":"m","input":"x","user":"u"}"#,
        r#"{"model":"m","input":[[1,2]]}"#,
        r#"{"model":"m","input":[]}"#,
    ] {
        let err = gemini()
            .embed_request("https://g", Bytes::from(bad))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
}

#[test]
fn model_list() {
    let w = gemini().models_request("https://g").unwrap();
    assert_eq!(w.url, "https://g/v1beta/models?pageSize=1000");
    assert_eq!(w.method, http::Method::GET);
    let out: Value = serde_json::from_str(
        &gemini()
            .decode_models(
                br#"{"models": [
        {"name": "models/gemini-2.0-flash", "version": "2.0", "displayName": "Gemini 2.0 Flash",
         "inputTokenLimit": 1048576, "outputTokenLimit": 8192,
         "supportedGenerationMethods": ["generateContent", "countTokens"]}
    ], "nextPageToken": "abc"}"#,
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["object"], "list");
    let m = &out["data"][0];
    assert_eq!(m["id"], "gemini-2.0-flash");
    assert_eq!(m["owned_by"], "google");
    assert_eq!(m["inputTokenLimit"], 1048576);
    assert_eq!(m["displayName"], "Gemini 2.0 Flash");
    assert_eq!(
        vertex().models_request("https://v").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}
