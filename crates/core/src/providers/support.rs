//! Small pieces several provider adapters share.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::providers::openai::bad_json;
use crate::sse::SseEvent;

/// `prefix` + 16 random hex digits, for ids a provider does not give (completions, calls).
pub(crate) fn random_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", fastrand::u64(..))
}

/// A request the caller must fix.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(message.into())
}

/// A stream event's JSON `data`; `None` for an empty one (a keep-alive).
pub(crate) fn parse_event<'a, T: Deserialize<'a>>(
    event: &'a SseEvent,
    what: &str,
) -> Result<Option<T>, Error> {
    let data = event.data.trim();
    if data.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(data)
        .map(Some)
        .map_err(|e| bad_json(what, e, data.as_bytes()))
}

#[derive(Serialize)]
struct EmbeddingsOut<'a, E> {
    object: &'static str,
    data: Vec<EmbeddingOut<E>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<EmbeddingsUsage>,
}

#[derive(Serialize)]
struct EmbeddingOut<E> {
    object: &'static str,
    index: usize,
    embedding: E,
}

#[derive(Serialize)]
struct EmbeddingsUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// OpenAI's embeddings list. `vectors` are serialized as given, so a `&RawValue` passes the
/// provider's bytes through untouched.
pub(crate) fn embeddings_json<E: Serialize>(
    model: Option<&str>,
    vectors: impl IntoIterator<Item = E>,
    prompt_tokens: Option<u64>,
) -> Result<String, Error> {
    let out = EmbeddingsOut {
        object: "list",
        data: vectors
            .into_iter()
            .enumerate()
            .map(|(index, embedding)| EmbeddingOut {
                object: "embedding",
                index,
                embedding,
            })
            .collect(),
        model,
        usage: prompt_tokens.map(|tokens| EmbeddingsUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        }),
    };
    serde_json::to_string(&out).map_err(|e| Error::Internal(format!("encoding embeddings: {e}")))
}

/// Seconds since the Unix epoch of an RFC 3339 time (`2024-07-23T15:04:21.227000Z`,
/// `…+02:00`). Lenient: any field width, and a missing zone is UTC.
pub(crate) fn rfc3339_unix_seconds(time: &str) -> Option<i64> {
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
