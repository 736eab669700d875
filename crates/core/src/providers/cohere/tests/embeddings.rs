//! Embeddings both ways, and the model list.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::ErrorKind;
use crate::providers::cohere::Cohere;
use crate::providers::ChatProvider;

#[test]
fn embeddings_translate_both_ways() {
    let req = Cohere
        .embed_request(
            "https://api.cohere.com",
            Bytes::from(json!({"model": "embed-v4.0", "input": ["alpha", "beta"], "dimensions": 256, "encoding_format": "float"}).to_string()),
        )
        .unwrap();
    assert_eq!(req.url, "https://api.cohere.com/v2/embed");
    let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"model": "embed-v4.0", "texts": ["alpha", "beta"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 256})
    );
    let one = Cohere
        .embed_request(
            "https://api.cohere.com",
            Bytes::from(
                json!({"model": "embed-english-v3.0", "input": "q", "input_type": "search_query"})
                    .to_string(),
            ),
        )
        .unwrap();
    let body: Value = serde_json::from_slice(one.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["texts"], json!(["q"]));
    assert_eq!(body["input_type"], "search_query");
    for bad in [
        json!({"model": "m", "input": [1, 2, 3]}),
        json!({"model": "m", "input": "x", "encoding_format": "base64"}),
        json!({"model": "m", "input": "x", "user": "u"}),
        json!({"model": "m", "input": "x", "truncate": "END"}),
    ] {
        let err = Cohere
            .embed_request("https://api.cohere.com", Bytes::from(bad.to_string()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }

    let out = Cohere
        .decode_embeddings(
            br#"{"id":"da6e531f","embeddings":{"float":[[0.016296387,-0.008354187],[0.1,2e-7]]},"texts":["alpha","beta"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":4}},"response_type":"embeddings_by_type"}"#,
        )
        .unwrap();
    assert_eq!(
        out,
        r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.016296387,-0.008354187]},{"object":"embedding","index":1,"embedding":[0.1,2e-7]}],"usage":{"prompt_tokens":4,"total_tokens":4}}"#
    );
    assert_eq!(
        Cohere
            .decode_embeddings(br#"{"id":"x","embeddings":{}}"#)
            .unwrap_err()
            .kind(),
        ErrorKind::BadResponse
    );
}

#[test]
fn the_model_list_keeps_what_cohere_says() {
    let req = Cohere.models_request("https://api.cohere.com/").unwrap();
    assert_eq!(req.method, http::Method::GET);
    assert_eq!(req.url, "https://api.cohere.com/v1/models?page_size=1000");
    let out: Value = serde_json::from_slice(
        Cohere
            .decode_models(br#"{"models":[{"name":"command-a-03-2025","endpoints":["generate","chat","summarize"],"finetuned":false,"context_length":256000,"tokenizer_url":"https://storage.googleapis.com/cohere-public/tokenizers/command-a-03-2025.json","default_endpoints":["chat"],"features":["tools","json_mode","json_schema"]},{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000}],"next_page_token":""}"#)
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(out["object"], "list");
    let data = out["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], "command-a-03-2025");
    assert_eq!(data[0]["owned_by"], "cohere");
    assert_eq!(data[0]["context_length"], 256000);
    assert_eq!(
        data[0]["features"],
        json!(["tools", "json_mode", "json_schema"])
    );
    assert_eq!(data[1]["endpoints"], json!(["embed"]));
}
