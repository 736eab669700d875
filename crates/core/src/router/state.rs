//! Router state shared by every call: cooldowns, failure windows, rpm/tpm usage and the
//! response cache, per slot (each deployment, then each group). One small trait, so a shared
//! backend (Redis) adds an implementation rather than a rewrite. Every method but
//! [`RouterState::admit`] is local and non-blocking: a shared backend keeps a local copy current
//! and writes through off the call's critical path. `admit` is the one step that may wait for
//! the shared store, once before a call is sent.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::{self, BoxFuture};
use lru::LruCache;

use super::cache::Cached;
use super::stats::{Outcome, TotalsSnapshot};
use super::window::{CallerCounters, WindowCounter};

/// Milliseconds since the Unix epoch: wall-clock time, so several processes agree on deadlines.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The window failures and usage are counted in, as LiteLLM counts them: the current minute.
pub const WINDOW_MS: u64 = 60_000;

/// A caller's own rate limit (a key's or a tag's, from governance), counted by `id` in the
/// current minute across every deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    pub id: String,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

/// A spend limit: `id` names what it covers (a key, a run, a provider, the whole router),
/// `limit_usd` is counted over windows of `window_ms` (aligned to the epoch, so a day is a UTC
/// day), or for the life of the state when `window_ms` is 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub id: String,
    pub limit_usd: f64,
    pub window_ms: u64,
    /// A budget without windows unused this long is forgotten (0: kept for the state's life),
    /// so per-run budgets do not pile up.
    pub retain_ms: u64,
}

impl Budget {
    /// The window `now` falls in (0 for a budget without windows).
    pub fn window(&self, now: u64) -> u64 {
        now.checked_div(self.window_ms).unwrap_or(0)
    }

    /// How long the shared store keeps the budget's spend after its last use (0: forever).
    pub fn keep_ms(&self) -> u64 {
        if self.window_ms > 0 {
            self.window_ms.saturating_mul(2)
        } else {
            self.retain_ms
        }
    }

    /// When the current window ends, if the budget has windows.
    pub fn resets_at(&self, now: u64) -> Option<u64> {
        (self.window_ms > 0).then(|| (self.window(now) + 1) * self.window_ms)
    }
}

/// What a call asks of the state before it is sent.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// A cached answer under this key is the answer (the first attempt of a call only).
    pub cache_key: Option<&'a str>,
    /// Count one request against each slot, within its rpm: all of them or none.
    pub reserve: &'a [(usize, Option<u64>)],
    /// Hold `estimate_usd` against each budget, if that keeps every one within its limit
    /// (spent plus held by calls in flight): all of them or none. Settled with
    /// [`RouterState::settle_spend`] once the call's cost is known.
    pub budgets: &'a [Budget],
    pub estimate_usd: f64,
    /// Count one request against each caller limit, within its rpm and while its tpm is not
    /// spent: all of them or none.
    pub limits: &'a [RateLimit],
    pub now: u64,
}

/// The state's answer to an [`Admission`].
#[derive(Debug, Clone)]
pub enum Admitted {
    /// The answer is in the cache; nothing was reserved.
    Cached(Arc<Cached>),
    /// The requests are counted; send the call.
    Reserved,
    /// A slot is at its rpm this window; nothing was counted.
    Full,
    /// `budgets[index]` cannot hold the estimate: `spent_usd` is spent or held already.
    OverBudget { index: usize, spent_usd: f64 },
    /// `limits[index]` is at its rpm, or spent its tpm, this minute.
    RateLimited { index: usize },
}

/// An admission: decided at once when it needs no round trip (no allocation then), else a
/// future.
pub type Admitting<'a> = future::Either<future::Ready<Admitted>, BoxFuture<'a, Admitted>>;

/// What a router remembers across calls, per slot (a deployment or a group, by index) and per
/// cache key.
pub trait RouterState: Send + Sync {
    /// Look the cache up and count the call's requests: the one step before a call is sent.
    /// Check and count are one step, so concurrent calls cannot pass a limit together.
    fn admit<'a>(&'a self, admission: Admission<'a>) -> Admitting<'a>;
    /// When deployment `d` may take traffic again, if it is cooling down now.
    fn cooling_until(&self, d: usize, now: u64) -> Option<u64>;
    /// Cool `d` down until `until`. A later deadline extends the cooldown; an earlier one never
    /// shortens it. Returns the deadline in force.
    fn cool_down(&self, d: usize, until: u64) -> u64;
    /// Count a failure of `d`; returns the failures in the current window, this one included.
    fn record_failure(&self, d: usize, now: u64) -> u32;
    /// Count a call's `tokens` against its caller limits once they are known.
    fn record_limit_tokens(&self, limits: &[RateLimit], tokens: u64, now: u64);
    /// Count `tokens` against slot `s`'s tpm window once they are known (requests are counted
    /// by [`Self::admit`] as they are sent).
    fn record_tokens(&self, s: usize, tokens: u64, now: u64);
    /// `(requests, tokens)` counted against slot `s` in the current window.
    fn usage(&self, s: usize, now: u64) -> (u64, u64);
    /// The cached answer under `key` in this process, if one is there and fresh: a probe that
    /// never waits (a shared backend's hits come through [`Self::admit`]).
    fn cache_get(&self, key: &str, now: u64) -> Option<Arc<Cached>>;
    /// Store `value` under `key` until `expires` (ms since the epoch).
    fn cache_put(&self, key: String, value: Arc<Cached>, expires: u64);
    /// Count a finished attempt (a deployment's slot) or call (a group's) where every process
    /// can see it; this process's own figures are the router's counters.
    fn record_outcome(&self, _s: usize, _outcome: &Outcome) {}
    /// Every process's figures for slot `s`, when the state is shared.
    fn shared_totals(&self, _s: usize) -> Option<TotalsSnapshot> {
        None
    }
    /// Whether a shared backend is unreachable, so this process runs on its local state alone.
    fn degraded(&self) -> bool {
        false
    }
    /// Book a call's `actual_usd` against each budget in place of the `estimate_usd` its
    /// admission held (streams and aborted calls included).
    fn settle_spend(&self, budgets: &[Budget], estimate_usd: f64, actual_usd: f64, now: u64);
    /// USD spent against `budget` in its current window (calls in flight not included).
    fn spent(&self, budget: &Budget, now: u64) -> f64;
}

/// A budget's spend in its current window: booked, and held by calls in flight.
#[derive(Debug, Default, Clone, Copy)]
struct Spend {
    window: u64,
    spent: f64,
    held: f64,
    /// When it was last held or settled, and how long it is kept after that (0: forever).
    touched: u64,
    retain_ms: u64,
}

/// Spend entries kept before forgotten ones are swept out.
const SPEND_SWEEP_AT: usize = 4096;

#[derive(Default)]
struct DeploymentState {
    cooling_until: AtomicU64,
    failures: WindowCounter,
    requests: WindowCounter,
    tokens: WindowCounter,
}

/// State in this process only: lock-free per deployment, so picking among a thousand
/// deployments reads a thousand atomics and takes no lock.
pub struct MemoryState {
    deployments: Vec<DeploymentState>,
    cache: Mutex<LruCache<String, (Arc<Cached>, u64)>>,
    callers: CallerCounters,
    /// Only calls under a budget take this lock.
    spend: Mutex<Spending>,
}

#[derive(Default)]
struct Spending {
    entries: HashMap<String, Spend>,
    /// Sweep forgotten entries once this many are kept.
    sweep_at: usize,
}

/// Entries the response cache keeps when no `max_size` is configured.
pub const DEFAULT_CACHE_ENTRIES: usize = 1024;

impl MemoryState {
    pub fn new(slots: usize) -> Self {
        Self::with_cache_size(slots, DEFAULT_CACHE_ENTRIES)
    }

    pub fn with_cache_size(slots: usize, entries: usize) -> Self {
        Self {
            deployments: (0..slots).map(|_| DeploymentState::default()).collect(),
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN),
            )),
            callers: CallerCounters::default(),
            spend: Mutex::new(Spending {
                entries: HashMap::new(),
                sweep_at: SPEND_SWEEP_AT,
            }),
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryState {
    /// [`RouterState::admit`] in this process: it never waits.
    pub fn admit_now(&self, admission: &Admission<'_>) -> Admitted {
        let now = admission.now;
        if let Some(hit) = admission.cache_key.and_then(|k| self.cache_get(k, now)) {
            return Admitted::Cached(hit);
        }
        if let Err(index) = self.callers.admit(admission.limits, now) {
            return Admitted::RateLimited { index };
        }
        if !admission.budgets.is_empty() {
            if let Err(refused) = self.hold(admission.budgets, admission.estimate_usd, now) {
                self.callers.release(admission.limits, now);
                return refused;
            }
        }
        for (i, &(s, rpm)) in admission.reserve.iter().enumerate() {
            let requests = &self.deployments[s].requests;
            let counted = match rpm {
                Some(limit) => requests.add_one_within(limit, now),
                None => {
                    requests.add(1, now);
                    true
                }
            };
            if !counted {
                for &(earlier, _) in &admission.reserve[..i] {
                    self.deployments[earlier].requests.remove_one(now);
                }
                self.settle_spend(admission.budgets, admission.estimate_usd, 0.0, now);
                self.callers.release(admission.limits, now);
                return Admitted::Full;
            }
        }
        Admitted::Reserved
    }
}

impl MemoryState {
    /// Bring slot `s`'s counts this window up to a shared store's `(requests, tokens)`.
    pub fn raise_usage(&self, s: usize, (requests, tokens): (u64, u64), now: u64) {
        let state = &self.deployments[s];
        state.requests.raise_to(requests, now);
        state.tokens.raise_to(tokens, now);
    }

    /// The number of slots.
    pub fn slots(&self) -> usize {
        self.deployments.len()
    }

    /// Hold `estimate` against every budget, or none if one would pass its limit.
    fn hold(&self, budgets: &[Budget], estimate: f64, now: u64) -> Result<(), Admitted> {
        let mut spending = locked(&self.spend);
        spending.sweep(now);
        let spend = &mut spending.entries;
        for (index, b) in budgets.iter().enumerate() {
            let s = current(spend, b, now);
            if s.spent + s.held + estimate > b.limit_usd {
                return Err(Admitted::OverBudget {
                    index,
                    spent_usd: s.spent + s.held,
                });
            }
        }
        for b in budgets {
            current(spend, b, now).held += estimate;
        }
        Ok(())
    }
}

impl Spending {
    /// Forget the budgets unused past their retention, once there are many.
    fn sweep(&mut self, now: u64) {
        if self.entries.len() < self.sweep_at {
            return;
        }
        self.entries.retain(|_, s| {
            s.held > 0.0 || s.retain_ms == 0 || now.saturating_sub(s.touched) < s.retain_ms
        });
        self.sweep_at = (self.entries.len() * 2).max(SPEND_SWEEP_AT);
    }
}

/// `b`'s spend entry, started over when its window has passed.
fn current<'m>(spend: &'m mut HashMap<String, Spend>, b: &Budget, now: u64) -> &'m mut Spend {
    let window = b.window(now);
    let s = spend.entry(b.id.clone()).or_default();
    if s.window != window {
        *s = Spend {
            window,
            ..Spend::default()
        };
    }
    s.touched = now;
    s.retain_ms = b.retain_ms;
    s
}

impl RouterState for MemoryState {
    fn cooling_until(&self, d: usize, now: u64) -> Option<u64> {
        let until = self.deployments[d].cooling_until.load(Ordering::Acquire);
        (until > now).then_some(until)
    }

    fn cool_down(&self, d: usize, until: u64) -> u64 {
        let previous = self.deployments[d]
            .cooling_until
            .fetch_max(until, Ordering::AcqRel);
        previous.max(until)
    }

    fn record_failure(&self, d: usize, now: u64) -> u32 {
        self.deployments[d].failures.add(1, now) as u32
    }

    fn record_tokens(&self, d: usize, tokens: u64, now: u64) {
        if tokens > 0 {
            self.deployments[d].tokens.add(tokens, now);
        }
    }

    fn admit<'a>(&'a self, admission: Admission<'a>) -> Admitting<'a> {
        future::Either::Left(future::ready(self.admit_now(&admission)))
    }

    fn usage(&self, d: usize, now: u64) -> (u64, u64) {
        let state = &self.deployments[d];
        (state.requests.get(now), state.tokens.get(now))
    }

    fn cache_get(&self, key: &str, now: u64) -> Option<Arc<Cached>> {
        let mut cache = locked(&self.cache);
        match cache.get(key) {
            Some((value, expires)) if *expires > now => Some(value.clone()),
            Some(_) => {
                cache.pop(key);
                None
            }
            None => None,
        }
    }

    fn cache_put(&self, key: String, value: Arc<Cached>, expires: u64) {
        locked(&self.cache).put(key, (value, expires));
    }

    fn record_limit_tokens(&self, limits: &[RateLimit], tokens: u64, now: u64) {
        self.callers.add_tokens(limits, tokens, now);
    }

    fn settle_spend(&self, budgets: &[Budget], estimate_usd: f64, actual_usd: f64, now: u64) {
        if budgets.is_empty() {
            return;
        }
        let mut spending = locked(&self.spend);
        for b in budgets {
            let s = current(&mut spending.entries, b, now);
            s.held = (s.held - estimate_usd).max(0.0);
            s.spent += actual_usd;
        }
    }

    fn spent(&self, budget: &Budget, now: u64) -> f64 {
        let spending = locked(&self.spend);
        spending
            .entries
            .get(&budget.id)
            .filter(|s| s.window == budget.window(now))
            .map_or(0.0, |s| s.spent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserve(s: &MemoryState, slots: &[(usize, Option<u64>)], now: u64) -> bool {
        let admission = Admission {
            cache_key: None,
            reserve: slots,
            budgets: &[],
            estimate_usd: 0.0,
            limits: &[],
            now,
        };
        matches!(s.admit_now(&admission), Admitted::Reserved)
    }

    #[test]
    fn recooling_extends_and_never_shortens() {
        let s = MemoryState::new(1);
        assert_eq!(s.cool_down(0, 10_000), 10_000);
        assert_eq!(
            s.cool_down(0, 5_000),
            10_000,
            "an earlier deadline keeps the later one"
        );
        assert_eq!(s.cooling_until(0, 9_999), Some(10_000));
        assert_eq!(s.cool_down(0, 20_000), 20_000);
        assert_eq!(s.cooling_until(0, 20_000), None, "over at its deadline");
    }

    #[test]
    fn failures_and_usage_count_per_window() {
        let s = MemoryState::new(2);
        assert_eq!(s.record_failure(0, 1_000), 1);
        assert_eq!(s.record_failure(0, 59_999), 2);
        assert_eq!(s.record_failure(0, 60_000), 1, "a new minute starts over");
        assert!(reserve(&s, &[(1, None)], 1_000));
        s.record_tokens(1, 30, 1_000);
        assert!(reserve(&s, &[(1, None)], 2_000));
        s.record_tokens(1, 12, 2_000);
        assert_eq!(s.usage(1, 3_000), (2, 42));
        assert_eq!(s.usage(1, 61_000), (0, 0));
        assert_eq!(s.usage(0, 3_000), (0, 0));
    }

    #[test]
    fn cache_expires_and_evicts_the_least_recently_used() {
        let s = MemoryState::with_cache_size(0, 2);
        let value = |t: &str| {
            Arc::new(Cached::Completion {
                json: t.into(),
                usage: None,
            })
        };
        s.cache_put("a".into(), value("a"), 1_000);
        s.cache_put("b".into(), value("b"), 5_000);
        assert!(s.cache_get("a", 999).is_some());
        assert!(s.cache_get("a", 1_000).is_none(), "expired at its deadline");
        s.cache_put("c".into(), value("c"), 5_000);
        s.cache_get("b", 0);
        s.cache_put("d".into(), value("d"), 5_000);
        assert!(
            s.cache_get("c", 0).is_none(),
            "least recently used went first"
        );
        assert!(s.cache_get("b", 0).is_some());
    }

    #[test]
    fn reservations_stop_at_the_limit() {
        let s = MemoryState::new(1);
        assert!((0..3).all(|_| reserve(&s, &[(0, Some(3))], 1_000)));
        assert!(!reserve(&s, &[(0, Some(3))], 2_000));
        assert_eq!(s.usage(0, 2_000), (3, 0));
        assert!(
            reserve(&s, &[(0, Some(3))], 61_000),
            "a new minute has room"
        );
    }

    #[test]
    fn a_reservation_counts_every_slot_or_none() {
        let s = MemoryState::new(2);
        assert!(reserve(&s, &[(0, Some(5)), (1, Some(1))], 1_000));
        assert!(
            !reserve(&s, &[(0, Some(5)), (1, Some(1))], 1_000),
            "the second slot is full"
        );
        assert_eq!(
            s.usage(0, 1_000),
            (1, 0),
            "the first slot's count was taken back"
        );
    }

    #[test]
    fn budgets_hold_estimates_in_flight_and_book_what_was_spent() {
        let s = MemoryState::new(1);
        let day = Budget {
            id: "day".into(),
            limit_usd: 1.0,
            window_ms: 86_400_000,
            retain_ms: 0,
        };
        let admit = |estimate: f64, now: u64| {
            s.admit_now(&Admission {
                cache_key: None,
                reserve: &[(0, None)],
                budgets: std::slice::from_ref(&day),
                estimate_usd: estimate,
                limits: &[],
                now,
            })
        };
        assert!(matches!(admit(0.6, 1_000), Admitted::Reserved));
        assert!(
            matches!(admit(0.6, 1_000), Admitted::OverBudget { index: 0, .. }),
            "0.6 held in flight leaves no room for another 0.6"
        );
        assert_eq!(
            s.usage(0, 1_000),
            (1, 0),
            "a refused call counts no request"
        );
        s.settle_spend(std::slice::from_ref(&day), 0.6, 0.25, 2_000);
        assert_eq!(s.spent(&day, 2_000), 0.25);
        assert!(matches!(admit(0.6, 3_000), Admitted::Reserved));
        assert!(
            matches!(admit(0.6, 86_400_000), Admitted::Reserved),
            "a new day"
        );
        assert_eq!(day.resets_at(1_000), Some(86_400_000));
    }

    #[test]
    fn a_shared_view_raises_the_local_counts_never_lowers_them() {
        let s = MemoryState::new(1);
        assert!(reserve(&s, &[(0, None)], 1_000));
        s.raise_usage(0, (5, 40), 2_000);
        assert_eq!(s.usage(0, 2_000), (5, 40));
        s.raise_usage(0, (3, 10), 2_000);
        assert_eq!(s.usage(0, 2_000), (5, 40));
        s.raise_usage(0, (1, 1), 61_000);
        assert_eq!(
            s.usage(0, 61_000),
            (1, 1),
            "a new minute starts from the shared view"
        );
    }

    #[test]
    fn forgotten_run_budgets_are_swept_out() {
        let s = MemoryState::new(0);
        let run = |i: usize| Budget {
            id: format!("run-{i}"),
            limit_usd: 1.0,
            window_ms: 0,
            retain_ms: 1_000,
        };
        for i in 0..SPEND_SWEEP_AT {
            s.settle_spend(&[run(i)], 0.0, 0.1, 10_000);
        }
        let kept = |s: &MemoryState| locked(&s.spend).entries.len();
        assert_eq!(kept(&s), SPEND_SWEEP_AT);
        assert!(s.hold(&[run(1)], 0.1, 12_000).is_ok());
        assert_eq!(kept(&s), 1, "only the run just used is left");
        assert_eq!(s.spent(&run(2), 12_000), 0.0, "a forgotten run starts over");

        let fresh = MemoryState::new(0);
        for i in 0..SPEND_SWEEP_AT {
            fresh.settle_spend(&[run(i)], 0.0, 0.1, 10_000);
        }
        assert!(fresh.hold(&[run(0)], 0.1, 10_500).is_ok());
        assert_eq!(
            kept(&fresh),
            SPEND_SWEEP_AT,
            "within their retention, all are kept"
        );
    }

    #[test]
    fn a_cached_answer_admits_without_counting() {
        let s = MemoryState::new(1);
        let value = Arc::new(Cached::Completion {
            json: "{}".into(),
            usage: None,
        });
        s.cache_put("k".into(), value, 10_000);
        let admission = Admission {
            cache_key: Some("k"),
            reserve: &[(0, Some(1))],
            budgets: &[],
            estimate_usd: 0.0,
            limits: &[],
            now: 1_000,
        };
        assert!(matches!(s.admit_now(&admission), Admitted::Cached(_)));
        assert_eq!(s.usage(0, 1_000), (0, 0));
    }
}
