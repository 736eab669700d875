//! The router's side of governance: each call's rules, budgets and residency, applied where
//! deployments are picked and admitted, and logged as `policy` and `budget` events.

use std::time::Duration;

use super::events::{Decision, EventLog, RouterEvent};
use super::governance::{Governance, Identity};
use super::spend::{over_budget, refused, Estimate, SpendHold};
use super::state::{now_ms, Budget, RateLimit, WINDOW_MS};
use super::{Call, CallOptions, Group, Router};
use crate::error::{Error, ErrorKind};

/// One call's governance: who it is for, and what it may reach and spend.
pub(super) struct CallGov {
    identity: Identity,
    /// The call's own budgets (router, run, key, tags); a provider's is added per attempt.
    budgets: Vec<Budget>,
    /// Its key's and tags' rate limits.
    limits: Vec<RateLimit>,
    /// The residency rules its tags bring, by index.
    residency: Vec<usize>,
    prompt_bytes: u64,
    output_tokens: u64,
    /// Estimates at or above this were refused by one of the call's own budgets.
    ceiling: Option<f64>,
    /// Providers whose budget refused the call at admission.
    blocked: Vec<String>,
    /// The last refusal at admission: the answer when no deployment is left.
    refusal: Option<Error>,
}

impl CallGov {
    pub(super) fn limits(&self) -> &[RateLimit] {
        &self.limits
    }
}

/// What an attempt on one deployment is held against, at what estimate.
pub(super) struct Spend {
    budgets: Vec<Budget>,
    estimate: Estimate,
}

impl Spend {
    pub(super) fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    pub(super) fn estimate_usd(&self) -> f64 {
        self.estimate.usd
    }
}

/// Why budgets keep a deployment from a call.
enum Block<'a> {
    /// Its price is unknown, so no estimate can be held.
    Unpriced,
    /// Its provider's budget cannot hold the estimate.
    Provider(&'a Budget, f64),
    /// One of the call's budgets refused an estimate this high.
    Ceiling,
}

impl Router {
    fn rules(&self) -> &Governance {
        self.governance
            .as_ref()
            .expect("a call has governance only when the router has")
    }

    /// The governance of a call with `options` and request `body`; `None` without rules.
    pub(super) fn govern(
        &self,
        options: &CallOptions,
        body: &[u8],
        embeddings: bool,
    ) -> Option<CallGov> {
        let g = self.governance.as_ref()?;
        let identity = identity(options);
        Some(CallGov {
            budgets: g.call_budgets(&identity),
            limits: g.call_limits(&identity),
            residency: g.residency_for(&identity.tags),
            prompt_bytes: body.len() as u64,
            output_tokens: if embeddings { 0 } else { g.output_tokens(body) },
            identity,
            ceiling: None,
            blocked: Vec::new(),
            refusal: None,
        })
    }

    /// The model rules on `group`, asked for as `asked`, for a call with `options`.
    pub(super) fn check_group(
        &self,
        options: &CallOptions,
        group: &str,
        asked: &str,
        events: &mut EventLog,
    ) -> Result<(), Error> {
        let Some(g) = &self.governance else {
            return Ok(());
        };
        let names: &[&str] = if asked == group {
            &[group]
        } else {
            &[group, asked]
        };
        g.check_models(&identity(options), group, names, events)
    }

    /// Whether the model rules let `call` fall back to `group`.
    pub(super) fn fallback_allowed(&self, call: &mut Call, group: &str) -> bool {
        let Some(gov) = &call.gov else {
            return true;
        };
        self.rules()
            .check_models(&gov.identity, group, &[group], &mut call.events)
            .is_ok()
    }

    fn estimate(&self, gov: &CallGov, d: usize, matched: Option<&str>) -> Option<Estimate> {
        let dep = &self.deployments[d];
        let price = self.price_of(d, &dep.model_for(matched))?;
        let output = dep
            .context_window
            .map_or(gov.output_tokens, |w| gov.output_tokens.min(w));
        Some(Estimate::new(&price, gov.prompt_bytes, output))
    }

    fn blocked(&self, gov: &CallGov, d: usize, matched: Option<&str>) -> Option<Block<'_>> {
        let dep = &self.deployments[d];
        let provider = self.rules().provider_budget(&dep.provider);
        if gov.budgets.is_empty() && provider.is_none() {
            return None;
        }
        let Some(estimate) = self.estimate(gov, d, matched) else {
            return Some(Block::Unpriced);
        };
        if let Some(b) = provider {
            // The state's local view; admission holds the budget exactly.
            if gov.blocked.contains(&dep.provider)
                || self.state.spent(b, now_ms()) + estimate.usd > b.limit_usd
            {
                return Some(Block::Provider(b, estimate.usd));
            }
        }
        gov.ceiling
            .filter(|&c| estimate.usd >= c)
            .map(|_| Block::Ceiling)
    }

    /// Whether governance lets `call` go to deployment `d`: residency, and budgets that could
    /// hold its estimate there.
    pub(super) fn permits(&self, call: &Call, d: usize) -> bool {
        let Some(gov) = &call.gov else {
            return true;
        };
        self.rules().resident(&gov.residency, d)
            && self.blocked(gov, d, call.matched.as_deref()).is_none()
    }

    /// The budgets an attempt of `call` on `d` is held against, at its estimate; `None` when
    /// no budget applies.
    pub(super) fn spend_for(&self, call: &Call, d: usize) -> Option<Spend> {
        let gov = call.gov.as_ref()?;
        let provider = self.rules().provider_budget(&self.deployments[d].provider);
        if gov.budgets.is_empty() && provider.is_none() {
            return None;
        }
        // An unpriced deployment is never picked under a budget.
        let estimate = self.estimate(gov, d, call.matched.as_deref())?;
        let mut budgets = gov.budgets.clone();
        budgets.extend(provider.cloned());
        Some(Spend { budgets, estimate })
    }

    /// The caller's `limits[index]` refused the call: a `rate_limited` refusal naming it,
    /// with the minute's end as `retryAfter`.
    pub(super) fn caller_limited(&self, call: &Call, index: usize) -> Error {
        let id = call
            .gov
            .as_ref()
            .and_then(|g| g.limits.get(index))
            .map_or_else(String::new, |l| l.id.clone());
        let now = now_ms();
        let wait = Duration::from_millis((now / WINDOW_MS + 1) * WINDOW_MS - now);
        refused(
            ErrorKind::RateLimited,
            id.clone(),
            format!("Rate limit {id} reached: its requests or tokens this minute are used up"),
            Some(wait),
        )
    }

    /// Spend the state admitted: held until the attempt's cost is known, and logged.
    pub(super) fn hold(&self, spend: Spend, events: &mut EventLog) -> SpendHold {
        let now = now_ms();
        for b in &spend.budgets {
            events.push(RouterEvent::Budget {
                budget: b.id.clone(),
                spent_usd: self.state.spent(b, now),
                limit_usd: b.limit_usd,
                estimate_usd: spend.estimate.usd,
                decision: Decision::Allowed,
            });
        }
        SpendHold::new(self.state.clone(), spend.budgets, spend.estimate)
    }

    /// The state refused `spend` on `d`: `budgets[index]` holds `spent_usd` already. The next
    /// pick skips what the same budget would refuse.
    pub(super) fn refused_spend(
        &self,
        call: &mut Call,
        group: &Group,
        d: usize,
        spend: Spend,
        index: usize,
        spent_usd: f64,
    ) {
        let b = &spend.budgets[index];
        let estimate = spend.estimate.usd;
        call.events.push(RouterEvent::Budget {
            budget: b.id.clone(),
            spent_usd,
            limit_usd: b.limit_usd,
            estimate_usd: estimate,
            decision: Decision::Denied,
        });
        let Some(gov) = call.gov.as_mut() else {
            return;
        };
        if index >= gov.budgets.len() {
            gov.blocked.push(self.deployments[d].provider.clone());
        } else {
            gov.ceiling = Some(gov.ceiling.map_or(estimate, |c| c.min(estimate)));
        }
        gov.refusal = Some(over_budget(b, spent_usd, estimate, &group.name));
    }

    /// The residency rules of `call` that let it reach `d`, logged as it is sent there.
    pub(super) fn audit_residency(&self, call: &mut Call, group: &Group, d: usize) {
        let Some(gov) = &call.gov else {
            return;
        };
        for &i in &gov.residency {
            call.events.push(RouterEvent::Policy {
                decision: Decision::Allowed,
                rule: self.rules().residency_path(i),
                group: group.name.clone(),
                deployment: Some(self.deployments[d].id.clone()),
            });
        }
    }

    /// Provider budgets that keep `call` from some of `group`'s deployments, logged once as the
    /// call reaches the group.
    pub(super) fn audit_providers(&self, call: &mut Call, group: &Group) {
        let Some(gov) = &call.gov else {
            return;
        };
        if !self.rules().has_provider_budgets() {
            return;
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut denied = Vec::new();
        for &d in group.lineup.members() {
            let provider = self.deployments[d].provider.as_str();
            if seen.contains(&provider) {
                continue;
            }
            seen.push(provider);
            if let Some(Block::Provider(b, estimate)) =
                self.blocked(gov, d, call.matched.as_deref())
            {
                denied.push(RouterEvent::Budget {
                    budget: b.id.clone(),
                    spent_usd: self.state.spent(b, now_ms()),
                    limit_usd: b.limit_usd,
                    estimate_usd: estimate,
                    decision: Decision::Denied,
                });
            }
        }
        for event in denied {
            call.events.push(event);
        }
    }

    /// When no deployment of `group` can be picked: the governance reason, if it is the one.
    pub(super) fn refusal(&self, group: &Group, call: &mut Call) -> Option<Error> {
        let gov = call.gov.as_ref()?;
        let g = self.rules();
        let members = group.lineup.members();
        let mut resident = members
            .iter()
            .copied()
            .filter(|&d| g.resident(&gov.residency, d))
            .peekable();
        if resident.peek().is_none() {
            let rule = g.residency_rule(&gov.residency, *members.first()?)?;
            call.events.push(RouterEvent::Policy {
                decision: Decision::Denied,
                rule: rule.clone(),
                group: group.name.clone(),
                deployment: None,
            });
            return Some(refused(
                ErrorKind::Policy,
                rule.clone(),
                format!(
                    "No deployment of model group {:?} may take this call: {rule} limits where its tags may go",
                    group.name
                ),
                None,
            ));
        }
        let matched = call.matched.as_deref();
        let mut first = None;
        for d in resident {
            match self.blocked(gov, d, matched) {
                None => return None, // available later: cooling or at a limit, not governance
                Some(block) => {
                    first.get_or_insert((d, block));
                }
            }
        }
        if let Some(err) = &gov.refusal {
            return Some(err.clone());
        }
        let (d, block) = first?;
        Some(match block {
            Block::Provider(b, estimate) => {
                over_budget(b, self.state.spent(b, now_ms()), estimate, &group.name)
            }
            Block::Unpriced | Block::Ceiling => {
                let dep = &self.deployments[d];
                let rule = gov
                    .budgets
                    .first()
                    .or(g.provider_budget(&dep.provider))
                    .map_or_else(String::new, |b| b.id.clone());
                refused(
                    ErrorKind::Policy,
                    rule.clone(),
                    format!(
                        "Deployment {:?} of model group {:?} has no known price, so the budget {rule} cannot be held; set input_cost_per_token and output_cost_per_token",
                        dep.id, group.name
                    ),
                    None,
                )
            }
        })
    }
}

fn identity(options: &CallOptions) -> Identity {
    Identity {
        key: options.key.clone(),
        tags: options.tags.clone(),
        run_id: options.run_id.clone(),
    }
}
