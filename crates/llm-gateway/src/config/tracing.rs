//! Trace export settings: the native `observability.tracing` section, the standard
//! `OTEL_*` environment variables, and LiteLLM's `callbacks: ["otel"]`.
//!
//! STUB: to be filled in (tracing work).

use serde_json::Value;

use super::issues::Report;

/// Where and how spans are exported; `endpoint: None` means no export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracingConfig {
    pub endpoint: Option<String>,
    pub capture_content: bool,
}

impl TracingConfig {
    /// The settings of `section` (native `observability.tracing`, `None` when absent) over
    /// the `OTEL_*` environment; `otel_callback` is LiteLLM's `callbacks: ["otel"]`.
    pub fn resolve(
        section: Option<Value>,
        path: &str,
        otel_callback: bool,
        report: &mut Report,
    ) -> TracingConfig {
        let _ = (section, path, otel_callback, report);
        TracingConfig::default()
    }
}
