//! The parts of the trace pipeline that exist from the start but are filled in later: the
//! OpenTelemetry layer must sit in the subscriber from [`super::init_logging`] on (the
//! global subscriber cannot be replaced, and a layer behind `tracing_subscriber::reload`
//! cannot be downcast to, which `tracing-opentelemetry` needs for parents and propagation),
//! while its exporter, sampler and filter are only known once the configuration is read.
//!
//! So the layer's tracer provider gets a [`LateProcessor`] and a [`LateSampler`], both empty
//! until [`super::start_tracing`] sets them, and the layer's per-layer filter is a reloadable
//! [`Targets`] that starts empty (nothing enabled, so the layer is never even called).

use opentelemetry::trace::{Link, SpanKind, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SamplingDecision, SamplingResult, ShouldSample, Span, SpanData,
    SpanProcessor,
};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tracing_subscriber::filter::Targets;

/// The batch processor once export starts; before that, spans (there are none: the layer's
/// filter is closed) are dropped.
#[derive(Debug, Clone, Default)]
pub struct LateProcessor(pub Arc<OnceLock<BatchSpanProcessor>>);

impl SpanProcessor for LateProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(inner) = self.0.get() {
            inner.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some(inner) = self.0.get() {
            inner.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.get().map_or(Ok(()), SpanProcessor::force_flush)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0
            .get()
            .map_or(Ok(()), |inner| inner.shutdown_with_timeout(timeout))
    }
}

/// The configured sampler once export starts; before that, everything is dropped.
#[derive(Debug, Clone, Default)]
pub struct LateSampler(pub Arc<OnceLock<Sampler>>);

impl ShouldSample for LateSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        match self.0.get() {
            Some(inner) => {
                inner.should_sample(parent_context, trace_id, name, span_kind, attributes, links)
            }
            None => SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: TraceState::default(),
            },
        }
    }
}

/// What [`super::start_tracing`] fills in.
pub struct Hooks {
    pub processor: LateProcessor,
    pub sampler: LateSampler,
    /// The trace layer's filter (empty: nothing reaches the layer).
    pub filter: tracing_subscriber::reload::Handle<Targets, tracing_subscriber::Registry>,
}

/// Set once by [`super::init_logging`].
pub static HOOKS: OnceLock<Hooks> = OnceLock::new();

/// What the trace layer sees once export runs: our crates' spans and events at INFO and
/// above (not the HTTP stack's or the SQL driver's).
pub fn export_targets() -> Targets {
    Targets::new()
        .with_target("llm_gateway", tracing::Level::INFO)
        .with_target("llm_router", tracing::Level::INFO)
        .with_target("llm_providers", tracing::Level::INFO)
        .with_target("llm_policy", tracing::Level::INFO)
}
