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

const fn price(input: f64, output: f64, cached_input: Option<f64>) -> Price {
    Price {
        input,
        output,
        cached_input,
        reasoning: None,
    }
}

/// List prices of widely used models, matched by the longest model-id prefix. Models not here
/// cost `None` (unknown), never zero.
const BUILTIN_PRICES: &[(&str, Price)] = &[
    ("gpt-4o-mini", price(0.15, 0.60, Some(0.075))),
    ("gpt-4o", price(2.50, 10.00, Some(1.25))),
    ("gpt-4.1-nano", price(0.10, 0.40, Some(0.025))),
    ("gpt-4.1-mini", price(0.40, 1.60, Some(0.10))),
    ("gpt-4.1", price(2.00, 8.00, Some(0.50))),
    ("gpt-4-turbo", price(10.00, 30.00, None)),
    ("gpt-4", price(30.00, 60.00, None)),
    ("gpt-3.5-turbo", price(0.50, 1.50, None)),
    ("o1-mini", price(1.10, 4.40, Some(0.55))),
    ("o1", price(15.00, 60.00, Some(7.50))),
    ("o3-mini", price(1.10, 4.40, Some(0.55))),
    ("o3", price(2.00, 8.00, Some(0.50))),
    ("o4-mini", price(1.10, 4.40, Some(0.275))),
    ("claude-3-5-haiku", price(0.80, 4.00, Some(0.08))),
    ("claude-3-haiku", price(0.25, 1.25, Some(0.03))),
    ("claude-3-5-sonnet", price(3.00, 15.00, Some(0.30))),
    ("claude-3-7-sonnet", price(3.00, 15.00, Some(0.30))),
    ("claude-sonnet-4", price(3.00, 15.00, Some(0.30))),
    ("claude-3-opus", price(15.00, 75.00, Some(1.50))),
    ("claude-opus-4", price(15.00, 75.00, Some(1.50))),
    ("gemini-1.5-flash", price(0.075, 0.30, None)),
    ("gemini-1.5-pro", price(1.25, 5.00, None)),
    ("gemini-2.0-flash", price(0.10, 0.40, Some(0.025))),
    ("gemini-2.5-flash", price(0.30, 2.50, Some(0.075))),
    ("gemini-2.5-pro", price(1.25, 10.00, Some(0.31))),
];

/// The built-in price of `model`. Provider prefixes (`openai/`, `anthropic/`, ...) are ignored.
pub fn builtin_price(model: &str) -> Option<Price> {
    let bare = model.rsplit('/').next().unwrap_or(model);
    BUILTIN_PRICES
        .iter()
        .filter(|(prefix, _)| bare.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, p)| *p)
}

impl Price {
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
        let p = Price {
            reasoning: Some(20.0),
            ..price(1.0, 4.0, None)
        };
        assert!((p.cost(&usage) - (0.75 * 4.0 + 0.25 * 20.0)).abs() < 1e-9);
        // Without a reasoning price they are output tokens.
        assert!((price(1.0, 4.0, None).cost(&usage) - 4.0).abs() < 1e-9);
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
            Some(price(1.0, 2.0, None)),
        );
        assert!((r.cost.unwrap() - 20.0 / 1e6).abs() < 1e-15);
    }
}
