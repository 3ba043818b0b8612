//! What one finished LLM request was, as the request log line, the request's trace span and
//! the request-log sinks see it. Built once, when the request settles (see
//! [`crate::metering::Meter`]), and shared behind an `Arc` by everything that reports it.

use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;

use crate::sinks::LogSinks;

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
    /// One per choice, in order (OpenAI's names; empty when a choice gave none).
    pub finish_reasons: Vec<&'static str>,
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
    pub request_content: Option<Content>,
    /// The answer's messages, one per choice, only when content capture is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_content: Option<Content>,
}

/// Message content as JSON text, serialized once when captured: its size is known (sink
/// queues are bounded in bytes), and every consumer (sinks, spans) embeds the text as is.
pub type Content = Box<RawValue>;

/// `value` as [`Content`]; `None` if it cannot be serialized (it always can: our own types).
pub fn content_of(value: &impl Serialize) -> Option<Content> {
    serde_json::value::to_raw_value(value).ok()
}

impl RequestRecord {
    /// The cost in US dollars, for display (the stored figure stays `cost_nanos`).
    pub fn cost_usd(&self) -> f64 {
        self.cost_nanos as f64 / 1e9
    }

    /// About how much memory the record holds: its fields, strings and content. Sink queues
    /// are bounded by the sum of these.
    pub fn approx_bytes(&self) -> usize {
        let optional = [
            &self.deployment,
            &self.provider,
            &self.target_model,
            &self.response_model,
            &self.error_message,
            &self.key_alias,
            &self.key_hash,
            &self.user_id,
            &self.team_id,
        ];
        let content = [&self.request_content, &self.response_content];
        std::mem::size_of::<Self>()
            + self.request_id.len()
            + self.model_group.len()
            + optional
                .iter()
                .flat_map(|s| s.as_ref())
                .map(String::len)
                .sum::<usize>()
            + self.finish_reasons.len() * std::mem::size_of::<&str>()
            + content
                .iter()
                .flat_map(|c| c.as_ref())
                .map(|c| c.get().len())
                .sum::<usize>()
    }

    /// Whether the client got an answer.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Where finished requests are reported: the one log line, the request's span, and the
/// request-log sinks.
pub struct Reporter {
    sinks: Arc<LogSinks>,
    capture_content: bool,
}

impl Reporter {
    /// `tracing_content`: the trace export records message content.
    pub fn new(sinks: Arc<LogSinks>, tracing_content: bool) -> Reporter {
        let capture_content = tracing_content || sinks.wants_content();
        Reporter {
            sinks,
            capture_content,
        }
    }

    /// Whether records carry message content (some sink or the trace export wants it), so
    /// the request path keeps a copy.
    pub fn captures_content(&self) -> bool {
        self.capture_content
    }

    pub fn sinks(&self) -> &Arc<LogSinks> {
        &self.sinks
    }

    /// Reports one finished request everywhere it goes.
    pub fn report(&self, span: &tracing::Span, record: RequestRecord) {
        log_line(&record);
        crate::telemetry::record_outcome(span, &record);
        if !self.sinks.is_empty() {
            self.sinks.submit(&Arc::new(record));
        }
    }
}

/// One line per request at info (warn when it failed): the essentials, never content, never
/// a key.
fn log_line(record: &RequestRecord) {
    // Microsecond precision is plenty for a log line.
    let duration_ms = (record.duration_ms * 1000.0).trunc() / 1000.0;
    let deployment = record.deployment.as_deref().unwrap_or("-");
    if record.succeeded() {
        tracing::info!(
            request_id = %record.request_id,
            call = record.call_type,
            model = %record.model_group,
            deployment,
            status = record.status,
            duration_ms,
            stream = record.stream,
            prompt_tokens = record.prompt_tokens,
            completion_tokens = record.completion_tokens,
            cost_usd = record.cost_usd(),
            cache_hit = record.cache_hit,
            retries = record.retries,
            fallbacks = record.fallbacks,
            key_alias = record.key_alias.as_deref(),
            team_id = record.team_id.as_deref(),
            "request served"
        );
    } else {
        tracing::warn!(
            request_id = %record.request_id,
            call = record.call_type,
            model = %record.model_group,
            deployment,
            status = record.status,
            duration_ms,
            stream = record.stream,
            error = record.error_class.unwrap_or("client_closed"),
            error_message = record.error_message.as_deref(),
            key_alias = record.key_alias.as_deref(),
            team_id = record.team_id.as_deref(),
            "request failed"
        );
    }
}
