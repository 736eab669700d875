//! Usage and cost, computed in the core once per call; JS only hands over what it saw.

use napi_derive::napi;
use switchyard_core::usage::{builtin_price, Price, PromptDetails, Usage, UsageReport};

/// USD per million tokens.
#[napi(object)]
#[derive(Clone)]
pub struct BindingPrice {
    pub input: f64,
    pub output: f64,
    /// Cached prompt tokens; billed as input when absent.
    pub cached_input: Option<f64>,
    /// Reasoning tokens (part of the completion); billed as output when absent.
    pub reasoning: Option<f64>,
}

impl From<Price> for BindingPrice {
    fn from(p: Price) -> Self {
        Self {
            input: p.input,
            output: p.output,
            cached_input: p.cached_input,
            reasoning: p.reasoning,
        }
    }
}

impl From<BindingPrice> for Price {
    fn from(p: BindingPrice) -> Self {
        Self {
            input: p.input,
            output: p.output,
            cached_input: p.cached_input,
            reasoning: p.reasoning,
        }
    }
}

/// What one call saw, for its usage report.
#[napi(object)]
pub struct BindingUsageInput {
    pub model: String,
    /// The upstream's `usage` object as JSON, when it sent one.
    pub usage_json: Option<String>,
    /// Characters of the request body, for the estimate when no usage arrived.
    pub request_chars: f64,
    /// Characters of content delivered, for the estimate when no usage arrived.
    pub delivered_chars: f64,
    /// Overrides the list price.
    pub price: Option<BindingPrice>,
}

/// Token counts in OpenAI's names, with the cost.
#[napi(object)]
pub struct BindingUsageReport {
    pub prompt_tokens: f64,
    pub completion_tokens: f64,
    pub total_tokens: f64,
    /// Prompt tokens served from the provider's cache (billed at the cached price).
    pub cached_tokens: f64,
    /// Completion tokens spent reasoning.
    pub reasoning_tokens: f64,
    /// The counts are guesses (≈4 characters a token): the upstream never reported usage.
    pub estimated: bool,
    /// USD; `null` when the model has no known price.
    pub cost: Option<f64>,
}

/// The usage report of one call: the upstream's counts (or an estimate) and their cost.
#[napi]
pub fn usage_report(input: BindingUsageInput) -> BindingUsageReport {
    // A usage object we cannot read is reported as an estimate, which says so.
    let reported = input
        .usage_json
        .and_then(|json| serde_json::from_str::<Usage>(&json).ok());
    let chars = (
        input.request_chars.max(0.0) as u64,
        input.delivered_chars.max(0.0) as u64,
    );
    let report = UsageReport::new(&input.model, reported, chars, input.price.map(Into::into));
    let u = report.usage;
    BindingUsageReport {
        prompt_tokens: u.prompt_tokens as f64,
        completion_tokens: u.completion_tokens as f64,
        total_tokens: u.total_tokens as f64,
        cached_tokens: u.cached_tokens() as f64,
        reasoning_tokens: u.reasoning_tokens() as f64,
        estimated: report.estimated,
        cost: report.cost,
    }
}

/// List-price cost in USD of a call to `model`, or `null` when the model is not in the table.
#[napi]
pub fn estimate_cost(
    model: String,
    prompt_tokens: f64,
    completion_tokens: f64,
    cached_tokens: Option<f64>,
) -> Option<f64> {
    let price = builtin_price(&model)?;
    let usage = Usage {
        prompt_tokens: prompt_tokens.max(0.0) as u64,
        completion_tokens: completion_tokens.max(0.0) as u64,
        total_tokens: (prompt_tokens + completion_tokens).max(0.0) as u64,
        prompt_tokens_details: cached_tokens.map(|c| PromptDetails {
            cached_tokens: c.max(0.0) as u64,
        }),
        completion_tokens_details: None,
    };
    Some(price.cost(&usage))
}
