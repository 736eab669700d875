//! The shared HTTP client. Every provider built with the same transport settings reuses one
//! `reqwest::Client`, so keep-alive connections are pooled across providers and calls.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::Error;

/// Which proxy to use. Explicit values win over the environment; the environment is read when a
/// provider is created, with the usual precedence (upper case, then lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProxySettings {
    /// Proxy for `http://` upstreams (forwarded in absolute form, no CONNECT).
    pub http: Option<String>,
    /// Proxy for `https://` upstreams (tunnelled with CONNECT).
    pub https: Option<String>,
    /// Comma-separated hosts, domains (`.example.com`), IPs or CIDRs that bypass the proxy.
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// Fill what the caller left unset from HTTP_PROXY / HTTPS_PROXY / NO_PROXY.
    pub fn with_env_fallback(mut self) -> Self {
        fn env(names: [&str; 2]) -> Option<String> {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        }
        if self.http.is_none() {
            self.http = env(["HTTP_PROXY", "http_proxy"]);
        }
        if self.https.is_none() {
            // Like curl and the undici/axios proxy agents: HTTPS_PROXY, else HTTP_PROXY.
            self.https = env(["HTTPS_PROXY", "https_proxy"]).or_else(|| self.http.clone());
        }
        if self.no_proxy.is_none() {
            self.no_proxy = env(["NO_PROXY", "no_proxy"]);
        }
        self
    }
}

/// Transport settings that decide which pooled client a provider shares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransportSettings {
    pub connect_timeout: Duration,
    pub proxy: ProxySettings,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            proxy: ProxySettings::default(),
        }
    }
}

fn build(settings: &TransportSettings) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(settings.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90));
    let no_proxy = settings
        .proxy
        .no_proxy
        .as_deref()
        .and_then(reqwest::NoProxy::from_string);
    let proxy_error = |e: reqwest::Error| Error::InvalidInput(format!("invalid proxy URL: {e}"));
    if let Some(url) = &settings.proxy.http {
        let proxy = reqwest::Proxy::http(url).map_err(proxy_error)?;
        builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
    }
    if let Some(url) = &settings.proxy.https {
        let proxy = reqwest::Proxy::https(url).map_err(proxy_error)?;
        builder = builder.proxy(proxy.no_proxy(no_proxy));
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))
}

/// The pooled client for these settings, built on first use.
pub fn shared_client(settings: &TransportSettings) -> Result<reqwest::Client, Error> {
    static CLIENTS: OnceLock<Mutex<HashMap<TransportSettings, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = clients.get(settings) {
        return Ok(client.clone());
    }
    let client = build(settings)?;
    clients.insert(settings.clone(), client.clone());
    Ok(client)
}
