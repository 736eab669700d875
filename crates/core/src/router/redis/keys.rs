//! Where each piece of shared state lives in Redis, and the writes queued for it.

use super::super::state::{Budget, WINDOW_MS};

/// Names of the keys, all under the namespace.
pub(super) struct Keys {
    pub ns: String,
    /// Deployment ids, then `group:<name>` for each group's slot.
    pub slots: Vec<String>,
    pub deployments: usize,
}

impl Keys {
    fn window(now: u64) -> u64 {
        now / WINDOW_MS
    }
    pub fn requests(&self, s: usize, now: u64) -> String {
        format!("{}:rpm:{}:{}", self.ns, self.slots[s], Self::window(now))
    }
    pub fn tokens(&self, s: usize, now: u64) -> String {
        format!("{}:tpm:{}:{}", self.ns, self.slots[s], Self::window(now))
    }
    pub fn cooldown(&self, d: usize) -> String {
        format!("{}:cool:{}", self.ns, self.slots[d])
    }
    pub fn cache(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.ns)
    }
    pub fn spent(&self, b: &Budget, now: u64) -> String {
        format!("{}:spent:{}:{}", self.ns, b.id, b.window(now))
    }
    /// A caller limit's requests and tokens this minute.
    pub fn caller_requests(&self, id: &str, now: u64) -> String {
        format!("{}:caller-rpm:{id}:{}", self.ns, Self::window(now))
    }
    pub fn caller_tokens(&self, id: &str, now: u64) -> String {
        format!("{}:caller-tpm:{id}:{}", self.ns, Self::window(now))
    }
    /// Every process's totals of slot `s`: a hash of counters.
    pub fn totals(&self, s: usize) -> String {
        format!("{}:totals:{}", self.ns, self.slots[s])
    }
    pub fn held(&self, b: &Budget, now: u64) -> String {
        format!("{}:held:{}:{}", self.ns, b.id, b.window(now))
    }
}

/// A write the queue sends to Redis in the next pipeline.
pub(super) enum Write {
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
