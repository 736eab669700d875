//! Token usage and what it costs.

use serde::{Deserialize, Serialize};

/// Token counts as OpenAI reports them; every wire format normalises into this.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details.map_or(0, |d| d.cached_tokens)
    }

    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .map_or(0, |d| d.reasoning_tokens)
    }

    /// Counts guessed from text lengths (≈4 characters a token) for a call that ended before
    /// the upstream reported usage.
    pub fn estimate(request_chars: u64, completion_chars: u64) -> Self {
        let prompt_tokens = request_chars.div_ceil(4);
        let completion_tokens = completion_chars.div_ceil(4);
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            ..Self::default()
        }
    }

    /// `total_tokens` as reported, or the sum when the upstream left it out.
    fn with_total(mut self) -> Self {
        if self.total_tokens == 0 {
            self.total_tokens = self.prompt_tokens + self.completion_tokens;
        }
        self
    }
}

/// The usage and cost of one finished call, on whatever path it ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageReport {
    pub usage: Usage,
    /// The counts are [`Usage::estimate`]s: the upstream never reported usage.
    pub estimated: bool,
    /// USD; `None` when the model has no known price.
    pub cost: Option<f64>,
}

impl UsageReport {
    /// `reported` when the upstream sent usage, else an estimate from the characters sent and
    /// delivered; priced at `price`, or the model's list price.
    pub fn new(
        model: &str,
        reported: Option<Usage>,
        (request_chars, completion_chars): (u64, u64),
        price: Option<Price>,
    ) -> Self {
        let (usage, estimated) = match reported {
            Some(u) => (u.with_total(), false),
            None => (Usage::estimate(request_chars, completion_chars), true),
        };
        let cost = price
            .or_else(|| builtin_price(model))
            .map(|p| p.cost(&usage));
        Self {
            usage,
            estimated,
            cost,
        }
    }
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Price of cached prompt tokens; `None` bills them as ordinary input.
    pub cached_input: Option<f64>,
    /// Price of reasoning tokens (part of the completion); `None` bills them as output.
    pub reasoning: Option<f64>,
}

/// One model's row of the shipped price table.
#[derive(Debug, Clone, Copy, Deserialize)]
struct ListedModel {
    input: f64,
    output: f64,
    cached_input: Option<f64>,
    reasoning: Option<f64>,
    context_window: Option<u64>,
}

#[derive(Deserialize)]
struct PriceTable {
    models: std::collections::HashMap<String, ListedModel>,
    free_providers: Vec<String>,
}

/// The list prices shipped as data (`prices.json`), parsed once.
fn table() -> &'static PriceTable {
    static TABLE: std::sync::LazyLock<PriceTable> = std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../prices.json"))
            .expect("prices.json is valid: a unit test parses it")
    });
    &TABLE
}

/// The table's row for `model` by the longest matching model-id prefix; provider prefixes
/// (`openai/`, `together_ai/meta-llama/`, …) are ignored.
fn listed(model: &str) -> Option<&'static ListedModel> {
    let bare = model.rsplit('/').next().unwrap_or(model);
    let models = &table().models;
    // Every call is priced: an exact id is one hash lookup, a dated or suffixed id a scan.
    models.get(bare).or_else(|| {
        models
            .iter()
            .filter(|(prefix, _)| bare.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, m)| m)
    })
}

/// The list price of `model`. Models not in the table cost `None` (unknown), never zero.
pub fn builtin_price(model: &str) -> Option<Price> {
    listed(model).map(|m| Price {
        input: m.input,
        output: m.output,
        cached_input: m.cached_input,
        reasoning: m.reasoning,
    })
}

/// The context window of `model`, from the table.
pub fn builtin_context_window(model: &str) -> Option<u64> {
    listed(model)?.context_window
}

/// Whether provider `id` serves from the caller's own hardware, at no per-token price.
pub fn provider_is_free(id: &str) -> bool {
    table().free_providers.iter().any(|p| p == id)
}

impl Price {
    /// Nothing per token: local servers, and answers from the cache.
    pub const FREE: Price = Price {
        input: 0.0,
        output: 0.0,
        cached_input: None,
        reasoning: None,
    };

    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_tokens().min(usage.prompt_tokens);
        let fresh = usage.prompt_tokens - cached;
        let reasoning = usage.reasoning_tokens().min(usage.completion_tokens);
        let answer = usage.completion_tokens - reasoning;
        (fresh as f64 * self.input
            + cached as f64 * self.cached_input.unwrap_or(self.input)
            + answer as f64 * self.output
            + reasoning as f64 * self.reasoning.unwrap_or(self.output))
            / 1_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_covers_the_seeds_models() {
        for model in [
            "gpt-4",
            "gpt-3.5-turbo",
            "claude-3-sonnet-20240229",
            "claude-3-opus-20240229",
            "gemini-pro",
            "llama3-70b-8192",
            "deepseek-chat",
            "command-r",
        ] {
            assert!(builtin_price(model).is_some(), "{model}");
        }
        assert_eq!(builtin_context_window("gpt-4o-2024-08-06"), Some(128_000));
        assert!(provider_is_free("ollama") && !provider_is_free("openai"));
        for m in table().models.values() {
            assert!(m.input >= 0.0 && m.output >= 0.0);
        }
    }

    #[test]
    fn longest_prefix_wins_and_prefixes_are_ignored() {
        assert_eq!(builtin_price("gpt-4o-mini-2024-07-18").unwrap().input, 0.15);
        assert_eq!(
            builtin_price("openai/gpt-4o-2024-08-06").unwrap().input,
            2.50
        );
        assert_eq!(builtin_price("gpt-4-0613").unwrap().input, 30.0);
        assert!(builtin_price("my-local-llama").is_none());
    }

    #[test]
    fn cost_bills_cached_tokens_at_their_rate() {
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 500_000,
            total_tokens: 1_500_000,
            prompt_tokens_details: Some(PromptDetails {
                cached_tokens: 400_000,
            }),
            completion_tokens_details: None,
        };
        let p = builtin_price("gpt-4o").unwrap();
        let expected = 0.6 * 2.5 + 0.4 * 1.25 + 0.5 * 10.0;
        assert!((p.cost(&usage) - expected).abs() < 1e-9);
    }

    #[test]
    fn cost_bills_reasoning_tokens_at_their_rate_within_the_completion() {
        let usage = Usage {
            prompt_tokens: 0,
            completion_tokens: 1_000_000,
            total_tokens: 1_000_000,
            prompt_tokens_details: None,
            completion_tokens_details: Some(CompletionDetails {
                reasoning_tokens: 250_000,
            }),
        };
        let plain = Price {
            input: 1.0,
            output: 4.0,
            cached_input: None,
            reasoning: None,
        };
        let p = Price {
            reasoning: Some(20.0),
            ..plain
        };
        assert!((p.cost(&usage) - (0.75 * 4.0 + 0.25 * 20.0)).abs() < 1e-9);
        // Without a reasoning price they are output tokens.
        assert!((plain.cost(&usage) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn reports_estimate_when_usage_is_missing_and_price_by_override_or_list() {
        let r = UsageReport::new("gpt-4o", None, (41, 9), None);
        assert!(r.estimated);
        assert_eq!((r.usage.prompt_tokens, r.usage.completion_tokens), (11, 3));
        assert_eq!(r.usage.total_tokens, 14);
        assert!(r.cost.unwrap() > 0.0);

        let reported = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            ..Usage::default()
        };
        let r = UsageReport::new("house-model", Some(reported), (0, 0), None);
        assert!(!r.estimated);
        assert_eq!(r.usage.total_tokens, 15, "total filled in when missing");
        assert_eq!(r.cost, None, "unknown model: unknown cost, never zero");

        let r = UsageReport::new(
            "house-model",
            Some(reported),
            (0, 0),
            Some(Price {
                input: 1.0,
                output: 2.0,
                cached_input: None,
                reasoning: None,
            }),
        );
        assert!((r.cost.unwrap() - 20.0 / 1e6).abs() < 1e-15);
    }
}
