//! Routing strategies: which of a group's available deployments takes the next request.
//! Names are LiteLLM's `router_settings.routing_strategy` values.

use llm_providers::Provider;
use std::time::Duration;
use tokio::time::Instant;

use crate::deployment::Deployment;

/// A routing strategy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Weighted random: by `weight`, else by `rpm`, else by `tpm`, else uniform.
    #[default]
    SimpleShuffle,
    /// Fewest requests in flight.
    LeastBusy,
    /// Lowest average latency (time to first chunk for streams), with some exploration.
    LatencyBased,
    /// Most rpm/tpm headroom in the current minute.
    UsageBased,
    /// Cheapest by price per token; ties by latency.
    CostBased,
}

impl Strategy {
    /// Parses LiteLLM's names.
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name {
            "simple-shuffle" => Strategy::SimpleShuffle,
            "least-busy" => Strategy::LeastBusy,
            "latency-based-routing" => Strategy::LatencyBased,
            "usage-based-routing" | "usage-based-routing-v2" => Strategy::UsageBased,
            "cost-based-routing" => Strategy::CostBased,
            _ => return None,
        })
    }

    /// Every name [`Strategy::parse`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "simple-shuffle",
        "least-busy",
        "latency-based-routing",
        "usage-based-routing",
        "usage-based-routing-v2",
        "cost-based-routing",
    ];
}

/// Share of latency-based picks that explore a random deployment, so a deployment that was
/// slow once is measured again.
const EXPLORATION: f64 = 0.1;

/// Picks one of `candidates` (non-empty); `random` is a uniform sample in [0, 1).
pub fn choose<P: Provider>(
    strategy: Strategy,
    candidates: &[&Deployment<P>],
    stream: bool,
    now: Instant,
    random: f64,
) -> usize {
    match strategy {
        Strategy::SimpleShuffle => weighted(candidates, random),
        Strategy::LeastBusy => lowest(candidates, random, |d| d.state.in_flight() as f64),
        Strategy::LatencyBased => {
            if random < EXPLORATION {
                return uniform(candidates.len(), random / EXPLORATION);
            }
            // Unmeasured deployments go first: they need a sample.
            lowest(candidates, random, |d| latency_score(d, stream))
        }
        Strategy::UsageBased => lowest(candidates, random, |d| usage_score(d, now)),
        Strategy::CostBased => {
            let cheapest = candidates
                .iter()
                .map(|d| cost_score(d))
                .fold(f64::INFINITY, f64::min);
            let tied: Vec<&Deployment<P>> = candidates
                .iter()
                .copied()
                .filter(|d| cost_score(d) == cheapest)
                .collect();
            let pick = lowest(&tied, random, |d| latency_score(d, stream));
            candidates
                .iter()
                .position(|d| std::ptr::eq(*d, tied[pick]))
                .unwrap_or(0)
        }
    }
}

fn latency_score<P: Provider>(deployment: &Deployment<P>, stream: bool) -> f64 {
    deployment
        .state
        .latency(stream)
        .map_or(0.0, |l: Duration| l.as_secs_f64())
}

/// Fraction of the tightest limit used this minute; without limits, tokens used (scaled so
/// any limited deployment with headroom compares sensibly).
fn usage_score<P: Provider>(deployment: &Deployment<P>, now: Instant) -> f64 {
    let usage = deployment.state.minute_usage(now);
    let fractions = [
        deployment
            .spec
            .rpm
            .map(|rpm| usage.requests as f64 / rpm.max(1) as f64),
        deployment
            .spec
            .tpm
            .map(|tpm| usage.tokens as f64 / tpm.max(1) as f64),
    ];
    match fractions.into_iter().flatten().reduce(f64::max) {
        Some(fraction) => fraction,
        None => usage.tokens as f64 / 1e9,
    }
}

/// Input plus output price per token; unknown prices sort last.
fn cost_score<P: Provider>(deployment: &Deployment<P>) -> f64 {
    deployment
        .spec
        .price_per_token
        .map_or(f64::INFINITY, |(input, output)| input + output)
}

fn uniform(len: usize, random: f64) -> usize {
    ((random * len as f64) as usize).min(len.saturating_sub(1))
}

/// The candidate with the lowest score; ties broken at random.
fn lowest<P: Provider>(
    candidates: &[&Deployment<P>],
    random: f64,
    score: impl Fn(&Deployment<P>) -> f64,
) -> usize {
    let scores: Vec<f64> = candidates.iter().map(|d| score(d)).collect();
    let best = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let tied: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] <= best).collect();
    tied.get(uniform(tied.len(), random)).copied().unwrap_or(0)
}

/// Weighted random by `weight`, else `rpm`, else `tpm`, else uniform.
fn weighted<P: Provider>(candidates: &[&Deployment<P>], random: f64) -> usize {
    let weight_of = |d: &Deployment<P>| -> Option<f64> {
        if candidates.iter().any(|c| c.spec.weight.is_some()) {
            return Some(d.spec.weight.unwrap_or(0.0));
        }
        if candidates.iter().any(|c| c.spec.rpm.is_some()) {
            return Some(d.spec.rpm.unwrap_or(0) as f64);
        }
        if candidates.iter().any(|c| c.spec.tpm.is_some()) {
            return Some(d.spec.tpm.unwrap_or(0) as f64);
        }
        None
    };
    let weights: Vec<f64> = candidates
        .iter()
        .filter_map(|d| weight_of(d))
        .map(|w| w.max(0.0))
        .collect();
    let total: f64 = weights.iter().sum();
    if weights.len() != candidates.len() || total <= 0.0 {
        return uniform(candidates.len(), random);
    }
    let mut point = random * total;
    for (i, weight) in weights.iter().enumerate() {
        if point < *weight {
            return i;
        }
        point -= weight;
    }
    candidates.len() - 1
}
