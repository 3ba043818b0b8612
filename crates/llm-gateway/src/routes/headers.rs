//! Response headers that say how the router served a request: which deployment answered and
//! how many retries and fallbacks it took, and what the answer cost at catalog prices
//! (LiteLLM sends the same as `x-litellm-*`), and the rate-limit figures OpenAI sends
//! (`x-ratelimit-*`).

use axum::http::HeaderMap;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use llm_policy::policy::RateHeaders;
use llm_providers::Provider;
use llm_router::Routed;
use llm_types::money::NanoDollars;

pub static MODEL_ID: HeaderName = HeaderName::from_static("x-llm-model-id");
pub static ATTEMPTED_RETRIES: HeaderName = HeaderName::from_static("x-llm-attempted-retries");
pub static ATTEMPTED_FALLBACKS: HeaderName = HeaderName::from_static("x-llm-attempted-fallbacks");
pub static RESPONSE_COST: HeaderName = HeaderName::from_static("x-llm-response-cost");
pub static OVERHEAD_MS: HeaderName = HeaderName::from_static("x-llm-overhead-ms");

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

    /// What the answer cost (LiteLLM's `x-litellm-response-cost`); `None`: no header.
    pub fn with_cost(mut self, cost: Option<NanoDollars>) -> Self {
        self.cost = cost;
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

/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` as OpenAI sends them (reset as a
/// duration such as `12s` or `850ms`), for the limits that apply.
pub fn apply_rate_headers(headers: &mut HeaderMap, rate: &RateHeaders) {
    let pairs = [
        ("x-ratelimit-limit-requests", rate.limit_requests),
        ("x-ratelimit-remaining-requests", rate.remaining_requests),
        ("x-ratelimit-limit-tokens", rate.limit_tokens),
        ("x-ratelimit-remaining-tokens", rate.remaining_tokens),
    ];
    for (name, value) in pairs {
        if let Some(value) = value {
            headers.insert(name, HeaderValue::from(value));
        }
    }
    let resets = [
        ("x-ratelimit-reset-requests", rate.reset_requests_ms),
        ("x-ratelimit-reset-tokens", rate.reset_tokens_ms),
    ];
    for (name, value) in resets {
        if let Some(ms) = value
            && let Ok(value) = HeaderValue::from_str(&reset_duration(ms))
        {
            headers.insert(name, value);
        }
    }
}

/// OpenAI's reset format: `850ms` under a second, else whole seconds rounded up (`12s`).
fn reset_duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{}s", ms.div_ceil(1000))
    }
}

/// `x-llm-overhead-ms`: the gateway's own time, the whole request minus the upstream's part
/// (to its first token for a stream), in milliseconds with microsecond precision.
pub fn apply_overhead(headers: &mut HeaderMap, overhead: std::time::Duration) {
    let ms = format!("{:.3}", overhead.as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&ms) {
        headers.insert(OVERHEAD_MS.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_headers_follow_openai() {
        let rate = RateHeaders {
            limit_requests: Some(10),
            remaining_requests: Some(3),
            reset_requests_ms: Some(12_400),
            limit_tokens: None,
            remaining_tokens: None,
            reset_tokens_ms: Some(850),
        };
        let mut headers = HeaderMap::new();
        apply_rate_headers(&mut headers, &rate);
        let expected = [
            ("x-ratelimit-limit-requests", Some("10")),
            ("x-ratelimit-remaining-requests", Some("3")),
            ("x-ratelimit-reset-requests", Some("13s")),
            ("x-ratelimit-limit-tokens", None),
            ("x-ratelimit-reset-tokens", Some("850ms")),
        ];
        for (name, value) in expected {
            assert_eq!(
                headers.get(name).map(|v| v.to_str().unwrap()),
                value,
                "{name}"
            );
        }
    }
}
