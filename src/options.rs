//! Options as JS passes them, converted into core types.

use std::time::Duration;

use napi_derive::napi;
use switchyard_core::http::{ProxySettings, TransportSettings};
use switchyard_core::providers::openai::OpenAi;
use switchyard_core::retry::RetryPolicy;
use switchyard_core::{ClientConfig, Provider};

/// One header to send on every request; `value: null` removes a header.
#[napi(object)]
pub struct BindingHeader {
    pub name: String,
    pub value: Option<String>,
}

/// How to reach an OpenAI-compatible upstream.
#[napi(object)]
pub struct BindingClientOptions {
    /// Base URL; requests go to `${baseUrl}/chat/completions`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer <apiKey>`.
    pub api_key: Option<String>,
    /// Applied in order after the credentials, overriding them whatever their case.
    pub headers: Option<Vec<BindingHeader>>,
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

impl From<BindingClientOptions> for ClientConfig {
    fn from(o: BindingClientOptions) -> Self {
        let mut config = ClientConfig::new(Provider::OpenAi(OpenAi::default()), o.base_url);
        config.api_key = o.api_key;
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
        config.transport = TransportSettings {
            connect_timeout: o
                .connect_timeout_ms
                .map_or(TransportSettings::default().connect_timeout, |ms| {
                    Duration::from_millis(ms.into())
                }),
            proxy: ProxySettings {
                http: o.http_proxy,
                https: o.https_proxy,
                no_proxy: o.no_proxy,
            }
            .with_env_fallback(),
        };
        config
    }
}
