//! Spend held for a call until its cost is known: the estimate it is held at, the hold that
//! settles it however the call ends, and the refusals budgets give.

use std::sync::Arc;
use std::time::Duration;

use super::state::{now_ms, Budget, RouterState};
use crate::error::{Error, ErrorKind, Refusal};
use crate::usage::{Price, Usage};

/// An estimate of a call's cost: an upper bound when the prompt takes at most a token per four
/// bytes of request JSON and the answer stays within its token cap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub usd: f64,
    /// What the prompt alone costs: booked for an attempt cancelled in flight.
    pub prompt_usd: f64,
    pub prompt_tokens: u64,
}

impl Estimate {
    pub fn new(price: &Price, prompt_bytes: u64, output_tokens: u64) -> Self {
        let prompt_tokens = prompt_bytes.div_ceil(4);
        let output = price.output.max(price.reasoning.unwrap_or(0.0));
        let prompt_usd = prompt_tokens as f64 * price.input / 1e6;
        Self {
            usd: prompt_usd + output_tokens as f64 * output / 1e6,
            prompt_usd,
            prompt_tokens,
        }
    }
}

pub(crate) fn refused(
    kind: ErrorKind,
    rule: String,
    message: String,
    retry_after: Option<Duration>,
) -> Error {
    Error::Refused(Box::new(Refusal {
        kind,
        rule,
        message,
        retry_after,
    }))
}

/// `budget` cannot hold `estimate` on top of `spent` (booked and held).
pub(crate) fn over_budget(budget: &Budget, spent: f64, estimate: f64, group: &str) -> Error {
    let now = now_ms();
    refused(
        ErrorKind::BudgetExceeded,
        budget.id.clone(),
        format!(
            "Budget {} exceeded for model group {group:?}: ${spent:.6} of ${:.6} spent or held, and the call may cost up to ${estimate:.6}",
            budget.id, budget.limit_usd
        ),
        budget
            .resets_at(now)
            .map(|at| Duration::from_millis(at.saturating_sub(now))),
    )
}

/// Spend held against budgets for one attempt until its cost is known. Settled once: with the
/// real cost, or, dropped in flight (an abort, the deadline, a hedge that lost), with the
/// prompt's estimated cost, which the provider bills for a request it began.
pub struct SpendHold {
    state: Arc<dyn RouterState>,
    budgets: Vec<Budget>,
    estimate: Estimate,
    settled: bool,
}

impl SpendHold {
    pub(crate) fn new(
        state: Arc<dyn RouterState>,
        budgets: Vec<Budget>,
        estimate: Estimate,
    ) -> Self {
        Self {
            state,
            budgets,
            estimate,
            settled: false,
        }
    }

    pub fn estimate(&self) -> Estimate {
        self.estimate
    }

    /// Book `actual_usd` in place of the estimate.
    pub fn settle(mut self, actual_usd: f64) {
        self.book(actual_usd);
    }

    /// Usage for a stream that ended before the upstream reported any: the prompt's estimate
    /// and the answer's delivered characters, about four a token.
    pub fn usage_from(&self, completion_chars: u64) -> Usage {
        let completion_tokens = completion_chars.div_ceil(4);
        Usage {
            prompt_tokens: self.estimate.prompt_tokens,
            completion_tokens,
            total_tokens: self.estimate.prompt_tokens + completion_tokens,
            ..Usage::default()
        }
    }

    fn book(&mut self, actual_usd: f64) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        self.state
            .settle_spend(&self.budgets, self.estimate.usd, actual_usd, now_ms());
    }
}

impl Drop for SpendHold {
    fn drop(&mut self) {
        let prompt = self.estimate.prompt_usd;
        self.book(prompt);
    }
}
