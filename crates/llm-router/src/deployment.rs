//! A deployment: one concrete provider model behind a public model name, its limits and
//! routing hints, and its live state.

use llm_providers::{AnyProvider, Provider};
use std::sync::Arc;

use crate::state::DeploymentState;

/// Limits and hints of a deployment (LiteLLM's `rpm`, `tpm`, `max_parallel_requests`,
/// `weight`, `order`, and `model_info` context window and prices).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentSpec {
    /// Requests per minute this deployment takes; over it, it is skipped.
    pub rpm: Option<u64>,
    /// Tokens per minute this deployment takes; over it, it is skipped.
    pub tpm: Option<u64>,
    /// Requests in flight at once; at it, it is skipped.
    pub max_parallel_requests: Option<u32>,
    /// Share of traffic under `simple-shuffle` (relative to the group's other weights).
    pub weight: Option<f64>,
    /// Priority tier: lower first; higher tiers only when every lower one is unavailable.
    /// Deployments without an order come after those with one.
    pub order: Option<u32>,
    /// Context window (prompt tokens) checked before the call.
    pub max_input_tokens: Option<u64>,
    /// Price per token in dollars (input, output), as `model_info` writes it. Only a routing
    /// preference for `cost-based-routing`: spend is never computed from it (accounting is in
    /// integer nano-dollars, in llm-policy).
    pub price_per_token: Option<(f64, f64)>,
    /// Retries after this deployment fails (LiteLLM's per-deployment `max_retries`); overrides
    /// the router's `num_retries`, and is overridden by the request's.
    pub max_retries: Option<u32>,
}

/// One `model_list` entry, ready to serve.
#[derive(Debug)]
pub struct Deployment<P: Provider = AnyProvider> {
    /// Stable id for logs and headers (`model_info.id`, else `<model_name>#<index>`).
    pub id: Arc<str>,
    /// The public model name (the group) clients ask for.
    pub model_name: Arc<str>,
    /// `provider/model` this deployment calls.
    pub target_model: Arc<str>,
    pub spec: DeploymentSpec,
    pub provider: P,
    /// Live counters, latency and breaker: the router's shared-state backend replaces it
    /// with its own for this id when the deployment joins a router.
    pub state: Arc<DeploymentState>,
}

impl<P: Provider> Deployment<P> {
    /// A deployment with no limits or hints.
    pub fn new(id: &str, model_name: &str, target_model: &str, provider: P) -> Self {
        Deployment::with_spec(
            id,
            model_name,
            target_model,
            DeploymentSpec::default(),
            provider,
        )
    }

    /// A deployment with limits and hints.
    pub fn with_spec(
        id: &str,
        model_name: &str,
        target_model: &str,
        spec: DeploymentSpec,
        provider: P,
    ) -> Self {
        Deployment {
            id: Arc::from(id),
            model_name: Arc::from(model_name),
            target_model: Arc::from(target_model),
            spec,
            provider,
            state: Arc::new(DeploymentState::new(id)),
        }
    }
}
