use std::time::{Duration, UNIX_EPOCH};

use http::header::{ACCEPT, CACHE_CONTROL};
use serde_json::json;

use super::super::polling::poll_delay;
use super::super::Replicate;
use super::SUCCEEDED;
use crate::error::ErrorKind;
use crate::providers::support::rfc3339_unix_seconds as parse_rfc3339;
use crate::providers::ChatProvider;

#[test]
fn unfinished_predictions_are_polled() {
    let body = |created: &str| {
        json!({"id": "p1", "status": "processing", "created_at": created,
               "urls": {"get": "https://api.replicate.com/v1/predictions/p1",
                        "cancel": "https://api.replicate.com/v1/predictions/p1/cancel"}})
        .to_string()
    };
    let next = Replicate
        .follow_up(body("2024-07-23T15:04:21.227Z").as_bytes(), false)
        .unwrap()
        .unwrap();
    assert_eq!(next.request.method, http::Method::GET);
    assert_eq!(
        next.request.url,
        "https://api.replicate.com/v1/predictions/p1"
    );
    assert!(next.request.body.is_none());
    // An old prediction is polled slowly.
    assert_eq!(next.after, Duration::from_secs(2));
    let e = Replicate
        .follow_up(br#"{"id":"p","status":"starting"}"#, false)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
    let e = Replicate
        .decode_completion(body("x").as_bytes(), "")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadResponse);
}

#[test]
fn poll_delays_grow_with_age() {
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    let created = "2024-07-23T15:04:21.227000Z";
    let t = parse_rfc3339(created).unwrap();
    assert_eq!(t, 1_721_747_061);
    assert_eq!(parse_rfc3339("2024-07-23T17:04:21+02:00"), Some(t));
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
    assert_eq!(parse_rfc3339("yesterday"), None);
    let t = t as u64;
    let delay = |now| poll_delay(Some(created), at(now)).as_millis();
    assert_eq!(
        [delay(t), delay(t + 5), delay(t + 20), delay(t + 90)],
        [250, 500, 1000, 2000]
    );
    assert_eq!(poll_delay(None, at(t)).as_millis(), 500);
}

#[test]
fn a_stream_is_read_from_its_stream_url() {
    let next = Replicate
        .follow_up(SUCCEEDED.as_bytes(), true)
        .unwrap()
        .unwrap();
    assert_eq!(next.after, Duration::ZERO);
    assert_eq!(
        next.request.url,
        "https://stream.replicate.com/v1/files/bcwr-3okdfv3o2wehstv5f2okyftwxy57hhypqsi6osiim5iaq5yebbvq"
    );
    assert_eq!(next.request.headers[ACCEPT], "text/event-stream");
    assert_eq!(next.request.headers[CACHE_CONTROL], "no-store");
    let e = Replicate
        .follow_up(
            br#"{"id":"p","model":"a/b","status":"starting","urls":{"get":"g"}}"#,
            true,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("does not stream"));
}

#[test]
fn the_stream_accept_header_replaces_the_default() {
    let client = reqwest::Client::new();
    let mut req = client
        .get("https://stream.replicate.com/v1/files/x")
        .header(ACCEPT, "application/json")
        .header(ACCEPT, "text/event-stream")
        .build()
        .unwrap();
    Replicate.sign(&mut req).unwrap();
    let accepts: Vec<_> = req.headers().get_all(ACCEPT).iter().collect();
    assert_eq!(accepts, ["text/event-stream"]);
    let mut req = client
        .post("https://api.replicate.com/v1/predictions")
        .header(ACCEPT, "application/json")
        .build()
        .unwrap();
    Replicate.sign(&mut req).unwrap();
    assert_eq!(req.headers()[ACCEPT], "application/json");
}
