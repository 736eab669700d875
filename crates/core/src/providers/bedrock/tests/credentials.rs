//! Credentials: AWS keys sign with SigV4, a Bedrock API key is a bearer token.

use super::provider;
use crate::error::ErrorKind;
use crate::providers::bedrock::{Auth, Bedrock, EVENT_STREAM};
use crate::providers::ChatProvider;
use crate::routing::ProviderSettings;

#[test]
fn credentials_come_from_keys_or_an_api_key() {
    let err = Bedrock::from_settings(&ProviderSettings::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("AWS credentials"), "{err}");
    let err = Bedrock::from_settings(&ProviderSettings {
        aws_access_key_id: Some("AKID".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("secret access key"), "{err}");
    let keyed = Bedrock::from_settings(&ProviderSettings {
        api_key: Some("bedrock-key".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(keyed.auth, Auth::ApiKey));
    assert_eq!(keyed.region, "us-east-1");
    // An API key goes out as a bearer token, untouched by signing.
    let mut headers = http::HeaderMap::new();
    keyed.authorize("bedrock-key", &mut headers).unwrap();
    let client = reqwest::Client::new();
    let mut req = client
        .post("https://x.test/model/m/converse")
        .headers(headers)
        .body("{}")
        .build()
        .unwrap();
    keyed.sign(&mut req).unwrap();
    assert_eq!(req.headers()["authorization"], "Bearer bedrock-key");
    assert!(req.headers().get("x-amz-date").is_none());
    // Keys sign with SigV4 for the region; the stream's own accept header wins.
    let mut req = client
        .post("https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse-stream")
        .header("accept", "application/json")
        .header("accept", EVENT_STREAM)
        .header("content-type", "application/json")
        .body("{}")
        .build()
        .unwrap();
    provider().sign(&mut req).unwrap();
    let h = req.headers();
    assert_eq!(h.get_all("accept").iter().count(), 1);
    assert_eq!(h["accept"], EVENT_STREAM);
    assert_eq!(h["x-amz-security-token"], "token");
    let auth = h["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="), "{auth}");
}
