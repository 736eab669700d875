//! What follows a prediction's creation: polling it until it ends (whole answers), or reading
//! its event stream (streams).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT, CACHE_CONTROL};
use http::HeaderValue;

use super::response::prediction_failure;
use super::wire::parse_prediction;
use crate::error::Error;
use crate::providers::support::rfc3339_unix_seconds;
use crate::providers::{FollowUp, WireRequest};

/// The request after a prediction's `response`: its stream, a poll, or none once it has ended.
pub(super) fn follow_up(response: &[u8], stream: bool) -> Result<Option<FollowUp>, Error> {
    let p = parse_prediction(response)?;
    if matches!(p.status.as_str(), "failed" | "canceled" | "aborted") {
        return Err(prediction_failure(&p, response));
    }
    let urls = p.urls.as_ref();
    if stream {
        let Some(url) = urls.and_then(|u| u.stream.clone()) else {
            return Err(Error::InvalidInput(format!(
                "replicate model {} does not stream (its prediction {} has no stream URL): call it without stream",
                p.model, p.id
            )));
        };
        let mut request = WireRequest::get(url);
        request
            .headers
            .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        request
            .headers
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(Some(FollowUp {
            request,
            after: Duration::ZERO,
        }));
    }
    if !matches!(p.status.as_str(), "starting" | "processing") {
        return Ok(None);
    }
    let Some(url) = urls.and_then(|u| u.get.clone()) else {
        return Err(Error::BadResponse(format!(
            "prediction {} is {} but has no URL to poll",
            p.id, p.status
        )));
    };
    Ok(Some(FollowUp {
        request: WireRequest::get(url),
        after: poll_delay(p.created_at.as_deref(), SystemTime::now()),
    }))
}

/// How long to wait before polling a prediction again: quick at first, slower as it ages.
pub(super) fn poll_delay(created_at: Option<&str>, now: SystemTime) -> Duration {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ms = match created_at.and_then(rfc3339_unix_seconds).map(|t| now - t) {
        None => 500,
        Some(age) if age < 2 => 250,
        Some(age) if age < 10 => 500,
        Some(age) if age < 30 => 1000,
        Some(_) => 2000,
    };
    Duration::from_millis(ms)
}
