//! The exact-match response cache: keyed on a hash of the normalised request, bounded by a TTL
//! and an LRU size limit. Answers and streams are stored as they were delivered; a stream is
//! replayed as a stream.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::usage::Usage;

/// A stored answer: no credential, only what the caller was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cached {
    Completion {
        json: String,
        usage: Option<Usage>,
    },
    /// The stream's batches (JSON arrays of chunks), in order.
    Stream {
        batches: Vec<String>,
        usage: Option<Usage>,
    },
}

impl Cached {
    /// The usage the answer was given with.
    pub fn usage(&self) -> Option<Usage> {
        match self {
            Cached::Completion { usage, .. } | Cached::Stream { usage, .. } => *usage,
        }
    }
}

/// The SHA-256 of a request: the group, whether it streams, and the body with object keys
/// sorted, so two spellings of one request share an entry. `None` when the body is not JSON.
pub fn cache_key(group: &str, stream: bool, body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut canonical = String::with_capacity(body.len());
    write_canonical(&value, &mut canonical);
    let mut hash = Sha256::new();
    hash.update(group.as_bytes());
    hash.update([0, stream as u8]);
    hash.update(canonical.as_bytes());
    let mut key = String::with_capacity(64);
    for b in hash.finalize() {
        let _ = write!(key, "{b:02x}");
    }
    Some(key)
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map
                .keys()
                // Per-call cache controls and the stream flag are not part of the question.
                .filter(|k| !matches!(k.as_str(), "cache" | "stream" | "stream_options" | "model"))
                .collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_key_order_and_cache_controls_but_not_content() {
        let a = cache_key(
            "g",
            false,
            br#"{"messages":[{"role":"user","content":"hi"}],"temperature":0}"#,
        );
        let b = cache_key("g", false, br#"{"temperature":0,"cache":{"no-store":true},"messages":[{"content":"hi","role":"user"}]}"#);
        assert_eq!(a, b);
        assert_ne!(
            a,
            cache_key(
                "g",
                false,
                br#"{"messages":[{"role":"user","content":"ho"}],"temperature":0}"#
            )
        );
        assert_ne!(
            a,
            cache_key(
                "h",
                false,
                br#"{"messages":[{"role":"user","content":"hi"}],"temperature":0}"#
            )
        );
        assert_ne!(
            a,
            cache_key(
                "g",
                true,
                br#"{"messages":[{"role":"user","content":"hi"}],"temperature":0}"#
            )
        );
        assert_eq!(a.unwrap().len(), 64);
    }
}
