//! Response headers that say how the router served a request: which deployment answered and
//! how many retries and fallbacks it took (LiteLLM sends the same as `x-litellm-*`).

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use llm_providers::Provider;
use llm_router::Routed;

pub static MODEL_ID: HeaderName = HeaderName::from_static("x-llm-model-id");
pub static ATTEMPTED_RETRIES: HeaderName = HeaderName::from_static("x-llm-attempted-retries");
pub static ATTEMPTED_FALLBACKS: HeaderName = HeaderName::from_static("x-llm-attempted-fallbacks");

/// What the headers need from a [`Routed`] answer, once its value has been taken out.
pub struct RouteInfo {
    deployment: String,
    retries: u32,
    fallbacks: u32,
}

impl RouteInfo {
    pub fn of<T, P: Provider>(routed: &Routed<T, P>) -> Self {
        RouteInfo {
            deployment: routed.deployment.id.to_string(),
            retries: routed.failures.len() as u32,
            fallbacks: routed.fallbacks,
        }
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
        response
    }
}
