//! Router state shared through Redis, so several processes hold one set of limits, cooldowns,
//! cache entries and budgets.
//!
//! - Reads come from a local mirror ([`MemoryState`]) that a background task refreshes every
//!   50 ms: cooldowns and this minute's rpm/tpm counts of every slot.
//! - Writes (cooldowns, counts, cache entries, settled spend) go through a queue drained in
//!   pipelines, off every call's path.
//! - The one step that waits for Redis is a call's admission, and only when the call needs it
//!   (a cache lookup, an rpm limit or a budget): one Lua script looks the cache up, checks the
//!   budgets and limits, and counts, atomically.
//! - While Redis is down or slower than the timeout, every step uses the local state alone and
//!   calls say so in an event; shared state resumes once Redis answers again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod keys;
mod scripts;
mod sync;

use std::sync::Mutex;

use futures_util::future;
use redis::aio::ConnectionManager;
use redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, Script, Value};
use tokio::sync::mpsc;

use self::keys::{Keys, Write};
use self::sync::{drain, mirror, PROBE_AT_MOST};
use super::cache::Cached;
use super::state::{
    now_ms, Admission, Admitted, Admitting, Budget, MemoryState, RateLimit, RouterState, WINDOW_MS,
};
use super::stats::{Outcome, Totals, TotalsSnapshot};
use crate::error::Error;

/// Held (in-flight) spend of a process that died is released after this long.
const HELD_TTL_MS: u64 = 3_600_000;

/// Where Redis is: a URL (`redis://`, `rediss://` for TLS) or its parts.
#[derive(Clone, PartialEq)]
pub enum RedisTarget {
    Url(String),
    Parts {
        host: String,
        port: u16,
        username: Option<String>,
        password: Option<String>,
        tls: bool,
    },
}

// Never printed with its password.
impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(_) => f.write_str("RedisTarget::Url(..)"),
            Self::Parts {
                host, port, tls, ..
            } => {
                write!(f, "RedisTarget::Parts({host}:{port}, tls: {tls})")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub target: RedisTarget,
    /// PEM of the CA to trust for TLS instead of the public roots.
    pub ca_cert: Option<Vec<u8>>,
    /// Prefix of every key, so two apps can share one Redis.
    pub namespace: String,
    /// The longest a call waits for Redis before it goes on with local state.
    pub timeout: Duration,
}

/// Router state in Redis, mirrored locally.
pub struct RedisState {
    inner: Arc<Inner>,
}

struct Inner {
    local: MemoryState,
    conn: ConnectionManager,
    keys: Keys,
    timeout: Duration,
    healthy: AtomicBool,
    writes: mpsc::UnboundedSender<Write>,
    admit: Script,
    /// Per slot: what this process counted since the last flush to Redis.
    unflushed: Vec<Totals>,
    /// Per slot: every process's figures, as last read from Redis.
    shared: Mutex<Vec<Option<TotalsSnapshot>>>,
}

fn connection_info(target: &RedisTarget) -> Result<redis::ConnectionInfo, Error> {
    let invalid = |what: &str| Error::InvalidInput(format!("router config: {what}"));
    match target {
        RedisTarget::Url(url) => url
            .as_str()
            .into_connection_info()
            .map_err(|_| invalid("redis_url: expected redis://host:port or rediss://host:port")),
        RedisTarget::Parts {
            host,
            port,
            username,
            password,
            tls,
        } => {
            let addr = if *tls {
                ConnectionAddr::TcpTls {
                    host: host.clone(),
                    port: *port,
                    insecure: false,
                    tls_params: None,
                }
            } else {
                ConnectionAddr::Tcp(host.clone(), *port)
            };
            let mut redis = RedisConnectionInfo::default();
            if let Some(user) = username {
                redis = redis.set_username(user);
            }
            if let Some(password) = password {
                redis = redis.set_password(password);
            }
            let info = addr
                .into_connection_info()
                .map_err(|_| invalid("redis_host: not a valid address"))?;
            Ok(info.set_redis_settings(redis))
        }
    }
}

impl RedisState {
    /// Connect lazily (the first command connects) and start the mirror and write tasks on the
    /// current tokio runtime. `slots` names each state slot: deployments first.
    pub fn connect(
        options: &RedisOptions,
        slots: Vec<String>,
        deployments: usize,
        cache_entries: usize,
    ) -> Result<Self, Error> {
        let info = connection_info(&options.target)?;
        let client = match &options.ca_cert {
            Some(pem) => Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            ),
            None => Client::open(info),
        }
        .map_err(|_| {
            Error::InvalidInput("router config: redis: not a valid target or CA".into())
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_max_delay(PROBE_AT_MOST);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::Internal(format!("redis: {}", e.code().unwrap_or("error"))))?;
        let (writes, queue) = mpsc::unbounded_channel();
        let slot_count = slots.len();
        let inner = Arc::new(Inner {
            local: MemoryState::with_cache_size(slots.len(), cache_entries),
            conn,
            keys: Keys {
                ns: options.namespace.clone(),
                slots,
                deployments,
            },
            timeout: options.timeout,
            healthy: AtomicBool::new(true),
            writes,
            admit: Script::new(scripts::ADMIT),
            unflushed: (0..slot_count).map(|_| Totals::default()).collect(),
            shared: Mutex::new(vec![None; slot_count]),
        });
        tokio::spawn(mirror(Arc::downgrade(&inner)));
        tokio::spawn(drain(Arc::downgrade(&inner), queue));
        Ok(Self { inner })
    }
}

impl Inner {
    fn write(&self, w: Write) {
        if self.healthy.load(Ordering::Acquire) {
            // The receiver only ends with the state.
            let _ = self.writes.send(w);
        }
    }

    fn set_health(&self, healthy: bool, why: &str) {
        if self.healthy.swap(healthy, Ordering::AcqRel) != healthy {
            if healthy {
                tracing::info!("redis answers again: router state is shared again");
                self.republish_cooldowns();
            } else {
                tracing::warn!(reason = why, "redis unavailable: router state is local");
            }
        }
    }

    /// Cooldowns set while Redis was away were not written: send the ones still in force.
    fn republish_cooldowns(&self) {
        let now = now_ms();
        for d in 0..self.keys.deployments {
            if let Some(until) = self.local.cooling_until(d, now) {
                self.write(Write::Cooldown {
                    key: self.keys.cooldown(d),
                    until,
                });
            }
        }
    }

    /// The admission script, run in Redis. `None` when Redis did not answer in time.
    async fn admit_shared(&self, a: &Admission<'_>) -> Option<Admitted> {
        let now = a.now;
        let keys = &self.keys;
        let mut call = self.admit.prepare_invoke();
        call.key(a.cache_key.map_or(String::new(), |k| keys.cache(k)));
        for &(s, _) in a.reserve {
            call.key(keys.requests(s, now));
        }
        for b in a.budgets {
            call.key(keys.spent(b, now)).key(keys.held(b, now));
        }
        for l in a.limits {
            call.key(keys.caller_requests(&l.id, now))
                .key(keys.caller_tokens(&l.id, now));
        }
        call.arg(a.reserve.len())
            .arg(a.budgets.len())
            .arg(a.estimate_usd)
            .arg(2 * WINDOW_MS);
        for &(_, rpm) in a.reserve {
            call.arg(rpm.map_or(-1, |l| l as i64));
        }
        for b in a.budgets {
            call.arg(b.limit_usd);
        }
        for b in a.budgets {
            call.arg(b.window_ms.max(HELD_TTL_MS));
        }
        call.arg(a.limits.len());
        for l in a.limits {
            call.arg(l.rpm.map_or(-1, |n| n as i64));
        }
        for l in a.limits {
            call.arg(l.tpm.map_or(-1, |n| n as i64));
        }
        let mut conn = self.conn.clone();
        let reply = tokio::time::timeout(self.timeout, call.invoke_async::<Value>(&mut conn)).await;
        let reply = match reply {
            Ok(Ok(Value::Array(items))) => items,
            Ok(Ok(_)) | Ok(Err(_)) => {
                self.set_health(false, "admission failed");
                return None;
            }
            Err(_) => {
                self.set_health(false, "admission timed out");
                return None;
            }
        };
        Some(self.admitted(a, reply))
    }

    fn admitted(&self, a: &Admission<'_>, reply: Vec<Value>) -> Admitted {
        let int = |v: Option<&Value>| match v {
            Some(Value::Int(n)) => *n,
            _ => 0,
        };
        match int(reply.first()) {
            1 => {
                let hit = match reply.get(1) {
                    Some(Value::BulkString(bytes)) => serde_json::from_slice::<Cached>(bytes).ok(),
                    _ => None,
                };
                match (hit, a.cache_key) {
                    (Some(hit), Some(key)) => {
                        let hit = Arc::new(hit);
                        let expires = int(reply.get(2)).max(0) as u64;
                        if expires > a.now {
                            self.local.cache_put(key.to_string(), hit.clone(), expires);
                        }
                        Admitted::Cached(hit)
                    }
                    // An entry this version cannot read: answer as a miss, counting locally.
                    _ => self.local.admit_now(&Admission {
                        cache_key: None,
                        ..*a
                    }),
                }
            }
            4 => Admitted::RateLimited {
                index: int(reply.get(1)).max(0) as usize,
            },
            2 => {
                // Full in Redis: the mirror learns it, so the next pick looks elsewhere.
                if let Some(&(s, _)) = a.reserve.get(int(reply.get(1)).max(0) as usize) {
                    let (_, tokens) = self.local.usage(s, a.now);
                    let count = int(reply.get(2)).max(0) as u64;
                    self.local.raise_usage(s, (count, tokens), a.now);
                }
                Admitted::Full
            }
            3 => Admitted::OverBudget {
                index: int(reply.get(1)).max(0) as usize,
                spent_usd: match reply.get(2) {
                    Some(Value::BulkString(b)) => std::str::from_utf8(b)
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0.0),
                    _ => 0.0,
                },
            },
            _ => {
                // Counted in Redis: the mirror takes the shared counts.
                for (i, &(s, _)) in a.reserve.iter().enumerate() {
                    let count = int(reply.get(i + 1)).max(0) as u64;
                    let (_, tokens) = self.local.usage(s, a.now);
                    self.local.raise_usage(s, (count, tokens), a.now);
                }
                Admitted::Reserved
            }
        }
    }
}

impl RouterState for RedisState {
    fn admit<'a>(&'a self, a: Admission<'a>) -> Admitting<'a> {
        let inner = &self.inner;
        if let Some(hit) = a.cache_key.and_then(|k| inner.local.cache_get(k, a.now)) {
            return future::Either::Left(future::ready(Admitted::Cached(hit)));
        }
        let needs_redis = a.cache_key.is_some()
            || !a.budgets.is_empty()
            || !a.limits.is_empty()
            || a.reserve.iter().any(|(_, rpm)| rpm.is_some());
        if !needs_redis || !inner.healthy.load(Ordering::Acquire) {
            let admitted = inner.local.admit_now(&a);
            if matches!(admitted, Admitted::Reserved) {
                for &(s, _) in a.reserve {
                    inner.write(Write::Count {
                        key: inner.keys.requests(s, a.now),
                        n: 1,
                    });
                }
            }
            return future::Either::Left(future::ready(admitted));
        }
        future::Either::Right(Box::pin(async move {
            match inner.admit_shared(&a).await {
                Some(admitted) => admitted,
                None => inner.local.admit_now(&a),
            }
        }))
    }

    fn degraded(&self) -> bool {
        !self.inner.healthy.load(Ordering::Acquire)
    }

    fn cooling_until(&self, d: usize, now: u64) -> Option<u64> {
        self.inner.local.cooling_until(d, now)
    }

    fn cool_down(&self, d: usize, until: u64) -> u64 {
        let inner = &self.inner;
        let until = inner.local.cool_down(d, until);
        inner.write(Write::Cooldown {
            key: inner.keys.cooldown(d),
            until,
        });
        until
    }

    fn record_failure(&self, d: usize, now: u64) -> u32 {
        self.inner.local.record_failure(d, now)
    }

    fn record_tokens(&self, s: usize, tokens: u64, now: u64) {
        let inner = &self.inner;
        inner.local.record_tokens(s, tokens, now);
        if tokens > 0 {
            inner.write(Write::Count {
                key: inner.keys.tokens(s, now),
                n: tokens,
            });
        }
    }

    fn usage(&self, s: usize, now: u64) -> (u64, u64) {
        self.inner.local.usage(s, now)
    }

    fn record_limit_tokens(&self, limits: &[RateLimit], tokens: u64, now: u64) {
        let inner = &self.inner;
        inner.local.record_limit_tokens(limits, tokens, now);
        for l in limits.iter().filter(|_| tokens > 0) {
            inner.write(Write::Count {
                key: inner.keys.caller_tokens(&l.id, now),
                n: tokens,
            });
        }
    }

    fn cache_get(&self, key: &str, now: u64) -> Option<Arc<Cached>> {
        self.inner.local.cache_get(key, now)
    }

    fn cache_put(&self, key: String, value: Arc<Cached>, expires: u64) {
        let inner = &self.inner;
        if let Ok(json) = serde_json::to_string(&*value) {
            inner.write(Write::Cache {
                key: inner.keys.cache(&key),
                value: json,
                expires,
            });
        }
        inner.local.cache_put(key, value, expires);
    }

    fn settle_spend(&self, budgets: &[Budget], estimate_usd: f64, actual_usd: f64, now: u64) {
        let inner = &self.inner;
        inner
            .local
            .settle_spend(budgets, estimate_usd, actual_usd, now);
        for b in budgets {
            inner.write(Write::Settle {
                spent: inner.keys.spent(b, now),
                held: inner.keys.held(b, now),
                estimate: estimate_usd,
                actual: actual_usd,
                ttl_ms: b.keep_ms(),
            });
        }
    }

    fn spent(&self, budget: &Budget, now: u64) -> f64 {
        self.inner.local.spent(budget, now)
    }

    fn record_outcome(&self, s: usize, outcome: &Outcome) {
        self.inner.unflushed[s].record(outcome);
    }

    fn shared_totals(&self, s: usize) -> Option<TotalsSnapshot> {
        let shared = self.inner.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.get(s).copied().flatten()
    }
}
