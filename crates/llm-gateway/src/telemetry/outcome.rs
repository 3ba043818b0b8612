//! A finished request's GenAI attributes (OpenTelemetry semantic conventions for generative
//! AI, plus ours under `llm_gateway.`) on its span, recorded once when it settles.

use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Array, StringValue, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::request_log::RequestRecord;

/// Records a finished request's GenAI attributes on its span.
pub fn record_outcome(span: &tracing::Span, record: &RequestRecord) {
    // Without export nobody reads these (the log line has the essentials): skip the work.
    if span.is_disabled() || !super::exporting() {
        return;
    }
    // The span was started when its first attempt went upstream (its context is the
    // attempt's parent), and `otel.name` only renames a span not started yet: rename the
    // OpenTelemetry span itself (starting it here if nothing did, e.g. a cache hit).
    span.context()
        .span()
        .update_name(format!("{} {}", record.call_type, record.model_group));
    span.record("gen_ai.operation.name", record.call_type);
    span.record("gen_ai.request.model", record.model_group.as_str());
    // `http.response.status_code` is the middleware's (what went on the wire; a stream that
    // fails after its head stays 200, its failure is `error.type`): a second record would
    // add a duplicate attribute, not replace it.
    // Integers as `i64`: the trace layer exports an unsigned field as a string.
    span.record("gen_ai.usage.input_tokens", int(record.prompt_tokens));
    span.record("gen_ai.usage.output_tokens", int(record.completion_tokens));
    span.record("llm_gateway.cost_usd", record.cost_usd());
    span.record("llm_gateway.cache_hit", record.cache_hit);
    span.record("llm_gateway.retries", i64::from(record.retries));
    span.record("llm_gateway.fallbacks", i64::from(record.fallbacks));
    span.record("llm_gateway.stream", record.stream);
    let optional = [
        ("gen_ai.provider.name", &record.provider),
        ("gen_ai.response.model", &record.response_model),
        ("llm_gateway.deployment", &record.deployment),
        ("llm_gateway.target_model", &record.target_model),
        ("llm_gateway.key_alias", &record.key_alias),
        ("llm_gateway.team_id", &record.team_id),
        ("llm_gateway.user_id", &record.user_id),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            span.record(field, value.as_str());
        }
    }
    if !record.succeeded() {
        span.record("error.type", record.error_class.unwrap_or("error"));
        span.record("otel.status_code", "error");
        if let Some(message) = &record.error_message {
            span.record("otel.status_description", message.as_str());
        }
    }
    // An array attribute, which `tracing` fields cannot express: straight to the OTel span.
    if !record.finish_reasons.is_empty() {
        let reasons: Vec<StringValue> = record
            .finish_reasons
            .iter()
            .map(|r| StringValue::from(*r))
            .collect();
        span.set_attribute(
            "gen_ai.response.finish_reasons",
            Value::Array(Array::String(reasons)),
        );
    }
    // Content only on the spans (never in the log's span fields) and only when asked for.
    if super::capture_content() {
        let content = [
            ("gen_ai.input.messages", &record.request_content),
            ("gen_ai.output.messages", &record.response_content),
        ];
        for (key, value) in content {
            if let Some(value) = value {
                span.set_attribute(key, value.get().to_owned());
            }
        }
    }
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
