//! A call's request body as each deployment gets it: the deployment's model in place of the
//! group's name.

use std::fmt;
use std::sync::LazyLock;

use bytes::Bytes;
use memchr::memmem::Finder;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The request body with the deployment's model in place of the group's, first. A leading
/// `model` member (as JS writes it) is cut out of the text; when `"model"` appears further in,
/// the top-level members are read (their values left unparsed) so the upstream never sees two.
pub(super) fn with_model(body: &[u8], model: &str) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + model.len() + 16);
    out.extend_from_slice(b"{\"model\":");
    // A string always serialises.
    let _ = serde_json::to_writer(&mut out, model);
    let rest = after_leading_model(body);
    // Built once: building a searcher costs more than searching a request.
    static MODEL_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"model\""));
    if MODEL_KEY.find(rest).is_some() {
        if let Ok(Members(members)) = serde_json::from_slice::<Members>(body) {
            for (key, value) in members.iter().filter(|(key, _)| key != "model") {
                out.push(b',');
                let _ = serde_json::to_writer(&mut out, key);
                out.push(b':');
                out.extend_from_slice(value.get().as_bytes());
            }
            out.push(b'}');
            return Bytes::from(out);
        }
    }
    if rest != b"}" {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    // A boxed slice becomes `Bytes` as it is; a `Vec` with room to spare costs one more allocation.
    Bytes::from(out.into_boxed_slice())
}

/// `body`'s members after its opening brace and a leading `model` member, if it has one.
fn after_leading_model(body: &[u8]) -> &[u8] {
    let rest = body.trim_ascii_start();
    let rest = rest.strip_prefix(b"{").unwrap_or(rest).trim_ascii_start();
    let Some(value) = rest
        .strip_prefix(b"\"model\"")
        .and_then(|after| after.trim_ascii_start().strip_prefix(b":"))
    else {
        return rest;
    };
    let mut values = serde_json::Deserializer::from_slice(value).into_iter::<IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => {
            let tail = value[values.byte_offset()..].trim_ascii_start();
            tail.strip_prefix(b",").unwrap_or(tail).trim_ascii_start()
        }
        _ => rest,
    }
}

/// A JSON object's top-level members in order, their values as they were written.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_model_goes_first_in_the_body() {
        assert_eq!(
            &with_model(br#"{"messages":[]}"#, "gpt-4o")[..],
            br#"{"model":"gpt-4o","messages":[]}"#
        );
        assert_eq!(&with_model(b"{}", "m\"x")[..], br#"{"model":"m\"x"}"#);
        assert_eq!(
            &with_model(b" { \"a\":1}", "m")[..],
            br#"{"model":"m","a":1}"#
        );
        assert_eq!(
            &with_model(br#"{"model":"group","messages":[]}"#, "dep")[..],
            br#"{"model":"dep","messages":[]}"#,
            "the group's model is replaced"
        );
        assert_eq!(
            &with_model(br#"{"model":"group"}"#, "dep")[..],
            br#"{"model":"dep"}"#
        );
        assert_eq!(
            &with_model(br#"{"messages":[],"model":"group","n":1}"#, "dep")[..],
            br#"{"model":"dep","messages":[],"n":1}"#,
            "a model further in is dropped, not sent twice"
        );
        assert_eq!(
            &with_model(br#"{"messages":[{"role":"model"}]}"#, "dep")[..],
            br#"{"model":"dep","messages":[{"role":"model"}]}"#,
            "a string that says model is no member"
        );
        assert_eq!(
            &with_model(
                br#"{"messages": [1] , "model" : "g", "a\"b": {"c": 2}}"#,
                "dep"
            )[..],
            br#"{"model":"dep","messages":[1],"a\"b":{"c": 2}}"#,
            "values go as written, keys escaped again"
        );
        assert_eq!(
            &with_model(br#"{"model":"group","model":"again"}"#, "dep")[..],
            br#"{"model":"dep"}"#
        );
    }
}
