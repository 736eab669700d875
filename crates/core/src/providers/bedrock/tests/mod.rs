//! Bedrock's tests, by topic: request translation, whole answers and errors, streams,
//! credentials and signing, embeddings.

mod credentials;
mod embed;
mod request;
mod response;
mod stream;

use serde_json::Value;

use super::Bedrock;
use crate::routing::ProviderSettings;

fn provider() -> Bedrock {
    Bedrock::from_settings(&ProviderSettings {
        region: Some("eu-west-1".into()),
        aws_access_key_id: Some("AKIDEXAMPLE".into()),
        aws_secret_access_key: Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
        aws_session_token: Some("token".into()),
        ..Default::default()
    })
    .unwrap()
}

fn without_volatile(mut v: Value) -> Value {
    let strip = |v: &mut Value| {
        if let Some(o) = v.as_object_mut() {
            o.remove("id");
            o.remove("created");
        }
    };
    if let Some(items) = v.as_array_mut() {
        items.iter_mut().for_each(strip);
    } else {
        strip(&mut v);
    }
    v
}
