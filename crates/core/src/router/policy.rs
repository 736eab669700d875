//! Reliability policies as LiteLLM defines them: which errors are retried and how often, when a
//! deployment cools down, how long to back off, and which fallback list an error follows.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::config::{Fallbacks, Number};
use crate::error::{Error, ErrorKind};

/// LiteLLM's error classes, the keys of `retry_policy` and `allowed_fails_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    BadRequest,
    Authentication,
    Timeout,
    RateLimit,
    ContentPolicyViolation,
    ContextWindowExceeded,
    NotFound,
    InternalServer,
    /// Our own refusals and aborts: never retried, never a reason to cool down or fall back.
    Caller,
    /// A governance refusal of a group's deployments (residency, budgets): never retried nor a
    /// cooldown, but a fallback group, with other deployments and prices, may be allowed.
    Governance,
}

impl ErrorClass {
    pub fn of(err: &Error) -> Self {
        let status = err.upstream().and_then(|u| u.status);
        match err.kind() {
            ErrorKind::RateLimited | ErrorKind::Overloaded => Self::RateLimit,
            ErrorKind::Auth => Self::Authentication,
            ErrorKind::Timeout => Self::Timeout,
            ErrorKind::ContentFilter => Self::ContentPolicyViolation,
            ErrorKind::ContextLengthExceeded => Self::ContextWindowExceeded,
            ErrorKind::NotFound => Self::NotFound,
            ErrorKind::InvalidRequest => Self::BadRequest,
            ErrorKind::InvalidInput | ErrorKind::Aborted | ErrorKind::Internal => Self::Caller,
            ErrorKind::Policy | ErrorKind::BudgetExceeded => Self::Governance,
            ErrorKind::UpstreamError | ErrorKind::Network | ErrorKind::BadResponse => {
                match status {
                    Some(s) if (400..500).contains(&s) => Self::BadRequest,
                    _ => Self::InternalServer,
                }
            }
        }
    }

    fn from_policy_key(key: &str, suffix: &str) -> Option<Self> {
        Some(match key.strip_suffix(suffix)? {
            "BadRequestError" => Self::BadRequest,
            "AuthenticationError" => Self::Authentication,
            "TimeoutError" => Self::Timeout,
            "RateLimitError" => Self::RateLimit,
            "ContentPolicyViolationError" => Self::ContentPolicyViolation,
            "ContextWindowExceededError" => Self::ContextWindowExceeded,
            "NotFoundError" => Self::NotFound,
            "InternalServerError" => Self::InternalServer,
            _ => return None,
        })
    }

    /// Retried without a `retry_policy` entry: what may succeed on another try or deployment.
    fn retried_by_default(self) -> bool {
        matches!(
            self,
            Self::RateLimit | Self::Timeout | Self::InternalServer | Self::Authentication
        )
    }

    /// Cooled down at the first failure, as LiteLLM does (429, and 401/403/404, which will not
    /// heal by themselves).
    fn cools_at_once(self) -> bool {
        matches!(
            self,
            Self::RateLimit | Self::Authentication | Self::NotFound
        )
    }

    /// Counted towards `allowed_fails`: failures of the deployment rather than of the request.
    fn counts_against_deployment(self) -> bool {
        matches!(self, Self::Timeout | Self::InternalServer)
    }
}

/// A per-class table from LiteLLM's `retry_policy` / `allowed_fails_policy`.
fn class_table(
    table: Option<&BTreeMap<String, Number>>,
    suffix: &str,
    what: &str,
) -> Result<HashMap<ErrorClass, u32>, Error> {
    let mut out = HashMap::new();
    for (key, value) in table.into_iter().flatten() {
        let class = ErrorClass::from_policy_key(key, suffix).ok_or_else(|| {
            Error::InvalidInput(format!(
                "router config: router_settings.{what}.{key}: unknown key (use BadRequestError{suffix}, AuthenticationError{suffix}, TimeoutError{suffix}, RateLimitError{suffix}, ContentPolicyViolationError{suffix}, InternalServerError{suffix})"
            ))
        })?;
        out.insert(class, value.0 as u32);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct RetryRules {
    pub num_retries: u32,
    per_class: HashMap<ErrorClass, u32>,
}

impl RetryRules {
    pub fn new(num_retries: u32, policy: Option<&BTreeMap<String, Number>>) -> Result<Self, Error> {
        Ok(Self {
            num_retries,
            per_class: class_table(policy, "Retries", "retry_policy")?,
        })
    }

    /// Retries allowed for an error of `class`; `others` says whether another deployment of
    /// the group could take the call (401/403 only retry elsewhere, as in LiteLLM).
    pub fn retries_for(&self, class: ErrorClass, num_retries: u32, others: bool) -> u32 {
        if let Some(&n) = self.per_class.get(&class) {
            return n;
        }
        match class {
            ErrorClass::Authentication if !others => 0,
            c if c.retried_by_default() => num_retries,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CooldownRules {
    pub allowed_fails: u32,
    per_class: HashMap<ErrorClass, u32>,
    pub cooldown: Duration,
}

impl CooldownRules {
    pub fn new(
        allowed_fails: u32,
        policy: Option<&BTreeMap<String, Number>>,
        cooldown: Duration,
    ) -> Result<Self, Error> {
        Ok(Self {
            allowed_fails,
            per_class: class_table(policy, "AllowedFails", "allowed_fails_policy")?,
            cooldown,
        })
    }

    /// Whether this failure counts towards the deployment's window at all.
    pub fn counts(&self, class: ErrorClass) -> bool {
        self.per_class.contains_key(&class)
            || class.counts_against_deployment()
            || class.cools_at_once()
    }

    /// Whether a deployment with `failures` in the window (this one included) cools down now:
    /// past `allowed_fails`, or at once for a 429 and for failures that will not heal.
    pub fn cools(&self, class: ErrorClass, failures: u32) -> bool {
        match self.per_class.get(&class) {
            Some(&allowed) => failures > allowed,
            None if class.cools_at_once() => true,
            None => class.counts_against_deployment() && failures > self.allowed_fails,
        }
    }
}

/// Exponential backoff with full jitter, capped, and the server's `Retry-After` when it gave one.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// LiteLLM's `retry_after`: the least wait.
    pub floor: Duration,
}

impl Backoff {
    pub fn delay(&self, retry: u32, server: Option<Duration>) -> Duration {
        if let Some(wait) = server {
            return wait.max(self.floor);
        }
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64()).max(self.floor)
    }
}

/// Which fallback list an error follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FallbackKind {
    Generic,
    ContextWindow,
    ContentPolicy,
}

impl FallbackKind {
    pub fn of(class: ErrorClass) -> Option<Self> {
        match class {
            ErrorClass::Caller => None,
            ErrorClass::ContextWindowExceeded => Some(Self::ContextWindow),
            ErrorClass::ContentPolicyViolation => Some(Self::ContentPolicy),
            _ => Some(Self::Generic),
        }
    }
}

/// Fallback groups per group and kind; `*` entries and `default_fallbacks` apply to every group
/// without its own generic list.
#[derive(Debug, Default, Clone)]
pub struct FallbackTable {
    lists: HashMap<(FallbackKind, String), Vec<String>>,
    default: Vec<String>,
}

impl FallbackTable {
    pub fn add(&mut self, kind: FallbackKind, fallbacks: Option<&Fallbacks>) {
        for entry in fallbacks.into_iter().flatten() {
            for (group, list) in entry {
                self.lists
                    .entry((kind, group.clone()))
                    .or_default()
                    .extend(list.iter().cloned());
            }
        }
    }

    pub fn set_default(&mut self, default: Option<&Vec<String>>) {
        if let Some(d) = default {
            self.default.extend(d.iter().cloned());
        }
    }

    /// The groups to try after `group` failed with an error that follows `kind`.
    pub fn for_group(&self, group: &str, kind: FallbackKind) -> &[String] {
        let key = |g: &str| (kind, g.to_string());
        if let Some(list) = self.lists.get(&key(group)) {
            return list;
        }
        match kind {
            FallbackKind::Generic => self
                .lists
                .get(&key("*"))
                .map_or(self.default.as_slice(), |l| l.as_slice()),
            _ => &[],
        }
    }

    /// Every group named anywhere, to check they exist.
    pub fn named_groups(&self) -> impl Iterator<Item = &String> {
        self.lists
            .iter()
            .flat_map(|((_, g), list)| std::iter::once(g).chain(list))
            .chain(&self.default)
            .filter(|g| g.as_str() != "*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_class_and_the_policy() {
        let rules = RetryRules::new(2, None).unwrap();
        assert_eq!(rules.retries_for(ErrorClass::InternalServer, 2, true), 2);
        assert_eq!(
            rules.retries_for(ErrorClass::BadRequest, 2, true),
            0,
            "400s are not retried"
        );
        assert_eq!(rules.retries_for(ErrorClass::Authentication, 2, false), 0);
        assert_eq!(rules.retries_for(ErrorClass::Authentication, 2, true), 2);
        let policy = BTreeMap::from([("RateLimitErrorRetries".to_string(), Number(5.0))]);
        let rules = RetryRules::new(1, Some(&policy)).unwrap();
        assert_eq!(rules.retries_for(ErrorClass::RateLimit, 1, true), 5);
        let bad = BTreeMap::from([("OopsRetries".to_string(), Number(1.0))]);
        assert!(RetryRules::new(1, Some(&bad)).is_err());
    }

    #[test]
    fn cooldown_after_more_than_allowed_fails_and_at_once_for_429() {
        let rules = CooldownRules::new(2, None, Duration::from_secs(5)).unwrap();
        assert!(!rules.cools(ErrorClass::InternalServer, 2));
        assert!(rules.cools(ErrorClass::InternalServer, 3));
        assert!(rules.cools(ErrorClass::RateLimit, 1));
        assert!(!rules.cools(ErrorClass::BadRequest, 99));
        assert!(!rules.counts(ErrorClass::BadRequest));
    }

    #[test]
    fn backoff_is_full_jitter_under_the_cap_and_honours_the_server() {
        let b = Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            floor: Duration::ZERO,
        };
        for retry in 0..10 {
            let d = b.delay(retry, None);
            assert!(d <= Duration::from_millis(500 * (1 << retry)).min(Duration::from_secs(8)));
        }
        assert_eq!(
            b.delay(3, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn fallbacks_by_kind_with_wildcard_and_default() {
        let mut t = FallbackTable::default();
        let generic: Fallbacks = vec![BTreeMap::from([("a".to_string(), vec!["b".to_string()])])];
        let any: Fallbacks = vec![BTreeMap::from([("*".to_string(), vec!["z".to_string()])])];
        t.add(FallbackKind::Generic, Some(&generic));
        t.add(FallbackKind::Generic, Some(&any));
        assert_eq!(t.for_group("a", FallbackKind::Generic), ["b"]);
        assert_eq!(t.for_group("q", FallbackKind::Generic), ["z"]);
        assert!(
            t.for_group("a", FallbackKind::ContextWindow).is_empty(),
            "context errors never take generic fallbacks"
        );
    }
}
