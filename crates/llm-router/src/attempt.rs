//! The trace span of one attempt on one deployment: every retry and fallback is a sibling
//! under the request's span, named after the OpenTelemetry GenAI convention
//! (`{operation} {model}`) with the fields a backend groups by.
//!
//! Plain `tracing`: whatever subscriber the application installed decides what becomes of
//! it (the gateway exports it over OTLP; without a subscriber that wants it, the span is
//! disabled and costs a few atomic loads).

use llm_providers::Provider;
use llm_types::{ChatCompletionRequest, EmbeddingsRequest};

use crate::deployment::Deployment;

/// The GenAI operation a request type performs (`gen_ai.operation.name`).
pub trait Operation {
    const NAME: &'static str;
}

impl Operation for ChatCompletionRequest {
    const NAME: &'static str = "chat";
}

impl Operation for EmbeddingsRequest {
    const NAME: &'static str = "embeddings";
}

/// The span of an attempt of an `R` request on `deployment`; the router records
/// `error.type` (the error's metric label) and the error status on it when the attempt fails.
pub fn attempt_span<R: Operation, P: Provider>(deployment: &Deployment<P>) -> tracing::Span {
    let target = &*deployment.target_model;
    // `provider/model`: the prefix names the provider, the rest is the upstream's model.
    let (provider, model) = target.split_once('/').unwrap_or(("", target));
    tracing::info_span!(
        "attempt",
        otel.name = %format_args!("{} {}", R::NAME, model),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        gen_ai.operation.name = R::NAME,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        llm_gateway.deployment = &*deployment.id,
        error.type = tracing::field::Empty,
    )
}
