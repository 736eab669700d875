//! Model names → providers, the way LiteLLM users write them (`anthropic/claude-…`, `gpt-4o`),
//! and each provider's credentials and base URL from code or the environment.

use crate::client::ClientConfig;
use crate::error::Error;
use crate::providers::{
    anthropic, azure, bedrock, cohere, gemini, ollama, openai, replicate, Provider,
};

/// Which adapter a provider id uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    OpenAi,
    Azure,
    Anthropic,
    Gemini,
    Bedrock,
    Ollama,
    Cohere,
    Replicate,
}

/// One provider id (LiteLLM's prefix) and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderProfile {
    pub id: &'static str,
    pub adapter: Adapter,
    /// `None` where there is no public default (Azure: every resource has its own).
    pub default_base_url: Option<&'static str>,
    /// Environment variables holding the API key, first set wins.
    pub key_env: &'static [&'static str],
    /// Environment variables overriding the base URL, first set wins.
    pub base_env: &'static [&'static str],
}

const fn profile(
    id: &'static str,
    adapter: Adapter,
    default_base_url: Option<&'static str>,
    key_env: &'static [&'static str],
    base_env: &'static [&'static str],
) -> ProviderProfile {
    ProviderProfile {
        id,
        adapter,
        default_base_url,
        key_env,
        base_env,
    }
}

use Adapter as A;

/// Every provider id Switchyard routes to.
pub const PROFILES: &[ProviderProfile] = &[
    profile(
        "openai",
        A::OpenAi,
        Some("https://api.openai.com/v1"),
        &["OPENAI_API_KEY"],
        &["OPENAI_API_BASE", "OPENAI_BASE_URL"],
    ),
    profile(
        "azure",
        A::Azure,
        None,
        &["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"],
        &["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"],
    ),
    profile(
        "anthropic",
        A::Anthropic,
        Some("https://api.anthropic.com"),
        &["ANTHROPIC_API_KEY"],
        &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"],
    ),
    profile(
        "gemini",
        A::Gemini,
        Some("https://generativelanguage.googleapis.com"),
        &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        &["GEMINI_API_BASE"],
    ),
    profile(
        "vertex_ai",
        A::Gemini,
        None,
        &["VERTEXAI_ACCESS_TOKEN", "VERTEX_AI_ACCESS_TOKEN"],
        &["VERTEXAI_API_BASE", "VERTEX_AI_API_BASE"],
    ),
    profile(
        "bedrock",
        A::Bedrock,
        None,
        &["AWS_BEARER_TOKEN_BEDROCK"],
        &["BEDROCK_API_BASE"],
    ),
    profile(
        "ollama",
        A::Ollama,
        Some("http://localhost:11434"),
        &["OLLAMA_API_KEY"],
        &["OLLAMA_API_BASE", "OLLAMA_BASE_URL", "OLLAMA_HOST"],
    ),
    profile(
        "llamacpp",
        A::OpenAi,
        Some("http://localhost:8080/v1"),
        &["LLAMACPP_API_KEY"],
        &["LLAMACPP_API_BASE"],
    ),
    profile(
        "openrouter",
        A::OpenAi,
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_KEY"],
        &["OPENROUTER_API_BASE"],
    ),
    profile(
        "groq",
        A::OpenAi,
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_KEY"],
        &["GROQ_API_BASE"],
    ),
    profile(
        "together_ai",
        A::OpenAi,
        Some("https://api.together.xyz/v1"),
        &[
            "TOGETHER_API_KEY",
            "TOGETHERAI_API_KEY",
            "TOGETHER_AI_API_KEY",
        ],
        &["TOGETHER_AI_API_BASE", "TOGETHER_API_BASE"],
    ),
    profile(
        "cohere",
        A::Cohere,
        Some("https://api.cohere.com"),
        &["COHERE_API_KEY", "CO_API_KEY"],
        &["COHERE_API_BASE"],
    ),
    profile(
        "replicate",
        A::Replicate,
        Some("https://api.replicate.com/v1"),
        &["REPLICATE_API_KEY", "REPLICATE_API_TOKEN"],
        &["REPLICATE_API_BASE"],
    ),
    profile(
        "huggingface",
        A::OpenAi,
        Some("https://router.huggingface.co/v1"),
        &["HUGGINGFACE_API_KEY", "HF_TOKEN"],
        &["HUGGINGFACE_API_BASE"],
    ),
    profile(
        "mistral",
        A::OpenAi,
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_API_KEY"],
        &["MISTRAL_API_BASE"],
    ),
    profile(
        "deepseek",
        A::OpenAi,
        Some("https://api.deepseek.com/v1"),
        &["DEEPSEEK_API_KEY"],
        &["DEEPSEEK_API_BASE"],
    ),
    profile(
        "xai",
        A::OpenAi,
        Some("https://api.x.ai/v1"),
        &["XAI_API_KEY"],
        &["XAI_API_BASE"],
    ),
    profile(
        "fireworks_ai",
        A::OpenAi,
        Some("https://api.fireworks.ai/inference/v1"),
        &["FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"],
        &["FIREWORKS_AI_API_BASE", "FIREWORKS_API_BASE"],
    ),
    profile(
        "perplexity",
        A::OpenAi,
        Some("https://api.perplexity.ai"),
        &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
        &["PERPLEXITY_API_BASE", "PERPLEXITYAI_API_BASE"],
    ),
];

/// The profile of a provider id.
pub fn profile_of(id: &str) -> Option<&'static ProviderProfile> {
    PROFILES.iter().find(|p| p.id == id)
}

/// Names people use for providers, with the id each stands for.
pub const ALIASES: &[(&str, &str)] = &[
    ("gpt", "openai"),
    ("chatgpt", "openai"),
    ("claude", "anthropic"),
    ("google", "gemini"),
    ("vertex", "vertex_ai"),
    ("vertexai", "vertex_ai"),
    ("aws", "bedrock"),
    ("llama.cpp", "llamacpp"),
    ("llama-cpp", "llamacpp"),
    ("llama_cpp", "llamacpp"),
    ("together", "together_ai"),
    ("togetherai", "together_ai"),
    ("hf", "huggingface"),
    ("hugging_face", "huggingface"),
    ("grok", "xai"),
    ("fireworks", "fireworks_ai"),
    ("pplx", "perplexity"),
    ("azure_openai", "azure"),
    ("azure-openai", "azure"),
];

/// The provider a name or alias (any case, surrounding space ignored) stands for.
pub fn provider_named(name: &str) -> Result<&'static ProviderProfile, Error> {
    let key = name.trim().to_ascii_lowercase();
    let id = ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key.as_str(), |(_, id)| id);
    profile_of(id).ok_or_else(|| {
        let ids: Vec<&str> = PROFILES.iter().map(|p| p.id).collect();
        Error::InvalidInput(format!(
            "unknown provider {name:?}: use one of {}",
            ids.join(", ")
        ))
    })
}

/// A model name resolved to its provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel {
    pub provider: &'static ProviderProfile,
    /// The model id as the provider expects it (prefix removed).
    pub model: String,
}

/// Route `model` by prefix (`anthropic/claude-…`) or by its bare name (`gpt-*`, `o1`/`o3`/`o4*`
/// → OpenAI, `claude-*` → Anthropic, `gemini-*` → Gemini, `command*` → Cohere).
pub fn resolve_model(model: &str) -> Result<ResolvedModel, Error> {
    if let Some((prefix, rest)) = model.split_once('/') {
        if let Some(provider) = profile_of(prefix) {
            if rest.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "model {model:?} names no model after the provider"
                )));
            }
            return Ok(ResolvedModel {
                provider,
                model: rest.to_string(),
            });
        }
    }
    let bare_provider = if model.starts_with("gpt-")
        || model.starts_with("chatgpt-")
        || model.starts_with("text-embedding-")
        || ["o1", "o3", "o4"]
            .iter()
            .any(|p| model == *p || model.starts_with(&format!("{p}-")))
    {
        "openai"
    } else if model.starts_with("claude-") {
        "anthropic"
    } else if model.starts_with("gemini-") {
        "gemini"
    } else if model.starts_with("command") {
        "cohere"
    } else {
        return Err(Error::InvalidInput(format!(
            "cannot tell which provider serves {model:?}: write it as provider/model (openai/, anthropic/, gemini/, ollama/, …)"
        )));
    };
    Ok(ResolvedModel {
        provider: profile_of(bare_provider).expect("bare providers are in PROFILES"),
        model: model.to_string(),
    })
}

/// What it takes to reach one provider. Unset fields come from the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderSettings {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    /// Azure's `api-version`.
    pub api_version: Option<String>,
    /// Bedrock's region; Vertex AI's location.
    pub region: Option<String>,
    /// Vertex AI's project.
    pub project: Option<String>,
    pub aws_access_key_id: Option<String>,
    pub aws_secret_access_key: Option<String>,
    pub aws_session_token: Option<String>,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Environment values are sometimes bare `host[:port]` (Ollama documents `OLLAMA_HOST` that way):
/// give them `http://` and, for Ollama, its default port.
fn with_scheme(profile: &ProviderProfile, url: String) -> String {
    if url.contains("://") {
        return url;
    }
    let has_port = url
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    if profile.adapter == Adapter::Ollama && !has_port {
        format!("http://{url}:11434")
    } else {
        format!("http://{url}")
    }
}

impl ProviderSettings {
    /// Fill unset fields from `profile`'s environment variables (read now, at call time).
    pub fn with_env(mut self, profile: &ProviderProfile) -> Self {
        self.api_key = self.api_key.or_else(|| env_first(profile.key_env));
        self.base_url = self
            .base_url
            .or_else(|| env_first(profile.base_env).map(|url| with_scheme(profile, url)));
        match profile.adapter {
            Adapter::Azure => {
                self.api_version = self.api_version.or_else(|| {
                    env_first(&[
                        "AZURE_API_VERSION",
                        "OPENAI_API_VERSION",
                        "AZURE_OPENAI_API_VERSION",
                    ])
                });
            }
            Adapter::Bedrock => {
                self.region = self.region.or_else(|| {
                    env_first(&["AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"])
                });
                self.aws_access_key_id = self
                    .aws_access_key_id
                    .or_else(|| env_first(&["AWS_ACCESS_KEY_ID"]));
                self.aws_secret_access_key = self
                    .aws_secret_access_key
                    .or_else(|| env_first(&["AWS_SECRET_ACCESS_KEY"]));
                self.aws_session_token = self
                    .aws_session_token
                    .or_else(|| env_first(&["AWS_SESSION_TOKEN"]));
            }
            Adapter::Gemini if profile.id == "vertex_ai" => {
                self.project = self.project.or_else(|| {
                    env_first(&["VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"])
                });
                self.region = self.region.or_else(|| {
                    env_first(&[
                        "VERTEXAI_LOCATION",
                        "VERTEX_LOCATION",
                        "GOOGLE_CLOUD_LOCATION",
                    ])
                });
            }
            _ => {}
        }
        self
    }

    /// Every secret, for scrubbing error text.
    pub fn secrets(&self) -> Vec<String> {
        [
            &self.api_key,
            &self.aws_secret_access_key,
            &self.aws_session_token,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }
}

/// The base URL a provider uses with these settings.
pub fn base_url(profile: &ProviderProfile, settings: &ProviderSettings) -> Result<String, Error> {
    if let Some(url) = &settings.base_url {
        return Ok(url.clone());
    }
    match (profile.adapter, profile.default_base_url) {
        (_, Some(url)) => Ok(url.to_string()),
        (Adapter::Bedrock, None) => {
            let region = settings.region.as_deref().unwrap_or("us-east-1");
            Ok(format!("https://bedrock-runtime.{region}.amazonaws.com"))
        }
        (Adapter::Gemini, None) => {
            let (Some(project), Some(location)) = (&settings.project, &settings.region) else {
                return Err(Error::InvalidInput(
                    "vertex_ai needs a project and location (VERTEXAI_PROJECT, VERTEXAI_LOCATION) or a base URL".into(),
                ));
            };
            Ok(format!(
                "https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google"
            ))
        }
        _ => Err(Error::InvalidInput(format!(
            "{} needs a base URL: set {} or pass baseURL",
            profile.id,
            profile.base_env.join(" or ")
        ))),
    }
}

/// The client configuration for provider `id` with `settings`, unset fields read from its
/// environment variables now.
pub fn provider_client_config(id: &str, settings: ProviderSettings) -> Result<ClientConfig, Error> {
    let profile =
        profile_of(id).ok_or_else(|| Error::InvalidInput(format!("unknown provider {id:?}")))?;
    let settings = settings.with_env(profile);
    let mut config = ClientConfig::new(
        build_provider(profile, &settings)?,
        base_url(profile, &settings)?,
    );
    config.secrets = settings.secrets();
    config.api_key = settings.api_key;
    Ok(config)
}

/// The adapter for a provider with these settings.
pub fn build_provider(
    profile: &ProviderProfile,
    settings: &ProviderSettings,
) -> Result<Provider, Error> {
    Ok(match profile.adapter {
        Adapter::OpenAi => Provider::OpenAi(openai::OpenAi { id: profile.id }),
        Adapter::Azure => Provider::Azure(azure::Azure::from_settings(settings)?),
        Adapter::Anthropic => Provider::Anthropic(anthropic::Anthropic::from_settings(settings)?),
        Adapter::Gemini => Provider::Gemini(gemini::Gemini::from_settings(
            settings,
            profile.id == "vertex_ai",
        )?),
        Adapter::Bedrock => Provider::Bedrock(bedrock::Bedrock::from_settings(settings)?),
        Adapter::Ollama => Provider::Ollama(ollama::Ollama::from_settings(settings)?),
        Adapter::Cohere => Provider::Cohere(cohere::Cohere::from_settings(settings)?),
        Adapter::Replicate => Provider::Replicate(replicate::Replicate::from_settings(settings)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_name_providers() {
        assert_eq!(provider_named(" Claude ").unwrap().id, "anthropic");
        assert_eq!(provider_named("llama.cpp").unwrap().id, "llamacpp");
        assert_eq!(provider_named("openai").unwrap().id, "openai");
        assert!(provider_named("nope").is_err());
        for (alias, id) in ALIASES {
            assert!(profile_of(id).is_some(), "{alias} → {id}");
            assert!(profile_of(alias).is_none(), "{alias} shadows an id");
        }
    }

    #[test]
    fn prefixes_and_bare_names_route_like_litellm() {
        let table = [
            ("gpt-4o", "openai", "gpt-4o"),
            ("o1", "openai", "o1"),
            ("o3-mini", "openai", "o3-mini"),
            ("o4-mini-2025-04-16", "openai", "o4-mini-2025-04-16"),
            (
                "claude-3-5-sonnet-20241022",
                "anthropic",
                "claude-3-5-sonnet-20241022",
            ),
            ("gemini-1.5-pro", "gemini", "gemini-1.5-pro"),
            (
                "anthropic/claude-3-5-sonnet-20241022",
                "anthropic",
                "claude-3-5-sonnet-20241022",
            ),
            (
                "openrouter/anthropic/claude-3.5-sonnet",
                "openrouter",
                "anthropic/claude-3.5-sonnet",
            ),
            (
                "bedrock/anthropic.claude-3-sonnet-20240229-v1:0",
                "bedrock",
                "anthropic.claude-3-sonnet-20240229-v1:0",
            ),
            (
                "huggingface/meta-llama/Llama-3.1-8B-Instruct",
                "huggingface",
                "meta-llama/Llama-3.1-8B-Instruct",
            ),
            ("ollama/llama3.1", "ollama", "llama3.1"),
            (
                "together_ai/meta-llama/Llama-3-70b-chat-hf",
                "together_ai",
                "meta-llama/Llama-3-70b-chat-hf",
            ),
            ("azure/my-gpt4o-deployment", "azure", "my-gpt4o-deployment"),
            ("vertex_ai/gemini-1.5-pro", "vertex_ai", "gemini-1.5-pro"),
            ("command-r-plus", "cohere", "command-r-plus"),
        ];
        for (model, provider, id) in table {
            let r = resolve_model(model).unwrap();
            assert_eq!((r.provider.id, r.model.as_str()), (provider, id), "{model}");
        }
        for bad in ["llama-3-70b", "mystery/model", "anthropic/", "o1x"] {
            assert!(resolve_model(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bare_hosts_from_the_environment_get_a_scheme() {
        let ollama = profile_of("ollama").unwrap();
        let groq = profile_of("groq").unwrap();
        assert_eq!(
            with_scheme(ollama, "127.0.0.1:11434".into()),
            "http://127.0.0.1:11434"
        );
        assert_eq!(
            with_scheme(ollama, "0.0.0.0".into()),
            "http://0.0.0.0:11434"
        );
        assert_eq!(
            with_scheme(ollama, "https://ollama.example".into()),
            "https://ollama.example"
        );
        assert_eq!(
            with_scheme(groq, "proxy.internal:8080".into()),
            "http://proxy.internal:8080"
        );
    }

    #[test]
    fn every_profile_has_a_unique_id_and_the_documented_base_env() {
        for (i, p) in PROFILES.iter().enumerate() {
            assert!(PROFILES[i + 1..].iter().all(|q| q.id != p.id), "{}", p.id);
            assert!(!p.base_env.is_empty(), "{}", p.id);
        }
        assert_eq!(
            profile_of("openai").unwrap().base_env,
            ["OPENAI_API_BASE", "OPENAI_BASE_URL"]
        );
    }
}
