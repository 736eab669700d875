//! Counters of the current minute: per deployment and group slot, and per caller (a key's or a
//! tag's own rate limit), lock-free once created.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::state::{RateLimit, WINDOW_MS};

/// A counter that resets when its window ends.
#[derive(Default)]
pub(super) struct WindowCounter {
    window: AtomicU64,
    count: AtomicU64,
}

impl WindowCounter {
    pub fn add(&self, n: u64, now: u64) -> u64 {
        let window = now / WINDOW_MS;
        if self.window.swap(window, Ordering::AcqRel) != window {
            // A new window: the first writer resets it. Racing writers may lose a count at the
            // boundary, never gain one.
            self.count.store(n, Ordering::Release);
            return n;
        }
        self.count.fetch_add(n, Ordering::AcqRel) + n
    }

    /// Add one unless the count already reached `limit`.
    pub fn add_one_within(&self, limit: u64, now: u64) -> bool {
        let window = now / WINDOW_MS;
        if self.window.swap(window, Ordering::AcqRel) != window {
            self.count.store(0, Ordering::Release);
        }
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c < limit).then_some(c + 1)
            })
            .is_ok()
    }

    /// Raise the count to `n` (a shared store's view, which includes this process's counts).
    pub fn raise_to(&self, n: u64, now: u64) {
        let window = now / WINDOW_MS;
        if self.window.swap(window, Ordering::AcqRel) != window {
            self.count.store(n, Ordering::Release);
        } else {
            self.count.fetch_max(n, Ordering::AcqRel);
        }
    }

    /// Take back one count made by [`Self::add_one_within`] in this window.
    pub fn remove_one(&self, now: u64) {
        if self.window.load(Ordering::Acquire) == now / WINDOW_MS {
            let _ = self
                .count
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| c.checked_sub(1));
        }
    }

    pub fn get(&self, now: u64) -> u64 {
        if self.window.load(Ordering::Acquire) == now / WINDOW_MS {
            self.count.load(Ordering::Acquire)
        } else {
            0
        }
    }
}

/// Requests and tokens of one caller's limit this minute.
#[derive(Default)]
struct CallerCounts {
    requests: WindowCounter,
    tokens: WindowCounter,
}

/// Callers' counts by limit id; entries of past minutes are swept out once there are many.
#[derive(Default)]
pub(super) struct CallerCounters {
    counts: Mutex<HashMap<String, Arc<CallerCounts>>>,
}

/// Caller entries kept before past minutes' are swept out.
const SWEEP_AT: usize = 4096;

impl CallerCounters {
    fn of(&self, id: &str, now: u64) -> Arc<CallerCounts> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= SWEEP_AT && !counts.contains_key(id) {
            counts.retain(|_, c| c.requests.get(now) > 0 || c.tokens.get(now) > 0);
        }
        counts.entry(id.to_string()).or_default().clone()
    }

    /// Count one request against every limit if each has room for it (under its rpm, and its
    /// tpm not spent); else count none and name the first that is full.
    pub fn admit(&self, limits: &[RateLimit], now: u64) -> Result<(), usize> {
        for (index, limit) in limits.iter().enumerate() {
            let c = self.of(&limit.id, now);
            let tokens_left = limit.tpm.is_none_or(|tpm| c.tokens.get(now) < tpm);
            let counted = tokens_left
                && match limit.rpm {
                    Some(rpm) => c.requests.add_one_within(rpm, now),
                    None => {
                        c.requests.add(1, now);
                        true
                    }
                };
            if !counted {
                self.release(&limits[..index], now);
                return Err(index);
            }
        }
        Ok(())
    }

    /// Take back the requests [`Self::admit`] counted.
    pub fn release(&self, limits: &[RateLimit], now: u64) {
        for limit in limits {
            self.of(&limit.id, now).requests.remove_one(now);
        }
    }

    pub fn add_tokens(&self, limits: &[RateLimit], tokens: u64, now: u64) {
        for limit in limits {
            self.of(&limit.id, now).tokens.add(tokens, now);
        }
    }

    /// `(requests, tokens)` of `id` this minute.
    #[cfg(test)]
    pub fn usage(&self, id: &str, now: u64) -> (u64, u64) {
        let c = self.of(id, now);
        (c.requests.get(now), c.tokens.get(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(id: &str, rpm: Option<u64>, tpm: Option<u64>) -> RateLimit {
        RateLimit {
            id: id.into(),
            rpm,
            tpm,
        }
    }

    #[test]
    fn caller_limits_count_all_or_none_and_stop_at_rpm_or_spent_tpm() {
        let c = CallerCounters::default();
        let both = [limit("key", Some(2), None), limit("tag", None, Some(100))];
        assert!(c.admit(&both, 1_000).is_ok());
        assert!(c.admit(&both, 1_000).is_ok());
        assert_eq!(c.admit(&both, 1_000), Err(0), "the key is at its rpm");
        assert_eq!(
            c.usage("tag", 1_000),
            (2, 0),
            "the tag counted no third request"
        );
        c.add_tokens(&both[1..], 100, 2_000);
        assert_eq!(c.admit(&both[1..], 2_000), Err(0), "the tag spent its tpm");
        assert!(c.admit(&both, 61_000).is_ok(), "a new minute");
    }
}
