//! Per-deployment usage statistics in fixed memory: counters and log-scale latency histograms,
//! so a million calls cost what ten do. Snapshots are seed 002's `model_stats` shape.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::usage::Usage;

/// Histogram buckets grow by this factor from 10 µs: 80 buckets reach past 20 minutes, each
/// percentile within ~10% of the truth.
const GROWTH: f64 = 1.2;
const FIRST_US: f64 = 10.0;
const BUCKETS: usize = 80;

pub struct Histogram {
    counts: [AtomicU64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Histogram {
    fn bucket(us: f64) -> usize {
        if us <= FIRST_US {
            return 0;
        }
        ((us / FIRST_US).ln() / GROWTH.ln())
            .ceil()
            .min((BUCKETS - 1) as f64) as usize
    }

    pub fn record(&self, d: Duration) {
        self.counts[Self::bucket(d.as_micros() as f64)].fetch_add(1, Ordering::Relaxed);
    }

    /// The `q` quantile in ms (the upper edge of its bucket), `None` without samples.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let bucket = counts
            .iter()
            .position(|&c| {
                seen += c;
                seen >= rank
            })
            .unwrap_or(BUCKETS - 1);
        Some(FIRST_US * GROWTH.powi(bucket as i32) / 1000.0)
    }

    fn summary(&self) -> Option<Percentiles> {
        Some(Percentiles {
            p50: self.quantile_ms(0.5)?,
            p95: self.quantile_ms(0.95)?,
            p99: self.quantile_ms(0.99)?,
        })
    }
}

/// Cost is kept in nano-dollars so it adds up atomically.
const NANO: f64 = 1e9;

/// Calls, errors, tokens and cost, added up atomically.
#[derive(Default)]
pub struct Totals {
    calls: AtomicU64,
    errors: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    cached_tokens: AtomicU64,
    reasoning_tokens: AtomicU64,
    cost_nano_usd: AtomicU64,
}

impl Totals {
    pub fn record(&self, outcome: &Outcome) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !outcome.ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(u) = &outcome.usage {
            self.input_tokens
                .fetch_add(u.prompt_tokens, Ordering::Relaxed);
            self.output_tokens
                .fetch_add(u.completion_tokens, Ordering::Relaxed);
            self.cached_tokens
                .fetch_add(u.cached_tokens(), Ordering::Relaxed);
            self.reasoning_tokens
                .fetch_add(u.reasoning_tokens(), Ordering::Relaxed);
        }
        if let Some(cost) = outcome.cost {
            self.cost_nano_usd
                .fetch_add((cost * NANO).round() as u64, Ordering::Relaxed);
        }
    }

    /// The figures so far; with `reset`, they start over from zero (what was taken is the
    /// delta since the last take).
    fn read(&self, reset: bool) -> TotalsSnapshot {
        let n = |c: &AtomicU64| {
            if reset {
                c.swap(0, Ordering::Relaxed)
            } else {
                c.load(Ordering::Relaxed)
            }
        };
        let (input, output) = (n(&self.input_tokens), n(&self.output_tokens));
        TotalsSnapshot {
            calls: n(&self.calls),
            errors: n(&self.errors),
            input_tokens: input,
            output_tokens: output,
            cached_tokens: n(&self.cached_tokens),
            reasoning_tokens: n(&self.reasoning_tokens),
            total_tokens: input + output,
            cost_usd: n(&self.cost_nano_usd) as f64 / NANO,
        }
    }

    pub fn snapshot(&self) -> TotalsSnapshot {
        self.read(false)
    }

    /// Put back figures taken but not delivered.
    pub fn add(&self, t: &TotalsSnapshot) {
        let add = |c: &AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
        add(&self.calls, t.calls);
        add(&self.errors, t.errors);
        add(&self.input_tokens, t.input_tokens);
        add(&self.output_tokens, t.output_tokens);
        add(&self.cached_tokens, t.cached_tokens);
        add(&self.reasoning_tokens, t.reasoning_tokens);
        add(&self.cost_nano_usd, (t.cost_usd * NANO).round() as u64);
    }

    /// What was added since the last take.
    pub fn take(&self) -> TotalsSnapshot {
        self.read(true)
    }
}

#[derive(Default)]
pub struct Counters {
    pub totals: Totals,
    pub latency: Histogram,
    pub ttft: Histogram,
}

impl Counters {
    pub fn record(&self, outcome: &Outcome) {
        self.totals.record(outcome);
        if let Some(l) = outcome.latency {
            self.latency.record(l);
        }
        if let Some(t) = outcome.ttft {
            self.ttft.record(t);
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            totals: self.totals.snapshot(),
            latency_ms: self.latency.summary(),
            ttft_ms: self.ttft.summary(),
        }
    }
}

/// How one attempt (or call) ended, for the counters.
pub struct Outcome {
    pub ok: bool,
    pub usage: Option<Usage>,
    pub cost: Option<f64>,
    pub latency: Option<Duration>,
    pub ttft: Option<Duration>,
}

impl Outcome {
    pub fn failed() -> Self {
        Self {
            ok: false,
            usage: None,
            cost: None,
            latency: None,
            ttft: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct TotalsSnapshot {
    pub calls: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub total_tokens: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsSnapshot {
    #[serde(flatten)]
    pub totals: TotalsSnapshot,
    pub latency_ms: Option<Percentiles>,
    pub ttft_ms: Option<Percentiles>,
}

/// `router.stats()`: seed 002's `model_stats`, per group and per deployment.
#[derive(Debug, Clone, Serialize)]
pub struct RouterStats {
    pub model_stats: BTreeMap<String, GroupStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupStats {
    #[serde(flatten)]
    pub stats: StatsSnapshot,
    /// Every process's figures together, when the state is shared (Redis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<TotalsSnapshot>,
    pub deployments: BTreeMap<String, DeploymentStats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentStats {
    pub provider: String,
    pub model: String,
    pub cooling_until_ms: Option<u64>,
    #[serde(flatten)]
    pub stats: StatsSnapshot,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<TotalsSnapshot>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_land_within_a_bucket_of_the_truth() {
        let h = Histogram::default();
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        let p99 = h.quantile_ms(0.99).unwrap();
        assert!((50.0..=50.0 * GROWTH).contains(&p50), "p50 {p50}");
        assert!((99.0..=99.0 * GROWTH).contains(&p99), "p99 {p99}");
        assert_eq!(Histogram::default().quantile_ms(0.5), None);
    }

    #[test]
    fn counters_add_usage_and_cost() {
        let c = Counters::default();
        let usage = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15,
            ..Usage::default()
        };
        for ok in [true, false] {
            c.record(&Outcome {
                ok,
                usage: Some(usage),
                cost: Some(0.001),
                latency: Some(Duration::from_millis(3)),
                ttft: None,
            });
        }
        let snapshot = c.snapshot();
        assert!(snapshot.ttft_ms.is_none());
        let s = snapshot.totals;
        assert_eq!(
            (s.calls, s.errors, s.input_tokens, s.output_tokens),
            (2, 1, 20, 10)
        );
        assert!((s.cost_usd - 0.002).abs() < 1e-12);
        assert_eq!(s.total_tokens, 30);
    }
}
