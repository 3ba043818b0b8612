//! Logs and traces.
//!
//! Logging starts before the configuration is read, trace export only once it is, so the
//! subscriber is built in two steps (see [`late`]): [`init_logging`] installs the stderr log
//! layer and a dormant OpenTelemetry layer whose filter lets nothing through, and
//! [`start_tracing`] (when the configuration names an endpoint) gives that layer its
//! exporter and sampler and opens its filter. Without export the dormant layer is never
//! called: its per-layer filter disables every callsite for it.
//!
//! - [`logging`]: the subscriber stack.
//! - [`export`]: the OTLP/HTTP exporter over our own reqwest client, batch processor,
//!   sampler, and the flush at shutdown.
//! - [`propagation`]: W3C `traceparent` in from clients, out to upstreams.
//! - [`span`]: the request span [`crate::context`] opens per request.
//! - [`outcome`]: the GenAI attributes of a finished request on its span.

mod export;
mod late;
mod logging;
mod outcome;
mod propagation;
mod span;

use std::sync::atomic::{AtomicBool, Ordering};

pub use export::{Tracing, start_tracing};
pub use outcome::record_outcome;
pub use span::request_span;

/// Installs the global subscriber: logs on stderr as `pretty` or `json` (filtered by
/// `RUST_LOG`, default `info`), and the dormant trace layer [`start_tracing`] wakes.
pub fn init_logging(format: &str) {
    logging::init(format);
}

/// Whether spans are exported (set once by [`start_tracing`]).
static EXPORTING: AtomicBool = AtomicBool::new(false);
/// Whether message content goes on the spans (the tracing config's `capture_content`).
static CAPTURE_CONTENT: AtomicBool = AtomicBool::new(false);

/// Whether spans are being exported.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Whether the trace export wants message content (`gen_ai.input.messages`, ...): the
/// request record only needs to carry content for the spans when this is true.
pub fn capture_content() -> bool {
    exporting() && CAPTURE_CONTENT.load(Ordering::Relaxed)
}
