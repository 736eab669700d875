use serde_json::{json, Value};

use super::super::Replicate;
use super::SUCCEEDED;
use crate::error::{ErrorKind, UpstreamBody};
use crate::providers::test_support::upstream_error;
use crate::providers::ChatProvider;

#[test]
fn a_succeeded_prediction_decodes_with_usage() {
    assert!(Replicate
        .follow_up(SUCCEEDED.as_bytes(), false)
        .unwrap()
        .is_none());
    let c = Replicate
        .decode_completion(SUCCEEDED.as_bytes(), "")
        .unwrap();
    let v: Value = serde_json::from_str(&c.json).unwrap();
    assert_eq!(v["id"], "zjq6szssxdrm20cgw0fsntgvbg");
    assert_eq!(v["model"], "meta/meta-llama-3.1-405b-instruct");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Tina has one brother"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["choices"][0]["provider_finish_reason"], "succeeded");
    assert_eq!(v["usage"]["total_tokens"], 110);
    let u = c.usage.unwrap();
    assert_eq!((u.prompt_tokens, u.completion_tokens), (26, 84));
}

#[test]
fn an_answer_that_used_every_token_is_cut() {
    let body = SUCCEEDED.replace("\"max_tokens\":1024", "\"max_tokens\":84");
    let v: Value = serde_json::from_str(
        &Replicate
            .decode_completion(body.as_bytes(), "")
            .unwrap()
            .json,
    )
    .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    // Without metrics there is no usage and no way to tell.
    let body =
        json!({"id": "p", "status": "succeeded", "output": "plain", "input": {"max_tokens": 1}});
    let c = Replicate
        .decode_completion(body.to_string().as_bytes(), "")
        .unwrap();
    let v: Value = serde_json::from_str(&c.json).unwrap();
    assert_eq!(
        (v["choices"][0]["message"]["content"].as_str(), &v["usage"]),
        (Some("plain"), &Value::Null)
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert!(c.usage.is_none());
}

#[test]
fn failed_predictions_are_typed_errors_keeping_the_prediction() {
    let failed = |error: &str| {
        json!({"id": "p9", "model": "meta/meta-llama-3-8b-instruct", "status": "failed",
               "error": error, "output": null, "logs": "", "urls": {"get": "g"}})
    };
    let cases = [
        ("Input prompt (9001 tokens) is too long and exceeds limit of 8192", ErrorKind::ContextLengthExceeded, false),
        ("The input or output was flagged as sensitive. Please try again with different inputs. (E005)", ErrorKind::ContentFilter, false),
        ("Timeout starting prediction (E6716)", ErrorKind::Overloaded, true),
        ("Prediction interrupted; please retry (code: PA)", ErrorKind::UpstreamError, true),
        ("CUDA out of memory (E1001)", ErrorKind::UpstreamError, false),
    ];
    for (text, kind, retryable) in cases {
        let body = failed(text).to_string();
        // Whether it fails in sync mode, while polling or before a stream.
        for e in [
            Replicate
                .decode_completion(body.as_bytes(), "")
                .unwrap_err(),
            Replicate.follow_up(body.as_bytes(), false).unwrap_err(),
            Replicate.follow_up(body.as_bytes(), true).unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.retryable()), (kind, retryable), "{text}");
            assert_eq!(e.to_string(), text);
            let u = e.upstream().unwrap();
            assert_eq!(u.status, None);
            let UpstreamBody::Json(b) = &u.body else {
                panic!()
            };
            assert_eq!(b["prediction"], failed(text));
        }
    }
    let canceled = json!({"id": "p", "status": "canceled", "error": null});
    let e = Replicate
        .decode_completion(canceled.to_string().as_bytes(), "")
        .unwrap_err();
    assert_eq!(e.to_string(), "the prediction was canceled");
    let e = Replicate.decode_completion(b"<html>", "").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
}

#[test]
fn problem_details_are_classified() {
    let classify = |status: u16, body: Value| {
        let mut u = upstream_error(status, UpstreamBody::Json(body));
        Replicate.classify(&mut u);
        (u.kind, u.retryable)
    };
    assert_eq!(
        classify(
            429,
            json!({"title": "Request was throttled", "detail": "Request was throttled. Expected available in 7 seconds.", "status": 429})
        ),
        (ErrorKind::RateLimited, true)
    );
    assert_eq!(
        classify(
            401,
            json!({"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401})
        ),
        (ErrorKind::Auth, false)
    );
    assert_eq!(
        classify(
            422,
            json!({"detail": "- input.max_tokens: Must be greater than or equal to 1\n", "status": 422, "title": "Input validation failed",
            "invalid_fields": [{"type": "greater_equal", "field": "input.max_tokens", "description": "Must be greater than or equal to 1"}]})
        ),
        (ErrorKind::InvalidRequest, false)
    );
    assert_eq!(
        classify(
            422,
            json!({"detail": "Input prompt (9001 tokens) is too long and exceeds limit of 8192", "status": 422, "title": "Input validation failed"})
        ),
        (ErrorKind::ContextLengthExceeded, false)
    );
    assert_eq!(
        classify(
            503,
            json!({"detail": "The model is overloaded, try again later", "status": 503, "title": "Service Unavailable"})
        ),
        (ErrorKind::Overloaded, true)
    );
    assert_eq!(
        classify(404, json!({"detail": "Not found.", "status": 404})),
        (ErrorKind::NotFound, false)
    );
}
