//! The global subscriber: the stderr log layer (`pretty` or `json`, filtered by `RUST_LOG`)
//! and the OpenTelemetry layer, each with its own filter so that `RUST_LOG=warn` does not
//! hide request spans from the trace export, nor does export make the log noisier.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, reload};

use super::late::{HOOKS, Hooks, LateProcessor, LateSampler};

/// Builds and installs the subscriber; a second call (tests, `migrate` then `serve`) keeps
/// the first one.
pub fn init(format: &str) {
    let processor = LateProcessor::default();
    let sampler = LateSampler::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor.clone())
        .with_sampler(sampler.clone())
        .build();
    // An empty `Targets` enables nothing: until export starts the layer is never called.
    let (filter, handle) = reload::Layer::new(Targets::new());
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("llm-gateway"))
        .with_location(false)
        .with_target(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(filter);
    let installed = tracing_subscriber::registry()
        .with(otel)
        .with(log_layer(format))
        .try_init()
        .is_ok();
    if installed {
        let _ = HOOKS.set(Hooks {
            processor,
            sampler,
            filter: handle,
        });
    }
}

/// The stderr layer with its `RUST_LOG` filter.
fn log_layer<S>(format: &str) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if format == "json" {
        // The current span (the request's id and route) is enough: the list of every
        // enclosing span would repeat the same fields on each line.
        layer
            .json()
            .with_span_list(false)
            .with_filter(filter)
            .boxed()
    } else {
        layer.with_filter(filter).boxed()
    }
}
