//! Titan and Cohere embeddings over InvokeModel.

use bytes::Bytes;
use serde_json::{json, Value};

use super::provider;
use crate::error::{Error, ErrorKind};
use crate::providers::ChatProvider;

fn embed(body: Value) -> Result<(String, Value), Error> {
    let wire = provider().embed_request("https://rt.test", Bytes::from(body.to_string()))?;
    Ok((
        wire.url,
        serde_json::from_slice(wire.body.as_deref().unwrap()).unwrap(),
    ))
}

#[test]
fn embeddings_use_titan_or_cohere_bodies() {
    assert_eq!(
        embed(json!({"model": "amazon.titan-embed-text-v2:0", "input": "hello", "dimensions": 512, "encoding_format": "float"})).unwrap(),
        ("https://rt.test/model/amazon.titan-embed-text-v2%3A0/invoke".to_string(), json!({"inputText": "hello", "dimensions": 512}))
    );
    assert_eq!(
        embed(json!({"model": "amazon.titan-embed-text-v1", "input": ["one"]}))
            .unwrap()
            .1,
        json!({"inputText": "one"})
    );
    assert_eq!(
        embed(json!({"model": "cohere.embed-english-v3", "input": ["a", "b"]})).unwrap(),
        (
            "https://rt.test/model/cohere.embed-english-v3/invoke".to_string(),
            json!({"texts": ["a", "b"], "input_type": "search_document"})
        )
    );
    assert_eq!(
        embed(json!({"model": "us.cohere.embed-v4:0", "input": "q", "input_type": "search_query", "dimensions": 256})).unwrap().1,
        json!({"texts": ["q"], "input_type": "search_query", "output_dimension": 256})
    );
    let refused = |body: Value| {
        let e = embed(body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        e.to_string()
    };
    assert!(
        refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": ["a", "b"]}))
            .contains("one input per request")
    );
    assert!(
        refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "user": "u"}))
            .contains("user")
    );
    assert!(refused(
        json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "encoding_format": "base64"})
    )
    .contains("base64"));
    assert!(refused(
        json!({"model": "amazon.titan-embed-text-v2:0", "input": "a", "input_type": "search_query"})
    )
    .contains("input_type"));
    assert!(
        refused(json!({"model": "amazon.titan-embed-text-v2:0", "input": [[1, 2]]}))
            .contains("token ids")
    );
    assert!(
        refused(json!({"model": "cohere.embed-english-v3", "input": "a", "dimensions": 256}))
            .contains("dimensions")
    );
    assert!(
        refused(json!({"model": "amazon.nova-lite-v1:0", "input": "a"})).contains("titan-embed")
    );
}

#[test]
fn embeddings_answers_become_openai_lists() {
    let titan = provider()
        .decode_embeddings(br#"{"embedding":[0.1,-0.2],"inputTextTokenCount":4,"embeddingsByType":{"float":[0.1,-0.2]}}"#)
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&titan).unwrap(),
        json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}], "usage": {"prompt_tokens": 4, "total_tokens": 4}})
    );
    let cohere = provider()
        .decode_embeddings(br#"{"embeddings":[[0.1],[0.2]],"id":"e1","response_type":"embeddings_floats","texts":["a","b"]}"#)
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&cohere).unwrap(),
        json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}, {"object": "embedding", "index": 1, "embedding": [0.2]}]})
    );
    let by_type = provider()
        .decode_embeddings(
            br#"{"embeddings":{"float":[[0.3]]},"id":"e2","response_type":"embeddings_by_type"}"#,
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&by_type).unwrap()["data"][0]["embedding"],
        json!([0.3])
    );
    for bad in [&b"nope"[..], br#"{"embeddings":{"int8":[[1]]}}"#] {
        assert_eq!(
            provider().decode_embeddings(bad).unwrap_err().kind(),
            ErrorKind::BadResponse
        );
    }
    // The model list lives on another host (bedrock, not bedrock-runtime).
    assert_eq!(
        provider()
            .models_request("https://rt.test")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
