//! Building a router from its configuration: deployments with their clients, groups with their
//! lineups, policies and fallbacks, every cross-reference checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::config::{HedgeDelayRaw, LitellmParams, ModelEntry, Number, RouterConfig};
use super::deployment::{Deployment, Metrics, Pricing};
use super::governance::Governance;
use super::policy::{Backoff, CooldownRules, FallbackKind, FallbackTable, RetryRules};
use super::redis::{RedisOptions, RedisState, RedisTarget};
use super::state::{MemoryState, RouterState, DEFAULT_CACHE_ENTRIES};
use super::stats::Counters;
use super::strategy::{Lineup, Strategy};
use super::{Group, HedgeDelay, Limits, Router, Settings};
use crate::client::ChatClient;
use crate::error::Error;
use crate::http::TransportSettings;
use crate::retry::RetryPolicy;
use crate::routing::{self, ProviderSettings};
use crate::usage::{builtin_context_window, Price};
use sha2::{Digest, Sha256};

/// LiteLLM's defaults: 2 retries (the openai SDK's), 3 allowed fails a minute, 5 s cooldowns.
const DEFAULT_NUM_RETRIES: u32 = 2;
const DEFAULT_ALLOWED_FAILS: u32 = 3;
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);
/// Cached answers live this long unless `cache_params.ttl` says otherwise.
const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(600);

/// What the router is built with besides its configuration.
#[derive(Default)]
pub struct BuildOptions {
    pub transport: TransportSettings,
    /// Shared state; this process's own memory when unset.
    pub state: Option<Arc<dyn RouterState>>,
}

fn secs(n: Option<Number>) -> Option<Duration> {
    n.and_then(|n| Duration::try_from_secs_f64(n.0).ok())
}

fn count(n: Option<Number>) -> Option<u64> {
    n.map(|n| n.0 as u64)
}

fn invalid(path: &str, message: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("router config: {path}: {message}"))
}

/// Per-token prices (LiteLLM's `*_cost_per_token`) as per-million prices.
fn price(p: &LitellmParams, entry: &ModelEntry) -> Option<Price> {
    let per_million = |a: Option<Number>, b: Option<Number>| a.or(b).map(|n| n.0 * 1e6);
    let info = &entry.model_info;
    Some(Price {
        input: per_million(p.input_cost_per_token, info.input_cost_per_token)?,
        output: per_million(p.output_cost_per_token, info.output_cost_per_token)?,
        cached_input: per_million(
            p.cache_read_input_token_cost,
            info.cache_read_input_token_cost,
        ),
        reasoning: per_million(
            p.output_cost_per_reasoning_token,
            info.output_cost_per_reasoning_token,
        ),
    })
}

fn deployment(
    i: usize,
    entry: &ModelEntry,
    timeout: Option<Duration>,
    transport: &TransportSettings,
) -> Result<Deployment, Error> {
    let at = format!("model_list[{i}]");
    let p = &entry.litellm_params;
    let resolved = routing::resolve_model(&p.model)
        .map_err(|e| invalid(&format!("{at}.litellm_params.model"), e))?;
    let text = |v: &Option<super::config::Secretish>| v.as_ref().map(|s| s.0.clone());
    let settings = ProviderSettings {
        api_key: text(&p.api_key),
        base_url: text(&p.api_base),
        api_version: text(&p.api_version),
        region: text(&p.aws_region_name).or_else(|| text(&p.vertex_location)),
        project: text(&p.vertex_project),
        aws_access_key_id: text(&p.aws_access_key_id),
        aws_secret_access_key: text(&p.aws_secret_access_key),
        aws_session_token: text(&p.aws_session_token),
    };
    let mut config = routing::provider_client_config(resolved.provider.id, settings)
        .map_err(|e| invalid(&at, e))?;
    config.default_headers = p
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.0.clone())))
        .collect();
    if let Some(t) = secs(p.timeout).or(timeout) {
        config.timeout = t;
    }
    // The router owns retries: each client makes one attempt.
    config.retry = RetryPolicy { max_retries: 0 };
    config.transport = transport.clone();
    let client = ChatClient::new(config).map_err(|e| invalid(&at, e))?;
    let own_price = price(p, entry);
    Ok(Deployment {
        id: entry
            .model_info
            .id
            .clone()
            .unwrap_or_else(|| format!("{}/{i}", entry.model_name)),
        group: entry.model_name.clone(),
        provider: resolved.provider.id.to_string(),
        model: resolved.model.clone(),
        client,
        weight: p.weight.map_or(0.0, |w| w.0),
        // Deployments without an order come after every ordered one.
        order: p.order.map_or(u32::MAX, |o| o.0 as u32),
        limits: Limits {
            rpm: count(p.rpm),
            tpm: count(p.tpm),
        },
        price: own_price,
        pricing: Pricing::new(own_price, resolved.provider.id, &resolved.model),
        context_window: count(
            entry
                .model_info
                .max_input_tokens
                .or(entry.model_info.max_tokens),
        )
        .or_else(|| builtin_context_window(&resolved.model)),
        stream_timeout: secs(p.stream_timeout),
        max_retries: count(p.max_retries).map(|n| n as u32),
        metrics: Metrics::default(),
    })
}

/// LiteLLM's `cache: true` with `cache_params: { type: 'local', ttl }`: the TTL, or `None` when
/// the cache is off.
fn cache_settings(ls: &super::config::LitellmSettings) -> Result<Option<Duration>, Error> {
    if ls.cache != Some(true) {
        return Ok(None);
    }
    match ls.cache_params.kind.as_deref() {
        None | Some("local") | Some("in-memory") | Some("redis") => {}
        Some(_) => {
            return Err(invalid(
                "litellm_settings.cache_params.type",
                "expected \"local\" or \"redis\"",
            ))
        }
    }
    Ok(Some(secs(ls.cache_params.ttl).unwrap_or(DEFAULT_CACHE_TTL)))
}

/// Waits for Redis at most this long before a call goes on with local state.
const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(20);

/// Redis for shared state, when the config asks for it: `router_settings.redis_*` (LiteLLM's
/// Router), else a `type: redis` cache's `cache_params`; what neither sets comes from
/// `REDIS_URL` / `REDIS_HOST` / `REDIS_PORT` / `REDIS_USERNAME` / `REDIS_PASSWORD` /
/// `REDIS_SSL`. The environment alone never turns Redis on.
fn redis_options(config: &RouterConfig, ids: &[&str]) -> Result<Option<RedisOptions>, Error> {
    let r = &config.router_settings.redis;
    let c = &config.litellm_settings.cache_params;
    let cache_redis =
        config.litellm_settings.cache == Some(true) && c.kind.as_deref() == Some("redis");
    let router_redis = r.redis_url.is_some() || r.redis_host.is_some();
    if !router_redis && !cache_redis {
        return Ok(None);
    }
    let text = |v: &Option<super::config::Secretish>| v.as_ref().map(|s| s.0.clone());
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let pick = |router: Option<String>, cache: Option<String>, name: &str| {
        if router_redis { router } else { cache }.or_else(|| env(name))
    };
    let url = pick(text(&r.redis_url), text(&c.url), "REDIS_URL");
    let target = match url {
        Some(url) => RedisTarget::Url(url),
        None => {
            let port = if router_redis { r.redis_port } else { c.port }
                .map(|p| p.0 as u64)
                .or_else(|| env("REDIS_PORT").and_then(|p| p.parse().ok()))
                .unwrap_or(6379);
            RedisTarget::Parts {
                host: pick(text(&r.redis_host), text(&c.host), "REDIS_HOST")
                    .unwrap_or_else(|| "127.0.0.1".into()),
                port: u16::try_from(port)
                    .map_err(|_| invalid("router_settings.redis_port", "expected a port number"))?,
                username: pick(text(&r.redis_username), text(&c.username), "REDIS_USERNAME"),
                password: pick(text(&r.redis_password), text(&c.password), "REDIS_PASSWORD"),
                tls: if router_redis { r.redis_ssl } else { c.ssl }
                    .or_else(|| env("REDIS_SSL").map(|v| v == "true" || v == "1"))
                    .unwrap_or(false),
            }
        }
    };
    let ca_path = pick(
        text(&r.redis_ssl_ca_certs),
        text(&c.ssl_ca_certs),
        "REDIS_SSL_CA_CERTS",
    );
    let ca_cert = ca_path
        .map(|path| {
            std::fs::read(&path).map_err(|_| {
                invalid(
                    "router_settings.redis_ssl_ca_certs",
                    "could not read the file",
                )
            })
        })
        .transpose()?;
    // Processes of one app share keys; another app's config gets its own namespace.
    let namespace = r
        .redis_namespace
        .clone()
        .or_else(|| c.namespace.clone())
        .unwrap_or_else(|| {
            let mut sorted = ids.to_vec();
            sorted.sort_unstable();
            let digest = Sha256::digest(sorted.join("\n").as_bytes());
            format!("switchyard:{}", hex::encode(&digest[..6]))
        });
    Ok(Some(RedisOptions {
        target,
        ca_cert,
        namespace,
        timeout: r.redis_timeout_ms.map_or(DEFAULT_REDIS_TIMEOUT, |ms| {
            Duration::from_secs_f64(ms.0 / 1000.0)
        }),
    }))
}

impl Router {
    pub fn from_config(config: RouterConfig, options: BuildOptions) -> Result<Self, Error> {
        if config.model_list.is_empty() {
            return Err(invalid("model_list", "needs at least one deployment"));
        }
        let rs = &config.router_settings;
        let ls = &config.litellm_settings;
        let hedge = match rs.hedge.as_ref().map(|h| &h.delay_ms) {
            None => None,
            Some(HedgeDelayRaw::Fixed(ms)) => {
                Some(HedgeDelay::Fixed(Duration::from_secs_f64(ms.0 / 1000.0)))
            }
            Some(HedgeDelayRaw::Named(name)) if name == "p95" => Some(HedgeDelay::P95),
            Some(HedgeDelayRaw::Named(_)) => {
                return Err(invalid(
                    "router_settings.hedge.delay_ms",
                    "expected milliseconds or \"p95\"",
                ))
            }
        };
        let cache_ttl = cache_settings(ls)?;
        let timeout = secs(rs.timeout.or(ls.request_timeout));
        let deployments = config
            .model_list
            .iter()
            .enumerate()
            .map(|(i, e)| deployment(i, e, timeout, &options.transport))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = HashMap::new();
        for (i, d) in deployments.iter().enumerate() {
            if let Some(prev) = seen.insert(d.id.clone(), i) {
                return Err(invalid(
                    &format!("model_list[{i}].model_info.id"),
                    format!("the id is also model_list[{prev}]'s"),
                ));
            }
        }
        let buffer = rs
            .routing_strategy_args
            .lowest_latency_buffer
            .map_or(0.0, |b| b.0);
        let strategy = Strategy::from_name(
            rs.routing_strategy.as_deref().unwrap_or("simple-shuffle"),
            buffer,
        )
        .map_err(|e| invalid("router_settings.routing_strategy", e))?;
        let num_retries =
            count(rs.num_retries.or(ls.num_retries)).map_or(DEFAULT_NUM_RETRIES, |n| n as u32);
        let mut members: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, d) in deployments.iter().enumerate() {
            match members.iter_mut().find(|(name, _)| *name == d.group) {
                Some((_, list)) => list.push(i),
                None => members.push((d.group.clone(), vec![i])),
            }
        }
        let group_limits = |name: &str| Limits {
            rpm: rs.model_rpm_limit.get(name).map(|n| n.0 as u64),
            tpm: rs.model_tpm_limit.get(name).map(|n| n.0 as u64),
        };
        for (key, limits) in [
            ("model_rpm_limit", &rs.model_rpm_limit),
            ("model_tpm_limit", &rs.model_tpm_limit),
        ] {
            if let Some(unknown) = limits
                .keys()
                .find(|g| !members.iter().any(|(n, _)| n == *g))
            {
                return Err(invalid(
                    &format!("router_settings.{key}.{unknown}"),
                    "no such model group in model_list",
                ));
            }
        }
        // Each group counts its own limits in a state slot after the deployments'.
        let groups = members
            .into_iter()
            .enumerate()
            .map(|(g, (name, members))| {
                let group = Group {
                    limits: group_limits(&name),
                    name: name.clone(),
                    lineup: Lineup::new(members, &deployments, strategy),
                    num_retries,
                    counters: Counters::default(),
                    slot: deployments.len() + g,
                };
                (name, group)
            })
            .collect::<HashMap<_, _>>();
        let mut wildcards: Vec<String> =
            groups.keys().filter(|g| g.contains('*')).cloned().collect();
        // The most specific pattern wins: `openai/gpt-4*` before `openai/*` before `*`.
        wildcards.sort_by_key(|w| std::cmp::Reverse(w.find('*').unwrap_or(0)));
        let mut fallbacks = FallbackTable::default();
        // Each list may sit in router_settings or litellm_settings; both count.
        for (kind, router_list, litellm_list) in [
            (FallbackKind::Generic, &rs.fallbacks, &ls.fallbacks),
            (
                FallbackKind::ContextWindow,
                &rs.context_window_fallbacks,
                &ls.context_window_fallbacks,
            ),
            (
                FallbackKind::ContentPolicy,
                &rs.content_policy_fallbacks,
                &ls.content_policy_fallbacks,
            ),
        ] {
            fallbacks.add(kind, router_list.as_ref());
            fallbacks.add(kind, litellm_list.as_ref());
        }
        fallbacks.set_default(
            rs.default_fallbacks
                .as_ref()
                .or(ls.default_fallbacks.as_ref()),
        );
        if let Some(unknown) = fallbacks.named_groups().find(|g| !groups.contains_key(*g)) {
            return Err(invalid(
                "fallbacks",
                format!("no model group {unknown:?} in model_list"),
            ));
        }
        for (task, group) in &config.task_routing {
            if !groups.contains_key(group) {
                return Err(invalid(
                    &format!("task_routing.{task}"),
                    format!("no model group {group:?} in model_list"),
                ));
            }
        }
        let settings = Settings {
            retry: RetryRules::new(num_retries, rs.retry_policy.as_ref())?,
            cooldown: CooldownRules::new(
                count(rs.allowed_fails).map_or(DEFAULT_ALLOWED_FAILS, |n| n as u32),
                rs.allowed_fails_policy.as_ref(),
                secs(rs.cooldown_time).unwrap_or(DEFAULT_COOLDOWN),
            )?,
            backoff: Backoff {
                base: Duration::from_millis(500),
                cap: Duration::from_secs(8),
                floor: secs(rs.retry_after).unwrap_or_default(),
            },
            deadline: secs(rs.deadline),
            stream_timeout: secs(rs.stream_timeout),
            wait_for_cooldown: rs.wait_for_cooldown.unwrap_or(false),
            cache_ttl,
            hedge,
            pre_call_checks: rs.enable_pre_call_checks.unwrap_or(false),
        };
        let governance = Governance::from_config(
            config.governance.as_ref(),
            &rs.provider_budget_config,
            &deployments,
        )?;
        let cache_entries =
            count(ls.cache_params.max_size).map_or(DEFAULT_CACHE_ENTRIES, |n| n as usize);
        let mut slot_ids: Vec<String> = deployments.iter().map(|d| d.id.clone()).collect();
        slot_ids.resize(deployments.len() + groups.len(), String::new());
        for g in groups.values() {
            slot_ids[g.slot] = format!("group:{}", g.name);
        }
        let ids: Vec<&str> = deployments.iter().map(|d| d.id.as_str()).collect();
        let state: Arc<dyn RouterState> = match (options.state, redis_options(&config, &ids)?) {
            (Some(state), _) => state,
            (None, Some(redis)) => Arc::new(RedisState::connect(
                &redis,
                slot_ids,
                deployments.len(),
                cache_entries,
            )?),
            (None, None) => Arc::new(MemoryState::with_cache_size(slot_ids.len(), cache_entries)),
        };
        Ok(Self {
            counters: deployments.iter().map(|_| Counters::default()).collect(),
            warnings: config.ignored_keys(),
            tasks: config.task_routing.clone().into_iter().collect(),
            deployments,
            groups,
            wildcards,
            fallbacks,
            settings,
            state,
            governance,
        })
    }
}
