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
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::{self, BoxFuture};
use redis::aio::ConnectionManager;
use redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, Script, Value};
use tokio::sync::mpsc;

use super::cache::Cached;
use super::state::{now_ms, Admission, Admitted, Budget, MemoryState, RouterState, WINDOW_MS};
use crate::error::Error;

/// How often the local mirror is refreshed while Redis answers.
const SYNC_EVERY: Duration = Duration::from_millis(50);
/// The longest wait between probes while Redis does not answer.
const PROBE_AT_MOST: Duration = Duration::from_secs(2);
/// Writes sent in one pipeline at most.
const PIPELINE_WRITES: usize = 512;
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
    /// Prefix of every key, so two apps can share one Redis.
    pub namespace: String,
    /// The longest a call waits for Redis before it goes on with local state.
    pub timeout: Duration,
}

/// Names of the keys, all under the namespace.
struct Keys {
    ns: String,
    /// Deployment ids, then `group:<name>` for each group's slot.
    slots: Vec<String>,
    deployments: usize,
}

impl Keys {
    fn window(now: u64) -> u64 {
        now / WINDOW_MS
    }
    fn requests(&self, s: usize, now: u64) -> String {
        format!("{}:rpm:{}:{}", self.ns, self.slots[s], Self::window(now))
    }
    fn tokens(&self, s: usize, now: u64) -> String {
        format!("{}:tpm:{}:{}", self.ns, self.slots[s], Self::window(now))
    }
    fn cooldown(&self, d: usize) -> String {
        format!("{}:cool:{}", self.ns, self.slots[d])
    }
    fn cache(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.ns)
    }
    fn spent(&self, b: &Budget, now: u64) -> String {
        format!("{}:spent:{}:{}", self.ns, b.id, b.window(now))
    }
    fn held(&self, b: &Budget, now: u64) -> String {
        format!("{}:held:{}:{}", self.ns, b.id, b.window(now))
    }
}

/// A write the queue sends to Redis in the next pipeline.
enum Write {
    /// Add `n` to a per-minute counter.
    Count {
        key: String,
        n: u64,
    },
    Cooldown {
        key: String,
        until: u64,
    },
    Cache {
        key: String,
        value: String,
        expires: u64,
    },
    Settle {
        spent: String,
        held: String,
        estimate: f64,
        actual: f64,
        ttl_ms: u64,
    },
}

// Budgets first, then limits, then count: all or nothing, in one atomic step.
const ADMIT: &str = r#"
local n, m, estimate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if KEYS[1] ~= '' then
  local hit = redis.call('GET', KEYS[1])
  if hit then return {1, hit, redis.call('PEXPIRETIME', KEYS[1])} end
end
for i = 1, m do
  local spent = tonumber(redis.call('GET', KEYS[1 + n + 2 * i - 1]) or '0')
  local held = tonumber(redis.call('GET', KEYS[1 + n + 2 * i]) or '0')
  if spent + held + estimate > tonumber(ARGV[4 + n + i]) then
    return {3, i - 1, tostring(spent + held)}
  end
end
for i = 1, n do
  local limit = tonumber(ARGV[4 + i])
  local c = tonumber(redis.call('GET', KEYS[1 + i]) or '0')
  if limit >= 0 and c >= limit then return {2, i - 1, c} end
end
local counts = {0}
for i = 1, n do
  local c = redis.call('INCR', KEYS[1 + i])
  if c == 1 then redis.call('PEXPIRE', KEYS[1 + i], ARGV[4]) end
  counts[i + 1] = c
end
for i = 1, m do
  redis.call('INCRBYFLOAT', KEYS[1 + n + 2 * i], estimate)
  redis.call('PEXPIRE', KEYS[1 + n + 2 * i], ARGV[4 + n + m + i])
end
return counts
"#;

// Re-cooling extends a cooldown, never shortens it; the key lives exactly as long.
const COOL_DOWN: &str = r#"
local deadline = tonumber(ARGV[1])
if deadline > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
end
return 1
"#;

const SETTLE: &str = r#"
local held = tonumber(redis.call('GET', KEYS[2]) or '0') - tonumber(ARGV[1])
if held > 1e-12 then redis.call('SET', KEYS[2], tostring(held), 'KEEPTTL') else redis.call('DEL', KEYS[2]) end
if tonumber(ARGV[2]) > 0 then
  redis.call('INCRBYFLOAT', KEYS[1], ARGV[2])
  if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return 1
"#;

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
        let client = Client::open(connection_info(&options.target)?)
            .map_err(|_| Error::InvalidInput("router config: redis: not a valid target".into()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_max_delay(PROBE_AT_MOST);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::Internal(format!("redis: {}", e.code().unwrap_or("error"))))?;
        let (writes, queue) = mpsc::unbounded_channel();
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
            admit: Script::new(ADMIT),
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
            } else {
                tracing::warn!(reason = why, "redis unavailable: router state is local");
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
    fn admit<'a>(&'a self, a: Admission<'a>) -> BoxFuture<'a, Admitted> {
        let inner = &self.inner;
        if let Some(hit) = a.cache_key.and_then(|k| inner.local.cache_get(k, a.now)) {
            return Box::pin(future::ready(Admitted::Cached(hit)));
        }
        let needs_redis = a.cache_key.is_some()
            || !a.budgets.is_empty()
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
            return Box::pin(future::ready(admitted));
        }
        Box::pin(async move {
            match inner.admit_shared(&a).await {
                Some(admitted) => admitted,
                None => inner.local.admit_now(&a),
            }
        })
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
                ttl_ms: b.window_ms.saturating_mul(2),
            });
        }
    }

    fn spent(&self, budget: &Budget, now: u64) -> f64 {
        self.inner.local.spent(budget, now)
    }
}

/// Keep the local mirror current: cooldowns and this minute's counts of every slot. Probes with
/// backoff while Redis does not answer; ends with the state.
async fn mirror(state: Weak<Inner>) {
    let mut wait = SYNC_EVERY;
    loop {
        tokio::time::sleep(wait).await;
        let Some(inner) = state.upgrade() else { return };
        let now = now_ms();
        let keys = &inner.keys;
        let slots = keys.slots.len();
        let mut pipe = redis::pipe();
        pipe.cmd("MGET");
        for d in 0..keys.deployments {
            pipe.arg(keys.cooldown(d));
        }
        pipe.cmd("MGET");
        for s in 0..slots {
            pipe.arg(keys.requests(s, now));
        }
        pipe.cmd("MGET");
        for s in 0..slots {
            pipe.arg(keys.tokens(s, now));
        }
        let mut conn = inner.conn.clone();
        let reply = tokio::time::timeout(
            Duration::from_secs(1),
            pipe.query_async::<(Vec<Option<u64>>, Vec<Option<u64>>, Vec<Option<u64>>)>(&mut conn),
        )
        .await;
        match reply {
            Ok(Ok((cooling, requests, tokens))) => {
                for (d, until) in cooling.into_iter().enumerate() {
                    if let Some(until) = until.filter(|&u| u > now) {
                        inner.local.cool_down(d, until);
                    }
                }
                for s in 0..slots {
                    let shared = (
                        requests.get(s).copied().flatten().unwrap_or(0),
                        tokens.get(s).copied().flatten().unwrap_or(0),
                    );
                    inner.local.raise_usage(s, shared, now);
                }
                inner.set_health(true, "");
                wait = SYNC_EVERY;
            }
            _ => {
                inner.set_health(false, "mirror refresh failed");
                wait = (wait * 2).min(PROBE_AT_MOST);
            }
        }
    }
}

/// Send queued writes in pipelines. While Redis is down, writes are dropped: the local state
/// has them, and the shared counts of one minute matter less than never blocking a call.
async fn drain(state: Weak<Inner>, mut queue: mpsc::UnboundedReceiver<Write>) {
    let mut batch = Vec::with_capacity(PIPELINE_WRITES);
    while queue.recv_many(&mut batch, PIPELINE_WRITES).await > 0 {
        let Some(inner) = state.upgrade() else { return };
        let mut pipe = redis::pipe();
        for w in batch.drain(..) {
            match w {
                Write::Count { key, n } => {
                    pipe.cmd("INCRBY").arg(&key).arg(n).ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(2 * WINDOW_MS).ignore();
                }
                Write::Cooldown { key, until } => {
                    // EVAL, not EVALSHA: a pipeline cannot load a script Redis lost.
                    pipe.cmd("EVAL")
                        .arg(COOL_DOWN)
                        .arg(1)
                        .arg(key)
                        .arg(until)
                        .ignore();
                }
                Write::Cache {
                    key,
                    value,
                    expires,
                } => {
                    pipe.cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("PXAT")
                        .arg(expires)
                        .ignore();
                }
                Write::Settle {
                    spent,
                    held,
                    estimate,
                    actual,
                    ttl_ms,
                } => {
                    pipe.cmd("EVAL")
                        .arg(SETTLE)
                        .arg(2)
                        .arg(spent)
                        .arg(held)
                        .arg(estimate)
                        .arg(actual)
                        .arg(ttl_ms)
                        .ignore();
                }
            }
        }
        let mut conn = inner.conn.clone();
        match tokio::time::timeout(Duration::from_secs(1), pipe.query_async::<()>(&mut conn)).await
        {
            Ok(Ok(())) => {}
            _ => inner.set_health(false, "write failed"),
        }
    }
}
