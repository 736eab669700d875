//! Model routing, exposed so JS resolves a model once and picks the right client.

use napi_derive::napi;
use switchyard_core::routing::{self, ProviderProfile, ProviderSettings};

use crate::errors::{outcome, CallLabel, Outcome};

/// Where a model name leads.
#[napi(object)]
pub struct BindingResolvedModel {
    /// The provider id (LiteLLM's prefix): `openai`, `anthropic`, `gemini`, …
    pub provider: String,
    /// The model id as the provider expects it.
    pub model: String,
    /// The endpoint, from the environment or the provider's default; absent when neither gives
    /// one (Azure without AZURE_API_BASE).
    pub base_url: Option<String>,
    /// Whether an API key was found in the environment.
    pub has_api_key: bool,
    /// Environment variables read for the key, in order.
    pub api_key_env: Vec<String>,
    /// Environment variables read for the base URL, in order.
    pub base_url_env: Vec<String>,
}

/// One provider Switchyard can reach.
#[napi(object)]
pub struct BindingProviderProfile {
    pub id: String,
    /// The wire format it speaks: `openai`, `azure`, `anthropic`, `gemini`, `bedrock`, `ollama`, `cohere`, `replicate`.
    pub adapter: String,
    pub default_base_url: Option<String>,
    pub api_key_env: Vec<String>,
    pub base_url_env: Vec<String>,
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn adapter_name(profile: &ProviderProfile) -> String {
    format!("{:?}", profile.adapter).to_ascii_lowercase()
}

/// Route a LiteLLM-style model name (`anthropic/claude-…`, `gpt-4o`) to its provider, reading the
/// provider's environment variables now.
#[napi(catch_unwind)]
pub fn resolve_model(model: String) -> Outcome<BindingResolvedModel> {
    let label = CallLabel::new("", model.clone());
    outcome(routing::resolve_model(&model).map(resolved_model), &label)
}

fn resolved_model(resolved: routing::ResolvedModel) -> BindingResolvedModel {
    let profile = resolved.provider;
    let settings = ProviderSettings::default().with_env(profile);
    BindingResolvedModel {
        provider: profile.id.to_string(),
        model: resolved.model,
        base_url: routing::base_url(profile, &settings).ok(),
        has_api_key: settings.api_key.is_some(),
        api_key_env: strings(profile.key_env),
        base_url_env: strings(profile.base_env),
    }
}

/// Every provider id and its defaults.
#[napi]
pub fn list_providers() -> Vec<BindingProviderProfile> {
    routing::PROFILES
        .iter()
        .map(|p| BindingProviderProfile {
            id: p.id.to_string(),
            adapter: adapter_name(p),
            default_base_url: p.default_base_url.map(str::to_string),
            api_key_env: strings(p.key_env),
            base_url_env: strings(p.base_env),
        })
        .collect()
}

/// The provider id a name or alias stands for (`claude` → `anthropic`).
#[napi(catch_unwind)]
pub fn provider_id(name: String) -> Outcome<String> {
    let label = CallLabel::new("", "");
    outcome(
        routing::provider_named(&name).map(|p| p.id.to_string()),
        &label,
    )
}

/// Every alias and the provider id it stands for.
#[napi]
pub fn provider_aliases() -> Vec<Vec<String>> {
    routing::ALIASES
        .iter()
        .map(|(alias, id)| vec![alias.to_string(), id.to_string()])
        .collect()
}
