//! The request span: opened by [`crate::context::with_context`] for every request but the
//! health probes and the metrics scrape, named `{method} {route}` (an HTTP server span)
//! until [`super::record_outcome`] renames it `{operation} {model}` and fills in the GenAI
//! attributes declared empty here.

use http::{HeaderMap, Method};
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{exporting, propagation};

/// The routes named in span names and `http.route` (any other path could carry an id).
const ROUTES: &[&str] = &[
    "/v1/chat/completions",
    "/chat/completions",
    "/v1/embeddings",
    "/embeddings",
    "/v1/models",
    "/models",
    "/health",
];

/// The span of a request with `method`, `path` and `headers` (its `traceparent`, when
/// export runs). Disabled, and nearly free, when nothing wants it.
pub fn request_span(method: &Method, path: &str, headers: &HeaderMap, id: &str) -> tracing::Span {
    // Probes and scrapes every few seconds are not worth a trace each.
    if path.starts_with("/health/") || path == "/metrics" {
        return tracing::Span::none();
    }
    let route = ROUTES.iter().find(|r| **r == path).copied();
    let span = tracing::info_span!(
        "request",
        otel.name = %ServerSpanName(method, route),
        otel.kind = "server",
        otel.status_code = Empty,
        otel.status_description = Empty,
        http.request.method = %method,
        http.route = route,
        url.path = path,
        http.response.status_code = Empty,
        llm_gateway.request_id = id,
        gen_ai.operation.name = Empty,
        gen_ai.provider.name = Empty,
        gen_ai.request.model = Empty,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        llm_gateway.key_alias = Empty,
        llm_gateway.team_id = Empty,
        llm_gateway.user_id = Empty,
        llm_gateway.deployment = Empty,
        llm_gateway.target_model = Empty,
        llm_gateway.cost_usd = Empty,
        llm_gateway.cache_hit = Empty,
        llm_gateway.retries = Empty,
        llm_gateway.fallbacks = Empty,
        llm_gateway.stream = Empty,
        error.type = Empty,
    );
    if exporting()
        && !span.is_disabled()
        && let Some(parent) = propagation::parent(headers)
    {
        // Fails only when the span is not the trace layer's, and then there is no trace.
        let _ = span.set_parent(parent);
    }
    span
}

/// `{method} {route}`, or the method alone when the route is not one of [`ROUTES`] (the
/// HTTP server span convention), formatted only if the span is enabled.
struct ServerSpanName<'a>(&'a Method, Option<&'a str>);

impl std::fmt::Display for ServerSpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(route) => write!(f, "{} {route}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}
