//! A deployment: one provider model with its client, routing weights, limits and live metrics.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::Limits;
use crate::client::ChatClient;
use crate::usage::{builtin_price, provider_is_free, Price};

/// One place a model group's calls can go.
pub struct Deployment {
    /// `model_info.id`, or `<group>/<index>`: names the deployment in events and stats.
    pub id: String,
    pub group: String,
    /// The provider id (`openai`, `anthropic`, …) and the model id it is sent; a wildcard
    /// deployment's `*` stands for what the call's model name matched.
    pub provider: String,
    pub model: String,
    pub client: ChatClient,
    pub weight: f64,
    /// Priority tier: lower orders are tried first.
    pub order: u32,
    pub limits: Limits,
    /// The price set in the config (`input_cost_per_token`, …).
    pub price: Option<Price>,
    /// What a call here costs per token, worked out once: the config's price, free for local
    /// servers, else the model's list price. A wildcard deployment's model is known per call.
    pub pricing: Pricing,
    pub context_window: Option<u64>,
    /// Wait for a stream's first chunk; the router's when unset.
    pub stream_timeout: Option<Duration>,
    /// This deployment's retries (LiteLLM's per-deployment `max_retries`); the group's when unset.
    pub max_retries: Option<u32>,
    pub metrics: Metrics,
}

/// A deployment's per-token price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pricing {
    /// The same for every call (`None`: unknown).
    Fixed(Option<Price>),
    /// The list price of the model each call names (a wildcard deployment's).
    PerModel,
}

impl Pricing {
    pub fn new(price: Option<Price>, provider: &str, model: &str) -> Self {
        match price {
            Some(p) => Self::Fixed(Some(p)),
            None if provider_is_free(provider) => Self::Fixed(Some(Price::FREE)),
            None if model.contains('*') => Self::PerModel,
            None => Self::Fixed(builtin_price(model)),
        }
    }
}

/// Live figures the strategies read: lock-free, updated on every call.
#[derive(Default)]
pub struct Metrics {
    pub in_flight: AtomicU32,
    /// EWMA of whole-call latency and of time to first token, in µs (0: not measured yet).
    latency_us: AtomicU64,
    ttft_us: AtomicU64,
}

/// Weight of the newest sample in the moving averages.
const EWMA_ALPHA: f64 = 0.2;

fn ewma_update(cell: &AtomicU64, sample: Duration) {
    let sample = sample.as_micros().max(1) as f64;
    // Racing updates may drop a sample; an average does not need them all.
    let old = cell.load(Ordering::Relaxed);
    let new = if old == 0 {
        sample
    } else {
        old as f64 * (1.0 - EWMA_ALPHA) + sample * EWMA_ALPHA
    };
    cell.store(new as u64, Ordering::Relaxed);
}

impl Metrics {
    pub fn record_latency(&self, latency: Duration) {
        ewma_update(&self.latency_us, latency);
    }

    pub fn record_ttft(&self, ttft: Duration) {
        ewma_update(&self.ttft_us, ttft);
    }

    /// Average latency in µs (time to first token when `stream`); 0 when not measured yet.
    pub fn latency_us(&self, stream: bool) -> u64 {
        let ttft = self.ttft_us.load(Ordering::Relaxed);
        if stream && ttft > 0 {
            ttft
        } else {
            self.latency_us.load(Ordering::Relaxed)
        }
    }
}

/// Holds one in-flight slot for the life of an attempt.
pub struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    pub fn start(metrics: &'a Metrics) -> Self {
        metrics.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Deployment {
    /// The model this deployment is sent, `*` filled in with what a wildcard group matched.
    pub fn model_for(&self, matched: Option<&str>) -> std::borrow::Cow<'_, str> {
        match matched {
            Some(m) if self.model.contains('*') => self.model.replacen('*', m, 1).into(),
            _ => self.model.as_str().into(),
        }
    }

    /// Per-token cost of a typical call (input + output), for cost-based routing.
    pub fn unit_cost(&self) -> Option<f64> {
        self.price.map(|p| p.input + p.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pricing_is_worked_out_once_unless_the_model_is_a_wildcard() {
        let own = Price {
            input: 1.0,
            output: 2.0,
            cached_input: None,
            reasoning: None,
        };
        assert_eq!(
            Pricing::new(Some(own), "ollama", "llama3"),
            Pricing::Fixed(Some(own)),
            "the config's price wins, even on a local server"
        );
        assert_eq!(
            Pricing::new(None, "ollama", "llama3"),
            Pricing::Fixed(Some(Price::FREE))
        );
        assert_eq!(
            Pricing::new(None, "openai", "gpt-4o-mini"),
            Pricing::Fixed(builtin_price("gpt-4o-mini"))
        );
        assert!(matches!(
            Pricing::new(None, "openai", "gpt-4o-mini"),
            Pricing::Fixed(Some(p)) if p.input == 0.15
        ));
        assert_eq!(
            Pricing::new(None, "openai", "no-such-model"),
            Pricing::Fixed(None),
            "unknown, never zero"
        );
        assert_eq!(Pricing::new(None, "openai", "*"), Pricing::PerModel);
    }
}
