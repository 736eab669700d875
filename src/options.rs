//! Options as JS passes them, converted into core types.

use std::time::Duration;

use napi_derive::napi;
use switchyard_core::http::{ProxySettings, TransportSettings};
use switchyard_core::providers::openai::OpenAi;
use switchyard_core::retry::RetryPolicy;
use switchyard_core::routing::{self, ProviderSettings};
use switchyard_core::{ClientConfig, Error, Provider};

/// The pseudo-provider of `makeLiteLLMProvider`: OpenAI's wire format at a given base URL.
pub const LITELLM: &str = "litellm";

/// One header to send on every request; `value: null` removes a header.
#[napi(object)]
pub struct BindingHeader {
    pub name: String,
    pub value: Option<String>,
}

/// How to reach a provider. Unset credentials and base URL come from the provider's usual
/// environment variables.
#[napi(object)]
pub struct BindingClientOptions {
    /// Base URL of the provider's API (for `litellm`: requests go to `${baseUrl}/chat/completions`).
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    /// Applied in order after the credentials, overriding them whatever their case.
    pub headers: Option<Vec<BindingHeader>>,
    /// Azure's `api-version`.
    pub api_version: Option<String>,
    /// Bedrock's region, Vertex AI's location.
    pub region: Option<String>,
    /// Vertex AI's project.
    pub project: Option<String>,
    pub aws_access_key_id: Option<String>,
    pub aws_secret_access_key: Option<String>,
    pub aws_session_token: Option<String>,
    /// Per attempt: a whole call, or a stream's wait for headers and for each chunk.
    /// @default 600000
    pub timeout_ms: Option<u32>,
    /// @default 10000
    pub connect_timeout_ms: Option<u32>,
    /// Retries after the first attempt on 408, 409, 429, 5xx and connection errors.
    /// @default 2
    pub max_retries: Option<u32>,
    /// Proxy for http:// upstreams; falls back to HTTP_PROXY.
    pub http_proxy: Option<String>,
    /// Proxy for https:// upstreams; falls back to HTTPS_PROXY, then the HTTP proxy.
    pub https_proxy: Option<String>,
    /// Hosts that bypass the proxy; falls back to NO_PROXY.
    pub no_proxy: Option<String>,
}

/// The client configuration for `provider` (a provider id, or `litellm`) with these options.
pub fn client_config(provider: &str, o: BindingClientOptions) -> Result<ClientConfig, Error> {
    let settings = ProviderSettings {
        api_key: o.api_key,
        base_url: o.base_url,
        api_version: o.api_version,
        region: o.region,
        project: o.project,
        aws_access_key_id: o.aws_access_key_id,
        aws_secret_access_key: o.aws_secret_access_key,
        aws_session_token: o.aws_session_token,
    };
    let mut config = if provider == LITELLM {
        let base_url = settings
            .base_url
            .clone()
            .ok_or_else(|| Error::InvalidInput("litellm needs a base URL".into()))?;
        let mut config = ClientConfig::new(Provider::OpenAi(OpenAi { id: LITELLM }), base_url);
        config.secrets = settings.secrets();
        config.api_key = settings.api_key;
        config
    } else {
        routing::provider_client_config(provider, settings)?
    };
    config.default_headers = o
        .headers
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h.name, h.value))
        .collect();
    if let Some(ms) = o.timeout_ms {
        config.timeout = Duration::from_millis(ms.into());
    }
    if let Some(retries) = o.max_retries {
        config.retry = RetryPolicy {
            max_retries: retries,
        };
    }
    config.transport = transport(
        o.connect_timeout_ms,
        o.http_proxy,
        o.https_proxy,
        o.no_proxy,
    );
    Ok(config)
}

/// Connect timeout and proxy, with the proxy environment variables as fallback.
pub fn transport(
    connect_timeout_ms: Option<u32>,
    http: Option<String>,
    https: Option<String>,
    no_proxy: Option<String>,
) -> TransportSettings {
    TransportSettings {
        connect_timeout: connect_timeout_ms
            .map_or(TransportSettings::default().connect_timeout, |ms| {
                Duration::from_millis(ms.into())
            }),
        proxy: ProxySettings {
            http,
            https,
            no_proxy,
        }
        .with_env_fallback(),
    }
}
