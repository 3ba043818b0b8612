//! Response headers that say how the router served a request: which deployment answered and
//! how many retries and fallbacks it took, and what the answer cost at catalog prices
//! (LiteLLM sends the same as `x-litellm-*`).

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use llm_providers::Provider;
use llm_router::Routed;
use llm_types::money::NanoDollars;
use llm_types::{Usage, catalog};

pub static MODEL_ID: HeaderName = HeaderName::from_static("x-llm-model-id");
pub static ATTEMPTED_RETRIES: HeaderName = HeaderName::from_static("x-llm-attempted-retries");
pub static ATTEMPTED_FALLBACKS: HeaderName = HeaderName::from_static("x-llm-attempted-fallbacks");
pub static RESPONSE_COST: HeaderName = HeaderName::from_static("x-llm-response-cost");

/// What the headers need from a [`Routed`] answer, once its value has been taken out.
pub struct RouteInfo {
    deployment: String,
    retries: u32,
    fallbacks: u32,
    /// What the answer cost at catalog prices, when the model and its usage are known.
    cost: Option<NanoDollars>,
}

impl RouteInfo {
    pub fn of<T, P: Provider>(routed: &Routed<T, P>) -> Self {
        RouteInfo {
            deployment: routed.deployment.id.to_string(),
            retries: routed.failures.len() as u32,
            fallbacks: routed.fallbacks,
            cost: None,
        }
    }

    /// Prices `usage` for the deployment's model from the model catalog (LiteLLM's
    /// `x-litellm-response-cost`). Unknown models or missing usage: no header.
    pub fn with_cost(mut self, model: &str, usage: Option<&Usage>) -> Self {
        self.cost = usage.and_then(|usage| catalog::lookup(model).map(|info| info.cost(usage)));
        self
    }

    /// Adds the headers to `response`.
    pub fn apply(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        if let Ok(id) = HeaderValue::from_str(&self.deployment) {
            headers.insert(MODEL_ID.clone(), id);
        }
        headers.insert(ATTEMPTED_RETRIES.clone(), HeaderValue::from(self.retries));
        headers.insert(
            ATTEMPTED_FALLBACKS.clone(),
            HeaderValue::from(self.fallbacks),
        );
        if let Some(cost) = self.cost
            && let Ok(value) = HeaderValue::from_str(&cost.to_decimal_string())
        {
            headers.insert(RESPONSE_COST.clone(), value);
        }
        response
    }
}
