//! Request-log sinks: the native `observability.log_sinks` list and LiteLLM's
//! `success_callback` / `failure_callback` / `callbacks` names.
//!
//! STUB: to be filled in (sinks work).

use serde_json::Value;

use super::issues::Report;

/// One configured sink.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    pub name: String,
}

/// LiteLLM's callback settings, as found in `litellm_settings`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct LitellmCallbacks {
    pub success_callback: Option<Value>,
    pub failure_callback: Option<Value>,
    pub callbacks: Option<Value>,
    pub turn_off_message_logging: Option<Value>,
    pub callback_settings: Option<Value>,
}

/// The native `observability.log_sinks` list at `path`.
pub fn parse_native(value: Value, path: &str, report: &mut Report) -> Vec<SinkConfig> {
    let _ = (value, path, report);
    Vec::new()
}

/// The sinks LiteLLM's callback names ask for, and whether `otel` was among them (that one
/// turns on trace export instead of a sink).
pub fn parse_litellm(callbacks: &LitellmCallbacks, report: &mut Report) -> (Vec<SinkConfig>, bool) {
    let _ = (callbacks, report);
    (Vec::new(), false)
}
