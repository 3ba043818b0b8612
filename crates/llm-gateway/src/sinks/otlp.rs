//! The OTLP sink's encoding: one `ExportTraceServiceRequest` (protobuf) per batch, one span
//! per request with the OpenTelemetry GenAI attributes (what Langfuse and similar tools read
//! to show a generation: models, provider, tokens, finish reasons, cost, and the messages
//! unless the sink redacts them).

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use prost::Message as _;
use std::sync::Arc;

use crate::request_log::RequestRecord;

const SCOPE: &str = "llm-gateway";

/// The protobuf body of one export of `batch`.
pub(super) fn export_request(batch: &[Arc<RequestRecord>], redact: bool) -> Bytes {
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", SCOPE)],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE.to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..Default::default()
                }),
                spans: batch.iter().map(|r| record_span(r, redact)).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    Bytes::from(request.encode_to_vec())
}

/// One request as a span: `{operation} {model}`, from arrival to settlement.
fn record_span(record: &RequestRecord, redact: bool) -> Span {
    // Random ids: a record stands alone (its request's own trace, if exported, is
    // another pipeline).
    let trace_id = uuid::Uuid::new_v4().as_bytes().to_vec();
    let span_id = uuid::Uuid::new_v4().as_bytes()[..8].to_vec();
    let start = u64::try_from(record.started_at_ms)
        .unwrap_or(0)
        .saturating_mul(1_000_000);
    let duration = if record.duration_ms.is_finite() && record.duration_ms > 0.0 {
        (record.duration_ms * 1e6) as u64
    } else {
        0
    };
    let status = if record.succeeded() {
        Status {
            code: status::StatusCode::Ok as i32,
            message: String::new(),
        }
    } else {
        Status {
            code: status::StatusCode::Error as i32,
            message: record.error_class.unwrap_or("client_closed").to_owned(),
        }
    };
    Span {
        trace_id,
        span_id,
        name: format!("{} {}", record.call_type, record.model_group),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start.saturating_add(duration),
        attributes: attributes(record, redact),
        status: Some(status),
        ..Default::default()
    }
}

fn attributes(record: &RequestRecord, redact: bool) -> Vec<KeyValue> {
    let mut out = vec![
        text("gen_ai.operation.name", record.call_type),
        text("gen_ai.request.model", &record.model_group),
        int("gen_ai.usage.input_tokens", record.prompt_tokens),
        int("gen_ai.usage.output_tokens", record.completion_tokens),
        double("gen_ai.usage.cost", record.cost_usd()),
        text("llm_gateway.request_id", &record.request_id),
        int("http.response.status_code", u64::from(record.status)),
        boolean("llm_gateway.stream", record.stream),
        boolean("llm_gateway.cache_hit", record.cache_hit),
        int("llm_gateway.retries", u64::from(record.retries)),
        int("llm_gateway.fallbacks", u64::from(record.fallbacks)),
    ];
    let optional = [
        ("gen_ai.response.model", &record.response_model),
        ("gen_ai.provider.name", &record.provider),
        ("llm_gateway.deployment", &record.deployment),
        ("llm_gateway.target_model", &record.target_model),
        ("llm_gateway.key_alias", &record.key_alias),
        ("llm_gateway.team_id", &record.team_id),
        ("user.id", &record.user_id),
        ("error.message", &record.error_message),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.push(text(key, value));
        }
    }
    if let Some(class) = record.error_class {
        out.push(text("error.type", class));
    }
    if record.cached_tokens > 0 {
        out.push(int(
            "gen_ai.usage.cache_read.input_tokens",
            record.cached_tokens,
        ));
    }
    if let Some(ttft) = record.time_to_first_token_ms {
        out.push(double("llm_gateway.time_to_first_token_ms", ttft));
    }
    if !record.finish_reasons.is_empty() {
        let values = record
            .finish_reasons
            .iter()
            .map(|r| any(any_value::Value::StringValue((*r).to_owned())))
            .collect();
        out.push(KeyValue {
            key: "gen_ai.response.finish_reasons".to_owned(),
            value: Some(any(any_value::Value::ArrayValue(ArrayValue { values }))),
            ..Default::default()
        });
    }
    if !redact {
        // The GenAI conventions carry messages as JSON text on these attributes.
        let content = [
            ("gen_ai.input.messages", &record.request_content),
            ("gen_ai.output.messages", &record.response_content),
        ];
        for (key, value) in content {
            if let Some(value) = value {
                out.push(text(key, value.get()));
            }
        }
    }
    out
}

fn any(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(any(value)),
        ..Default::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.to_owned()))
}

fn int(key: &str, value: u64) -> KeyValue {
    attribute(
        key,
        any_value::Value::IntValue(i64::try_from(value).unwrap_or(i64::MAX)),
    )
}

fn double(key: &str, value: f64) -> KeyValue {
    attribute(key, any_value::Value::DoubleValue(value))
}

fn boolean(key: &str, value: bool) -> KeyValue {
    attribute(key, any_value::Value::BoolValue(value))
}
