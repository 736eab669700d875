//! The router's configuration in LiteLLM's proxy shape (`model_list`, `router_settings`,
//! `litellm_settings`), so a LiteLLM `config.yaml` moves over unchanged. Parsed from JSON; the
//! JS face turns YAML and TOML files into JSON first and maps error paths back to lines.
//!
//! Keys Switchyard does not act on are not errors (LiteLLM configs carry logging callbacks and
//! proxy settings): they come back as warnings, so nothing is ignored silently.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::governance::{self, GovernanceConfig, ProviderBudgetConfig};
use crate::error::Error;

/// A string that may be `os.environ/NAME`: the variable's value, read when the router is built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secretish(pub String);

impl<'de> Deserialize<'de> for Secretish {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.strip_prefix("os.environ/") {
            Some(name) => std::env::var(name).map(Secretish).map_err(|_| {
                serde::de::Error::custom(format!("environment variable {name} is not set"))
            }),
            None => Ok(Secretish(raw)),
        }
    }
}

/// Numbers LiteLLM configs write either way (`rpm: 60`, `rpm: "60"`, `os.environ/RPM`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(Secretish),
        }
        let value = match Raw::deserialize(d)? {
            Raw::Num(n) => n,
            Raw::Text(Secretish(text)) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| serde::de::Error::custom("expected a number"))?,
        };
        if value.is_finite() && value >= 0.0 {
            Ok(Number(value))
        } else {
            Err(serde::de::Error::custom("expected a non-negative number"))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RouterConfig {
    pub model_list: Vec<ModelEntry>,
    #[serde(default)]
    pub router_settings: RouterSettings,
    #[serde(default)]
    pub litellm_settings: LitellmSettings,
    /// Seed 002/004's task-based routing: task type → model group.
    #[serde(default)]
    pub task_routing: BTreeMap<String, String>,
    /// Switchyard's model rules, residency and budgets (see `governance.rs`).
    pub governance: Option<GovernanceConfig>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct ModelEntry {
    pub model_name: String,
    pub litellm_params: LitellmParams,
    #[serde(default)]
    pub model_info: ModelInfo,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LitellmParams {
    /// `provider/model`, as LiteLLM writes it.
    pub model: String,
    pub api_key: Option<Secretish>,
    pub api_base: Option<Secretish>,
    pub api_version: Option<Secretish>,
    pub aws_access_key_id: Option<Secretish>,
    pub aws_secret_access_key: Option<Secretish>,
    pub aws_session_token: Option<Secretish>,
    pub aws_region_name: Option<Secretish>,
    pub vertex_project: Option<Secretish>,
    pub vertex_location: Option<Secretish>,
    pub rpm: Option<Number>,
    pub tpm: Option<Number>,
    pub weight: Option<Number>,
    pub order: Option<Number>,
    /// Seconds, per attempt.
    pub timeout: Option<Number>,
    /// Seconds to the first chunk of a stream.
    pub stream_timeout: Option<Number>,
    /// This deployment's retries, overriding the group's.
    pub max_retries: Option<Number>,
    pub input_cost_per_token: Option<Number>,
    pub output_cost_per_token: Option<Number>,
    pub cache_read_input_token_cost: Option<Number>,
    pub output_cost_per_reasoning_token: Option<Number>,
    #[serde(default, alias = "extra_headers")]
    pub headers: BTreeMap<String, Secretish>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ModelInfo {
    pub id: Option<String>,
    pub max_input_tokens: Option<Number>,
    pub max_tokens: Option<Number>,
    pub input_cost_per_token: Option<Number>,
    pub output_cost_per_token: Option<Number>,
    pub cache_read_input_token_cost: Option<Number>,
    pub output_cost_per_reasoning_token: Option<Number>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `[{ "gpt-4": ["gpt-3.5-turbo"] }]`: LiteLLM's fallback lists.
pub type Fallbacks = Vec<BTreeMap<String, Vec<String>>>;

#[derive(Debug, Default, Deserialize)]
pub struct RouterSettings {
    pub routing_strategy: Option<String>,
    #[serde(default)]
    pub routing_strategy_args: RoutingStrategyArgs,
    pub num_retries: Option<Number>,
    /// Seconds, per attempt.
    pub timeout: Option<Number>,
    pub stream_timeout: Option<Number>,
    pub allowed_fails: Option<Number>,
    pub cooldown_time: Option<Number>,
    /// Seconds: the least wait before a retry.
    pub retry_after: Option<Number>,
    pub fallbacks: Option<Fallbacks>,
    pub context_window_fallbacks: Option<Fallbacks>,
    pub content_policy_fallbacks: Option<Fallbacks>,
    pub default_fallbacks: Option<Vec<String>>,
    pub retry_policy: Option<BTreeMap<String, Number>>,
    pub allowed_fails_policy: Option<BTreeMap<String, Number>>,
    /// Skip deployments whose context window cannot hold the prompt.
    pub enable_pre_call_checks: Option<bool>,
    /// Requests and tokens a minute per model group, over all its deployments (LiteLLM's
    /// per-model limit names).
    #[serde(default)]
    pub model_rpm_limit: BTreeMap<String, Number>,
    #[serde(default)]
    pub model_tpm_limit: BTreeMap<String, Number>,
    // Switchyard's own: one deadline over every retry, backoff and fallback; waiting out a
    // cooldown; hedged requests.
    /// Seconds for the whole call.
    pub deadline: Option<Number>,
    pub wait_for_cooldown: Option<bool>,
    #[serde(default)]
    pub hedge: Option<HedgeSettings>,
    /// Shared state across processes, as LiteLLM's Router takes it.
    #[serde(flatten)]
    pub redis: RedisSettings,
    /// LiteLLM's provider budgets: `{ openai: { budget_limit, time_period } }`.
    #[serde(default)]
    pub provider_budget_config: BTreeMap<String, ProviderBudgetConfig>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Redis for the router's shared state: `redis_url`, or host, port and credentials.
#[derive(Debug, Default, Deserialize)]
pub struct RedisSettings {
    pub redis_url: Option<Secretish>,
    pub redis_host: Option<Secretish>,
    pub redis_port: Option<Number>,
    pub redis_username: Option<Secretish>,
    pub redis_password: Option<Secretish>,
    pub redis_ssl: Option<bool>,
    /// A PEM file of the CA that signed the server's certificate, when it is not a public one.
    pub redis_ssl_ca_certs: Option<Secretish>,
    /// Prefix of every key (default: one derived from the deployments).
    pub redis_namespace: Option<String>,
    /// The longest a call waits for Redis before going on with local state.
    pub redis_timeout_ms: Option<Number>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RoutingStrategyArgs {
    pub lowest_latency_buffer: Option<Number>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HedgeSettings {
    /// Start the next deployment after this many ms without an answer, or `"p95"` for the
    /// deployment's own 95th percentile.
    pub delay_ms: HedgeDelayRaw,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum HedgeDelayRaw {
    Fixed(Number),
    Named(String),
}

#[derive(Debug, Default, Deserialize)]
pub struct LitellmSettings {
    pub num_retries: Option<Number>,
    pub request_timeout: Option<Number>,
    pub fallbacks: Option<Fallbacks>,
    pub context_window_fallbacks: Option<Fallbacks>,
    pub content_policy_fallbacks: Option<Fallbacks>,
    pub default_fallbacks: Option<Vec<String>>,
    pub cache: Option<bool>,
    #[serde(default)]
    pub cache_params: CacheParams,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CacheParams {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Seconds.
    pub ttl: Option<Number>,
    /// Entries kept at most (LRU beyond it).
    pub max_size: Option<Number>,
    // A Redis cache (`type: redis`).
    pub host: Option<Secretish>,
    pub port: Option<Number>,
    pub username: Option<Secretish>,
    pub password: Option<Secretish>,
    #[serde(alias = "redis_url")]
    pub url: Option<Secretish>,
    pub ssl: Option<bool>,
    pub ssl_ca_certs: Option<Secretish>,
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl RouterConfig {
    /// Parse a configuration from JSON text. An error names the offending key by its path
    /// (`model_list[2].litellm_params.rpm`).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            Error::InvalidInput(format!("router config: {path}: {}", describe(e.inner())))
        })
    }

    /// Keys present but not acted on, by path: reported, never silently dropped.
    pub fn ignored_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |prefix: &str, other: &BTreeMap<String, Value>| {
            out.extend(other.keys().map(|k| format!("{prefix}{k}")));
        };
        push("", &self.other);
        push("router_settings.", &self.router_settings.other);
        push(
            "router_settings.routing_strategy_args.",
            &self.router_settings.routing_strategy_args.other,
        );
        push("litellm_settings.", &self.litellm_settings.other);
        push(
            "litellm_settings.cache_params.",
            &self.litellm_settings.cache_params.other,
        );
        for (i, m) in self.model_list.iter().enumerate() {
            push(&format!("model_list[{i}]."), &m.other);
            push(
                &format!("model_list[{i}].litellm_params."),
                &m.litellm_params.other,
            );
            push(&format!("model_list[{i}].model_info."), &m.model_info.other);
        }
        governance::ignored_keys(
            self.governance.as_ref(),
            &self.router_settings.provider_budget_config,
            &mut out,
        );
        out
    }
}

/// serde_json's message without the value it quotes (a key in the wrong place must not echo).
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    match (text.find("invalid type: "), text.find(", expected ")) {
        (Some(_), Some(at)) => {
            let got = text
                .trim_start_matches("invalid type: ")
                .split([' ', ','])
                .next()
                .unwrap_or("value");
            format!(
                "expected {}, got a {got}",
                &text[at + ", expected ".len()..]
            )
        }
        _ if text.starts_with("invalid value: ") => match text.find(", expected ") {
            Some(at) => format!("expected {}", &text[at + ", expected ".len()..]),
            None => "invalid value".into(),
        },
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key_path_without_the_value() {
        let err = RouterConfig::from_json(
            r#"{"model_list":[{"model_name":"a","litellm_params":{"model":"openai/x"}},
                {"model_name":"b","litellm_params":{"model":"openai/y","rpm":"sk-secret"}}]}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("model_list[1].litellm_params.rpm"), "{text}");
        assert!(!text.contains("sk-secret"), "{text}");
        let err = RouterConfig::from_json(r#"{"model_list":[{"model_name":7}]}"#).unwrap_err();
        assert!(
            err.to_string().contains("model_list[0].model_name"),
            "{err}"
        );
    }

    #[test]
    fn env_references_resolve_and_unknown_keys_are_reported() {
        std::env::set_var("SWITCHYARD_TEST_CONFIG_KEY", "from-env");
        let c = RouterConfig::from_json(
            r#"{"model_list":[{"model_name":"a","litellm_params":{"model":"openai/x",
                "api_key":"os.environ/SWITCHYARD_TEST_CONFIG_KEY","rpm":"60","mystery":1}}],
                "general_settings":{},"litellm_settings":{"success_callback":["langfuse"]}}"#,
        )
        .unwrap();
        let p = &c.model_list[0].litellm_params;
        assert_eq!(p.api_key.as_ref().unwrap().0, "from-env");
        assert_eq!(p.rpm, Some(Number(60.0)));
        assert_eq!(
            c.ignored_keys(),
            [
                "general_settings",
                "litellm_settings.success_callback",
                "model_list[0].litellm_params.mystery"
            ]
        );
        let missing = RouterConfig::from_json(
            r#"{"model_list":[{"model_name":"a","litellm_params":{"model":"openai/x","api_key":"os.environ/SWITCHYARD_TEST_UNSET_VAR"}}]}"#,
        )
        .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("SWITCHYARD_TEST_UNSET_VAR is not set"),
            "{missing}"
        );
    }
}
