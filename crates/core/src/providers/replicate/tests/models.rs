use bytes::Bytes;
use serde_json::Value;

use super::super::Replicate;
use crate::error::ErrorKind;
use crate::providers::ChatProvider;

#[test]
fn models_become_owner_slash_name() {
    let body = br#"{"next":"https://api.replicate.com/v1/models?cursor=cD0yMDI0","previous":null,"results":[{"url":"https://replicate.com/meta/meta-llama-3-70b-instruct","owner":"meta","name":"meta-llama-3-70b-instruct","description":"A 70 billion parameter language model from Meta, fine tuned for chat completions","visibility":"public","github_url":null,"paper_url":null,"license_url":"https://github.com/meta-llama/llama3/blob/main/LICENSE","run_count":160000000,"cover_image_url":null,"default_example":null,"latest_version":null}]}"#;
    let w = Replicate
        .models_request("https://api.replicate.com/v1")
        .unwrap();
    assert_eq!(
        (w.method, w.url.as_str()),
        (http::Method::GET, "https://api.replicate.com/v1/models")
    );
    let v: Value = serde_json::from_str(&Replicate.decode_models(body).unwrap()).unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(
        v["next"],
        "https://api.replicate.com/v1/models?cursor=cD0yMDI0"
    );
    let m = &v["data"][0];
    assert_eq!(m["id"], "meta/meta-llama-3-70b-instruct");
    assert_eq!(m["owned_by"], "meta");
    assert_eq!(m["object"], "model");
    assert_eq!(m["run_count"], 160000000);
    assert!(m["description"]
        .as_str()
        .unwrap()
        .starts_with("A 70 billion"));
    assert_eq!(
        Replicate
            .embed_request("https://x", Bytes::new())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}
