//! What one finished LLM request was, as the request log line, the request's trace span and
//! the request-log sinks see it. Built once, when the request settles (see
//! [`crate::metering::Meter`]), and shared behind an `Arc` by everything that reports it.

use serde::Serialize;
use std::sync::Arc;

/// One finished request. Never holds a key: `key_hash` is the stored SHA-256 (what
/// `/key/info` is asked with), the alias is the admin's label.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestRecord {
    /// The gateway's `x-request-id`.
    pub request_id: Arc<str>,
    /// `chat` or `embeddings` (the GenAI `gen_ai.operation.name`).
    pub call_type: &'static str,
    /// UNIX milliseconds when the request arrived.
    pub started_at_ms: i64,
    /// Arrival to settlement (for a stream: to its end).
    pub duration_ms: f64,
    /// Streams: arrival to the first token the client could get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_ms: Option<f64>,
    /// The gateway's own part of the time: total minus the upstream's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overhead_ms: Option<f64>,
    pub stream: bool,
    /// The HTTP status the client got (499: it went away first).
    pub status: u16,
    /// The model group asked for (after the key's aliases).
    pub model_group: String,
    /// The deployment that answered, its provider and its `provider/model`.
    pub deployment: Option<String>,
    pub provider: Option<String>,
    pub target_model: Option<String>,
    /// The `model` the upstream's answer named.
    pub response_model: Option<String>,
    /// One per choice, in order.
    pub finish_reasons: Vec<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    /// Exact, in nano-dollars.
    pub cost_nanos: i64,
    pub cache_hit: bool,
    /// The usage never came: tokens estimated from the text.
    pub estimated: bool,
    /// Failed attempts before the answer, retries within the answering group, and fallback
    /// groups moved to.
    pub failed_attempts: u32,
    pub retries: u32,
    pub fallbacks: u32,
    /// The error's class (`rate_limited`, `upstream_timeout`, ...) when the request failed.
    pub error_class: Option<&'static str>,
    pub error_message: Option<String>,
    pub key_alias: Option<String>,
    pub key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The request's messages (or embedding input), only when content capture is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_content: Option<serde_json::Value>,
    /// The answer's messages, one per choice, only when content capture is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_content: Option<serde_json::Value>,
}

impl RequestRecord {
    /// The cost in US dollars, for display (the stored figure stays `cost_nanos`).
    pub fn cost_usd(&self) -> f64 {
        self.cost_nanos as f64 / 1e9
    }

    /// Whether the client got an answer.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
