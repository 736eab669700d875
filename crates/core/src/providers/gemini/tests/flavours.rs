//! Gemini API or Vertex AI: ids, credentials, URLs and model resources.

use serde_json::json;

use super::{gemini, vertex, wire};
use crate::providers::gemini::request::model_resource;
use crate::providers::gemini::Gemini;
use crate::providers::ChatProvider;
use crate::routing::ProviderSettings;

#[test]
fn flavour_comes_from_the_provider_id() {
    let g = Gemini::from_settings(&ProviderSettings::default(), false).unwrap();
    assert!(!g.vertex);
    assert_eq!(g.id(), "gemini");
    let v = Gemini::from_settings(&ProviderSettings::default(), true).unwrap();
    assert_eq!(v.id(), "vertex_ai");
}

#[test]
fn the_key_goes_in_a_header_never_the_url() {
    let mut headers = http::HeaderMap::new();
    gemini().authorize("AIza-secret", &mut headers).unwrap();
    assert_eq!(headers["x-goog-api-key"], "AIza-secret");
    assert!(headers["x-goog-api-key"].is_sensitive());
    assert!(headers.get("authorization").is_none());
    let (url, _) = wire(
        &gemini(),
        json!({"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}),
        true,
    );
    assert_eq!(
        url,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    let mut headers = http::HeaderMap::new();
    vertex().authorize("ya29.token", &mut headers).unwrap();
    assert_eq!(headers["authorization"], "Bearer ya29.token");
}

#[test]
fn urls_per_flavour() {
    let g = gemini();
    assert_eq!(
        g.url("http://h/", "models/m:generateContent"),
        "http://h/v1beta/models/m:generateContent"
    );
    assert_eq!(
        g.url("http://h/v1beta/", "models/m:generateContent"),
        "http://h/v1beta/models/m:generateContent"
    );
    let base = "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google";
    assert_eq!(
        vertex().url(base, "models/gemini-2.5-pro:generateContent"),
        format!("{base}/models/gemini-2.5-pro:generateContent")
    );
    assert_eq!(
        model_resource("tunedModels/my-tune").unwrap(),
        "tunedModels/my-tune"
    );
    assert_eq!(
        model_resource("models/gemini-2.0-flash").unwrap(),
        "models/gemini-2.0-flash"
    );
    assert!(model_resource("gemini?key=x").is_err());
    assert!(model_resource("").is_err());
}
