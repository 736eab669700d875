//! Answers name the model as it was asked for: the stream names none, and a version's prediction
//! names only its `owner/name`.

use serde_json::{json, Value};

use super::super::Replicate;
use super::stream::{decode_transcript_of, TRANSCRIPT};
use super::{wire, SUCCEEDED};
use crate::providers::{ChatProvider, EventOutcome};

const VERSION: &str = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";

#[test]
fn answers_name_the_model_asked_for() {
    let chat = |model: &str, stream: bool| {
        wire(
            &json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
            stream,
        )
        .unwrap()
        .model
    };
    // Every request hands its model on, whichever endpoint it goes to.
    let versioned = format!("acme/llama:{VERSION}");
    for stream in [false, true] {
        assert_eq!(
            chat("meta/meta-llama-3-70b-instruct", stream).as_deref(),
            Some("meta/meta-llama-3-70b-instruct")
        );
        assert_eq!(
            chat(&versioned, stream).as_deref(),
            Some(versioned.as_str())
        );
        assert_eq!(chat(VERSION, stream).as_deref(), Some(VERSION));
    }

    // A whole answer names the model asked for, not the prediction's `owner/name`; without one
    // it keeps the prediction's.
    let model_of = |model: &str| {
        let c = Replicate
            .decode_completion(SUCCEEDED.as_bytes(), model)
            .unwrap();
        serde_json::from_str::<Value>(&c.json).unwrap()["model"].clone()
    };
    assert_eq!(model_of(&versioned), versioned.as_str());
    assert_eq!(model_of(""), "meta/meta-llama-3.1-405b-instruct");

    // Every chunk of a stream names it too.
    let (chunks, _, last) = decode_transcript_of(&versioned, TRANSCRIPT, 11);
    assert_eq!(last.unwrap(), EventOutcome::Done);
    assert_eq!(chunks.len(), 5);
    assert!(
        chunks.iter().all(|c| c["model"] == versioned.as_str()),
        "{chunks:?}"
    );
}
