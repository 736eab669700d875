//! Governance, enforced in the core before anything is sent: which model groups a caller (by
//! key or tag) may use, where tagged data may go (residency), and what calls may spend. Budgets
//! are held at the state's admission (the one round trip before a call) at an upper-bound
//! estimate, and settled with the real cost when the call ends, however it ends.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::config::Number;
use super::deployment::Deployment;
use super::events::{Decision, EventLog, RouterEvent};
use super::spend::refused;
use super::state::{Budget, RateLimit};
use crate::error::{Error, ErrorKind};

/// Output tokens the estimate assumes when a request sets no `max_tokens`.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
const DAY_MS: u64 = 86_400_000;

/// The `governance:` section of the router config.
#[derive(Debug, Default, Deserialize)]
pub struct GovernanceConfig {
    /// The rule of calls whose key has no entry in `keys`, and of calls without a key.
    #[serde(default)]
    pub default: RuleConfig,
    /// Per app-level key (a caller id, never a provider credential), as written or as
    /// `sha256:<hex>` of the key.
    #[serde(default)]
    pub keys: BTreeMap<String, RuleConfig>,
    #[serde(default)]
    pub tags: BTreeMap<String, RuleConfig>,
    /// Tag → the only deployments calls carrying it may reach.
    #[serde(default)]
    pub residency: BTreeMap<String, ResidencyConfig>,
    /// USD per `run_id`, over the run.
    pub max_cost_per_run: Option<Number>,
    /// USD per UTC day, over the whole router.
    pub max_cost_per_day: Option<Number>,
    /// Output tokens the estimate assumes when a request sets no `max_tokens`.
    pub default_max_tokens: Option<Number>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleConfig {
    /// Model groups (or the names asked for) allowed, with `*` wildcards; absent: all.
    pub allow: Option<Vec<String>>,
    #[serde(default)]
    pub deny: Vec<String>,
    /// USD per UTC day: per key for `keys` and `default`, per tag for `tags`.
    pub max_cost_per_day: Option<Number>,
    /// USD over the router's life, counted the same way.
    pub max_cost: Option<Number>,
    /// Requests and tokens a minute over every group (LiteLLM's key limits), counted the same
    /// way.
    pub rpm_limit: Option<Number>,
    pub tpm_limit: Option<Number>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResidencyConfig {
    /// Deployment ids (`model_info.id`).
    #[serde(default)]
    pub deployments: Vec<String>,
    /// Provider ids (`ollama`, `vllm`, …).
    #[serde(default)]
    pub providers: Vec<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// LiteLLM's `router_settings.provider_budget_config` entry.
#[derive(Debug, Deserialize)]
pub struct ProviderBudgetConfig {
    pub budget_limit: Number,
    /// `30s`, `10m`, `1h`, `1d`, `1w`, `1mo` (30 days).
    pub time_period: String,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Keys present in the governance config but not acted on.
pub fn ignored_keys(
    governance: Option<&GovernanceConfig>,
    providers: &BTreeMap<String, ProviderBudgetConfig>,
    out: &mut Vec<String>,
) {
    let mut push = |prefix: String, other: &BTreeMap<String, Value>| {
        out.extend(other.keys().map(|k| format!("{prefix}{k}")));
    };
    for (name, p) in providers {
        push(
            format!("router_settings.provider_budget_config.{name}."),
            &p.other,
        );
    }
    let Some(g) = governance else { return };
    push("governance.".into(), &g.other);
    push("governance.default.".into(), &g.default.other);
    for (section, rules) in [("keys", &g.keys), ("tags", &g.tags)] {
        for (name, rule) in rules {
            // A key's entry is reported by its hash: the key itself is never echoed.
            let name = if section == "keys" {
                key_name(name)
            } else {
                name.clone()
            };
            push(format!("governance.{section}.{name}."), &rule.other);
        }
    }
    for (tag, r) in &g.residency {
        push(format!("governance.residency.{tag}."), &r.other);
    }
}

/// An app-level caller id, kept only as a SHA-256 prefix: it names rules, budgets and events,
/// and the key itself never goes further than the call that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerKey(String);

impl CallerKey {
    pub fn new(raw: &str) -> Self {
        Self(format!(
            "sha256:{}",
            &hex::encode(Sha256::digest(raw))[..16]
        ))
    }
}

/// How a config names a key: `sha256:<hex>` as given (its first 16 digits), or the key hashed.
fn key_name(name: &str) -> String {
    match name.strip_prefix("sha256:") {
        Some(hex) if hex.len() >= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("sha256:{}", hex[..16].to_ascii_lowercase())
        }
        _ => CallerKey::new(name).0,
    }
}

/// Who a call is for: per-call options, from `router.complete(request, { key, tags, runId })`.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub key: Option<CallerKey>,
    pub tags: Vec<String>,
    pub run_id: Option<String>,
}

/// `*` matches any run of characters, the empty one included.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty(); // no `*`: an exact match
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// `30s`, `10m`, `1h`, `1d`, `1w`, `1mo` in ms (LiteLLM's `time_period`; a month is 30 days).
pub fn parse_period(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        "mo" => 30 * DAY_MS,
        _ => return None,
    };
    n.parse::<u64>()
        .ok()
        .filter(|&n| n > 0)?
        .checked_mul(unit_ms)
}

struct Rule {
    /// Its config path, which names it in errors and events.
    path: String,
    allow: Option<Vec<String>>,
    deny: Vec<String>,
    day: Option<f64>,
    total: Option<f64>,
    rate: Option<(Option<u64>, Option<u64>)>,
}

impl Rule {
    fn new(path: String, c: &RuleConfig) -> Self {
        Self {
            path,
            allow: c.allow.clone(),
            deny: c.deny.clone(),
            day: c.max_cost_per_day.map(|n| n.0),
            total: c.max_cost.map(|n| n.0),
            rate: (c.rpm_limit.is_some() || c.tpm_limit.is_some()).then(|| {
                let count = |n: Option<Number>| n.map(|n| n.0 as u64);
                (count(c.rpm_limit), count(c.tpm_limit))
            }),
        }
    }

    /// This rule's rate limit, counted for `whom` (a key's hash) or the rule itself.
    fn limit(&self, whom: Option<&str>, out: &mut Vec<RateLimit>) {
        if let Some((rpm, tpm)) = self.rate {
            out.push(RateLimit {
                id: match whom {
                    Some(w) => format!("{}@{w}", self.path),
                    None => self.path.clone(),
                },
                rpm,
                tpm,
            });
        }
    }

    /// This rule's budgets, counted for `whom` (a key's hash) or, without one, the rule itself.
    fn budgets(&self, whom: Option<&str>, out: &mut Vec<Budget>) {
        let at = |what: &str| match whom {
            Some(w) => format!("{}.{what}@{w}", self.path),
            None => format!("{}.{what}", self.path),
        };
        if let Some(limit) = self.day {
            out.push(budget(at("max_cost_per_day"), limit, DAY_MS));
        }
        if let Some(limit) = self.total {
            out.push(budget(at("max_cost"), limit, 0));
        }
    }
}

fn budget(id: String, limit_usd: f64, window_ms: u64) -> Budget {
    Budget {
        id,
        limit_usd,
        window_ms,
        retain_ms: 0,
    }
}

/// A run's budget is forgotten this long after its last call.
const RUN_RETAIN_MS: u64 = 86_400_000;

struct Residency {
    tag: String,
    /// Per deployment index: whether calls with the tag may reach it.
    allowed: Vec<bool>,
}

/// The compiled rules.
pub struct Governance {
    default: Rule,
    keys: HashMap<String, Rule>,
    tags: HashMap<String, Rule>,
    residency: Vec<Residency>,
    run_limit: Option<f64>,
    day_limit: Option<f64>,
    /// Provider id → its budget (LiteLLM's `provider_budget_config`).
    providers: HashMap<String, Budget>,
    default_max_tokens: u64,
    /// Whether any allow or deny list is set: otherwise no call has a model decision to audit.
    model_rules: bool,
}

fn invalid(path: &str, message: impl std::fmt::Display) -> Error {
    Error::InvalidInput(format!("router config: {path}: {message}"))
}

impl Governance {
    /// The rules of `governance` and `provider_budget_config`; `None` when neither has any.
    pub fn from_config(
        governance: Option<&GovernanceConfig>,
        providers: &BTreeMap<String, ProviderBudgetConfig>,
        deployments: &[Deployment],
    ) -> Result<Option<Self>, Error> {
        if governance.is_none() && providers.is_empty() {
            return Ok(None);
        }
        let empty = GovernanceConfig::default();
        let g = governance.unwrap_or(&empty);
        let mut residency = Vec::new();
        for (tag, r) in &g.residency {
            let at = format!("governance.residency.{tag}.deployments");
            if let Some(unknown) = r
                .deployments
                .iter()
                .find(|id| !deployments.iter().any(|d| &d.id == *id))
            {
                return Err(invalid(
                    &at,
                    format!("no deployment {unknown:?} in model_list"),
                ));
            }
            let allowed = deployments
                .iter()
                .map(|d| r.deployments.contains(&d.id) || r.providers.contains(&d.provider))
                .collect();
            residency.push(Residency {
                tag: tag.clone(),
                allowed,
            });
        }
        let mut provider_budgets = HashMap::new();
        for (name, p) in providers {
            let at = format!("router_settings.provider_budget_config.{name}");
            let window = parse_period(&p.time_period).ok_or_else(|| {
                invalid(
                    &format!("{at}.time_period"),
                    "expected a duration such as 30s, 10m, 1h, 1d, 1w or 1mo",
                )
            })?;
            provider_budgets.insert(name.clone(), budget(at, p.budget_limit.0, window));
        }
        let rules = |section: &str, map: &BTreeMap<String, RuleConfig>, key: bool| {
            map.iter()
                .map(|(name, c)| {
                    let name = if key { key_name(name) } else { name.clone() };
                    let rule = Rule::new(format!("governance.{section}.{name}"), c);
                    (name, rule)
                })
                .collect::<HashMap<_, _>>()
        };
        let keys = rules("keys", &g.keys, true);
        let tags = rules("tags", &g.tags, false);
        let default = Rule::new("governance.default".into(), &g.default);
        let model_rules = [&default]
            .into_iter()
            .chain(keys.values())
            .chain(tags.values())
            .any(|r| r.allow.is_some() || !r.deny.is_empty());
        Ok(Some(Self {
            default,
            keys,
            tags,
            residency,
            run_limit: g.max_cost_per_run.map(|n| n.0),
            day_limit: g.max_cost_per_day.map(|n| n.0),
            providers: provider_budgets,
            default_max_tokens: g
                .default_max_tokens
                .map_or(DEFAULT_MAX_TOKENS, |n| n.0 as u64),
            model_rules,
        }))
    }

    /// The key's own rule (else the default), then the rule of each tag that has one.
    fn rules<'a>(&'a self, id: &'a Identity) -> (&'a Rule, impl Iterator<Item = &'a Rule>) {
        let own = id.key.as_ref().and_then(|k| self.keys.get(&k.0));
        let tags = id.tags.iter().filter_map(|t| self.tags.get(t));
        (own.unwrap_or(&self.default), tags)
    }

    /// Whether `id` may call `group` (asked for by `names`: the group's, and the name asked
    /// when a task or wildcard led to it). A deny in any rule that applies wins; then every
    /// allow list must match, the default's only when no tag brings its own. The decision is
    /// logged when there are model rules.
    pub fn check_models(
        &self,
        id: &Identity,
        group: &str,
        names: &[&str],
        events: &mut EventLog,
    ) -> Result<(), Error> {
        if !self.model_rules {
            return Ok(());
        }
        let matches = |list: &[String]| list.iter().any(|p| names.iter().any(|n| glob(p, n)));
        let (base, tags) = self.rules(id);
        let tags: Vec<&Rule> = tags.collect();
        let tag_allows = tags.iter().any(|r| r.allow.is_some());
        let allowing: Vec<&Rule> = std::iter::once(base)
            .filter(|r| !(tag_allows && std::ptr::eq(*r, &self.default)))
            .chain(tags.iter().copied())
            .filter(|r| r.allow.is_some())
            .collect();
        let denied = std::iter::once(base)
            .chain(tags.iter().copied())
            .find(|r| matches(&r.deny))
            .map(|r| (format!("{}.deny", r.path), "denied by"))
            .or_else(|| {
                allowing
                    .iter()
                    .find(|r| r.allow.as_deref().is_some_and(|a| !matches(a)))
                    .map(|r| (format!("{}.allow", r.path), "not allowed by"))
            });
        let (decision, rule) = match &denied {
            Some((rule, _)) => (Decision::Denied, rule.clone()),
            None => {
                let rule = allowing.last().map_or_else(
                    || "governance.default".to_string(),
                    |r| format!("{}.allow", r.path),
                );
                (Decision::Allowed, rule)
            }
        };
        events.push(RouterEvent::Policy {
            decision,
            rule: rule.clone(),
            group: group.to_string(),
            deployment: None,
        });
        match denied {
            None => Ok(()),
            Some((_, how)) => Err(refused(
                ErrorKind::Policy,
                rule.clone(),
                format!("Model group {group:?} is {how} the governance rule {rule}"),
                None,
            )),
        }
    }

    /// The budgets every attempt of `id`'s call is held against: the router's day, the run's,
    /// the key's, its tags'.
    pub fn call_budgets(&self, id: &Identity) -> Vec<Budget> {
        let mut out = Vec::new();
        if let Some(limit) = self.day_limit {
            out.push(budget("governance.max_cost_per_day".into(), limit, DAY_MS));
        }
        if let (Some(limit), Some(run)) = (self.run_limit, &id.run_id) {
            out.push(Budget {
                retain_ms: RUN_RETAIN_MS,
                ..budget(format!("governance.max_cost_per_run@{run}"), limit, 0)
            });
        }
        for (rule, whom) in self.counted_rules(id) {
            rule.budgets(whom, &mut out);
        }
        out
    }

    /// The rules whose budgets and limits count `id`'s calls, each with whom it counts for:
    /// its key's entry, or the default's counted per unlisted key, and its tags'.
    fn counted_rules<'a>(
        &'a self,
        id: &'a Identity,
    ) -> impl Iterator<Item = (&'a Rule, Option<&'a str>)> {
        let key = id.key.as_ref().map(|key| match self.keys.get(&key.0) {
            Some(rule) => (rule, None),
            None => (&self.default, Some(key.0.as_str())),
        });
        let tags = id
            .tags
            .iter()
            .filter_map(|t| self.tags.get(t))
            .map(|r| (r, None));
        key.into_iter().chain(tags)
    }

    /// The rate limits every attempt of `id`'s call counts against: its key's (or the
    /// default's, per unlisted key) and its tags'.
    pub fn call_limits(&self, id: &Identity) -> Vec<RateLimit> {
        let mut out = Vec::new();
        for (rule, whom) in self.counted_rules(id) {
            rule.limit(whom, &mut out);
        }
        out
    }

    /// The residency rules that apply to calls tagged `tags`, by index.
    pub fn residency_for(&self, tags: &[String]) -> Vec<usize> {
        (0..self.residency.len())
            .filter(|&i| tags.contains(&self.residency[i].tag))
            .collect()
    }

    /// Whether deployment `d` may take a call under the residency rules `rules`.
    pub fn resident(&self, rules: &[usize], d: usize) -> bool {
        rules.iter().all(|&i| self.residency[i].allowed[d])
    }

    /// The residency rule that refuses `d`, by its config path.
    pub fn residency_rule(&self, rules: &[usize], d: usize) -> Option<String> {
        rules
            .iter()
            .find(|&&i| !self.residency[i].allowed[d])
            .map(|&i| self.residency_path(i))
    }

    pub fn residency_path(&self, i: usize) -> String {
        format!("governance.residency.{}", self.residency[i].tag)
    }

    pub fn has_provider_budgets(&self) -> bool {
        !self.providers.is_empty()
    }

    pub fn provider_budget(&self, provider: &str) -> Option<&Budget> {
        self.providers.get(provider)
    }

    /// Output tokens to estimate a call with: the request's `max_tokens` (or
    /// `max_completion_tokens`), else the configured default.
    pub fn output_tokens(&self, body: &[u8]) -> u64 {
        #[derive(Deserialize)]
        struct Caps {
            max_tokens: Option<u64>,
            max_completion_tokens: Option<u64>,
        }
        serde_json::from_slice::<Caps>(body)
            .ok()
            .and_then(|c| c.max_completion_tokens.or(c.max_tokens))
            .unwrap_or(self.default_max_tokens)
    }
}

#[cfg(test)]
#[path = "governance_tests.rs"]
mod tests;
