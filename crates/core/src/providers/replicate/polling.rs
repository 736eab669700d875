//! What follows a prediction's creation: polling it until it ends (whole answers), or reading
//! its event stream (streams).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT, CACHE_CONTROL};
use http::HeaderValue;

use super::response::prediction_failure;
use super::wire::parse_prediction;
use crate::error::Error;
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

/// Seconds since the Unix epoch of an RFC 3339 time (`2024-07-23T15:04:21.227000Z`).
pub(super) fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> { text.get(from..to)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// How long to wait before polling a prediction again: quick at first, slower as it ages.
pub(super) fn poll_delay(created_at: Option<&str>, now: SystemTime) -> Duration {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ms = match created_at.and_then(parse_rfc3339).map(|t| now - t) {
        None => 500,
        Some(age) if age < 2 => 250,
        Some(age) if age < 10 => 500,
        Some(age) if age < 30 => 1000,
        Some(_) => 2000,
    };
    Duration::from_millis(ms)
}
