//! How a model group picks among its healthy deployments, by LiteLLM's strategy names. Every
//! pick honours `order` tiers first: the best tier with an available deployment wins.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::deployment::Deployment;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// Weighted random by `weight`, else `rpm`, else `tpm`, else uniform.
    SimpleShuffle,
    /// The deployment with the fewest calls in flight.
    LeastBusy,
    /// The lowest moving-average latency (time to first token for streams); deployments within
    /// `buffer` of the best are picked among at random.
    LatencyBased { buffer: f64 },
    /// The cheapest deployment by its price.
    CostBased,
    /// The deployment with the most rpm/tpm headroom.
    UsageBased,
    /// Each deployment in turn.
    RoundRobin,
}

impl Strategy {
    /// LiteLLM's `routing_strategy` names (and Switchyard's `round-robin`).
    pub fn from_name(name: &str, buffer: f64) -> Result<Self, Error> {
        Ok(match name {
            "simple-shuffle" | "shuffle" => Self::SimpleShuffle,
            "least-busy" => Self::LeastBusy,
            "latency-based-routing" => Self::LatencyBased { buffer },
            "cost-based-routing" | "cost-optimized" => Self::CostBased,
            "usage-based-routing" | "usage-based-routing-v2" => Self::UsageBased,
            "round-robin" | "simple-round-robin" => Self::RoundRobin,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unknown routing_strategy {other:?}: use simple-shuffle, least-busy, latency-based-routing, cost-based-routing, usage-based-routing-v2 or round-robin"
                )))
            }
        })
    }
}

/// Groups up to this size are scanned whole by the scoring strategies.
const SCAN_ALL: usize = 32;
/// Larger groups score this many random candidates (the power of k choices): O(1) a pick.
const SAMPLES: usize = 16;

/// The usable deployments a scoring strategy compares: all of a small group, a random sample
/// of a large one (all of it when the sample found none usable).
fn candidates<'a>(
    members: &'a [usize],
    c: &'a Candidates<'a>,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    if members.len() > SCAN_ALL {
        let sample: Vec<usize> = (0..SAMPLES)
            .map(|_| members[fastrand::usize(..members.len())])
            .filter(|&d| (c.usable)(d))
            .collect();
        if !sample.is_empty() {
            return Box::new(sample.into_iter());
        }
    }
    Box::new(members.iter().copied().filter(|&d| (c.usable)(d)))
}

/// The candidate with the highest `score`.
fn best_of<K: PartialOrd>(
    members: &[usize],
    c: &Candidates,
    score: impl Fn(usize) -> K,
) -> Option<usize> {
    candidates(members, c)
        .map(|d| (score(d), d))
        .reduce(|best, next| if next.0 > best.0 { next } else { best })
        .map(|(_, d)| d)
}

/// Share of rpm/tpm left, ordered as a number.
#[derive(PartialEq, PartialOrd)]
struct Headroom(f64);

/// A group's deployments arranged for picking: sorted by order (then by cost, for
/// cost-based routing), with the cumulative shuffle weights of each tier.
pub struct Lineup {
    /// Deployment indices.
    members: Vec<usize>,
    /// Ranges of `members` sharing one `order`, best first.
    tiers: Vec<Range<usize>>,
    /// Running totals of the shuffle weights, aligned with `members`.
    cumulative: Vec<f64>,
    next: AtomicUsize,
    pub strategy: Strategy,
}

/// What a pick may consider: `usable(d)` says whether deployment `d` can take this call now.
pub struct Candidates<'a> {
    pub deployments: &'a [Deployment],
    pub usable: &'a dyn Fn(usize) -> bool,
    /// Share of `d`'s rpm/tpm still free this minute (1.0 without limits), for usage-based routing.
    pub headroom: &'a dyn Fn(usize) -> f64,
    pub stream: bool,
}

fn shuffle_weight(d: &Deployment, by: fn(&Deployment) -> Option<f64>) -> f64 {
    by(d).filter(|w| *w > 0.0).unwrap_or(0.0)
}

impl Lineup {
    pub fn new(mut members: Vec<usize>, deployments: &[Deployment], strategy: Strategy) -> Self {
        let cost = |d: usize| deployments[d].unit_cost().unwrap_or(f64::INFINITY);
        members.sort_by(|&a, &b| {
            let (da, db) = (&deployments[a], &deployments[b]);
            da.order.cmp(&db.order).then_with(|| match strategy {
                Strategy::CostBased => cost(a).total_cmp(&cost(b)),
                _ => std::cmp::Ordering::Equal,
            })
        });
        let mut tiers: Vec<Range<usize>> = Vec::new();
        for (i, &d) in members.iter().enumerate() {
            match tiers.last_mut() {
                Some(t) if deployments[members[t.start]].order == deployments[d].order => {
                    t.end = i + 1
                }
                _ => tiers.push(i..i + 1),
            }
        }
        // LiteLLM weighs by `weight`, else `rpm`, else `tpm`, else evenly.
        let sources: [fn(&Deployment) -> Option<f64>; 3] = [
            |d| (d.weight > 0.0).then_some(d.weight),
            |d| d.limits.rpm.map(|r| r as f64),
            |d| d.limits.tpm.map(|t| t as f64),
        ];
        let by = sources
            .into_iter()
            .find(|by| members.iter().any(|&d| by(&deployments[d]).is_some()));
        let mut cumulative = Vec::with_capacity(members.len());
        for tier in &tiers {
            let mut total = 0.0;
            for &d in &members[tier.clone()] {
                total += by.map_or(1.0, |by| shuffle_weight(&deployments[d], by));
                cumulative.push(total);
            }
        }
        Self {
            members,
            tiers,
            cumulative,
            next: AtomicUsize::new(0),
            strategy,
        }
    }

    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// The deployment for this call, or `None` when none is usable.
    pub fn pick(&self, c: &Candidates) -> Option<usize> {
        self.tiers
            .iter()
            .find_map(|tier| self.pick_in(tier.clone(), c))
    }

    fn pick_in(&self, tier: Range<usize>, c: &Candidates) -> Option<usize> {
        let members = &self.members[tier.clone()];
        let usable = |&&d: &&usize| (c.usable)(d);
        match self.strategy {
            Strategy::SimpleShuffle => self.shuffle(tier, c),
            Strategy::RoundRobin => {
                let start = self.next.fetch_add(1, Ordering::Relaxed);
                (0..members.len())
                    .map(|i| members[(start + i) % members.len()])
                    .find(|&d| (c.usable)(d))
            }
            // Sorted by cost when the lineup was built.
            Strategy::CostBased => members.iter().find(usable).copied(),
            Strategy::LeastBusy => {
                let busy = |d: usize| c.deployments[d].metrics.in_flight.load(Ordering::Relaxed);
                best_of(members, c, |d| std::cmp::Reverse(busy(d)))
            }
            Strategy::UsageBased => best_of(members, c, |d| Headroom((c.headroom)(d))),
            Strategy::LatencyBased { buffer } => {
                let latency = |d: usize| c.deployments[d].metrics.latency_us(c.stream);
                // Unmeasured deployments (0) go first, so every deployment gets measured.
                let scored: Vec<(usize, u64)> =
                    candidates(members, c).map(|d| (d, latency(d))).collect();
                let best = scored.iter().map(|&(_, l)| l).min()?;
                let limit = best as f64 * (1.0 + buffer);
                let near: Vec<usize> = scored
                    .into_iter()
                    .filter(|&(_, l)| l as f64 <= limit)
                    .map(|(d, _)| d)
                    .collect();
                near.get(fastrand::usize(..near.len())).copied()
            }
        }
    }

    /// A weighted draw: a binary search on the tier's running weights, a few redraws when the
    /// draw is not usable, then a weighted draw among the usable ones.
    fn shuffle(&self, tier: Range<usize>, c: &Candidates) -> Option<usize> {
        let weights = &self.cumulative[tier.clone()];
        let members = &self.members[tier];
        let total = *weights.last()?;
        if total > 0.0 {
            for _ in 0..4 {
                let x = fastrand::f64() * total;
                let i = weights.partition_point(|&w| w <= x).min(members.len() - 1);
                if (c.usable)(members[i]) {
                    return Some(members[i]);
                }
            }
        }
        let mut prev = 0.0;
        let usable: Vec<(usize, f64)> = members
            .iter()
            .zip(weights)
            .filter_map(|(&d, &w)| {
                let weight = w - prev;
                prev = w;
                (c.usable)(d).then_some((d, weight))
            })
            .collect();
        let total: f64 = usable.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return usable
                .get(fastrand::usize(..usable.len().max(1)))
                .map(|(d, _)| *d);
        }
        let mut x = fastrand::f64() * total;
        for &(d, w) in &usable {
            if x < w {
                return Some(d);
            }
            x -= w;
        }
        usable.last().map(|(d, _)| *d)
    }
}
