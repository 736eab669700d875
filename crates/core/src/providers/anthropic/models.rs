//! `GET /v1/models` as OpenAI's model list.

use serde_json::{json, Map, Value};

use super::response::in_band_error;
use super::wire::ModelList;
use super::ID;
use crate::error::Error;
use crate::providers::openai::bad_json;

/// Seconds since the epoch of an RFC 3339 time (`2025-02-19T00:00:00Z`), as OpenAI's `created`.
pub(super) fn unix_seconds(time: &str) -> Option<i64> {
    let num = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = time.split_once(['T', 't', ' '])?;
    let mut ymd = date.splitn(3, '-');
    let (y, m, d) = (num(ymd.next()?)?, num(ymd.next()?)?, num(ymd.next()?)?);
    let clock_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let mut hms = rest[..clock_end].splitn(3, ':');
    let (h, mi, s) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
    let zone = rest[clock_end..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (zh, zm) = zone.get(1..)?.split_once(':')?;
            sign * (num(zh)? * 3600 + num(zm)? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// `GET /v1/models` as OpenAI's model list, each entry keeping Anthropic's fields
/// (`display_name`, `created_at`, `max_input_tokens`, `capabilities`, …).
pub(super) fn decode_model_list(body: &[u8]) -> Result<String, Error> {
    let parsed: ModelList =
        serde_json::from_slice(body).map_err(|e| bad_json("the model list", e, body))?;
    if parsed.kind.as_deref() == Some("error") {
        return Err(in_band_error(
            serde_json::from_slice(body).unwrap_or_default(),
        ));
    }
    let data = parsed
        .data
        .ok_or_else(|| Error::BadResponse("the model list has no data".into()))?;
    let models: Vec<Value> = data
        .into_iter()
        .map(|mut model| {
            let mut out = Map::new();
            out.insert("id".into(), model.remove("id").unwrap_or_default());
            out.insert("object".into(), "model".into());
            let created = model
                .get("created_at")
                .and_then(Value::as_str)
                .and_then(unix_seconds);
            out.insert("created".into(), created.map_or(Value::Null, Value::from));
            out.insert("owned_by".into(), ID.into());
            out.extend(model);
            Value::Object(out)
        })
        .collect();
    Ok(json!({ "object": "list", "data": models }).to_string())
}
