//! `LogSinks` driven directly against a real HTTP server (axum on 127.0.0.1:0) and real
//! files: batching, the JSON and OTLP encodings, retries while the sink is down, counted
//! drops when the queue is full, and delivery at shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_mock_upstream::{Collector, Posted};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::{LogSinks, SinkStats};
use crate::config::{JsonlTarget, SinkConfig, SinkTarget, SinkWhen};
use crate::request_log::{RequestRecord, content_of};
use llm_providers::Secret;

/// The next POST the collector accepted.
async fn next_accepted(server: &mut Collector) -> Posted {
    server
        .next_accepted()
        .await
        .expect("no delivery within 15 s")
}

/// The request ids of accepted JSON batches until `n` records arrived.
async fn accepted_ids(server: &mut Collector, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    while ids.len() < n {
        let body: Value = serde_json::from_slice(&next_accepted(server).await.body).unwrap();
        for record in body.as_array().unwrap() {
            ids.push(record["request_id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

fn record(id: &str, status: u16) -> Arc<RequestRecord> {
    Arc::new(RequestRecord {
        request_id: id.into(),
        call_type: "chat",
        started_at_ms: 1_700_000_000_000,
        duration_ms: 250.5,
        status,
        model_group: "gpt-4o".into(),
        deployment: Some("gpt-4o-primary".into()),
        provider: Some("openai".into()),
        target_model: Some("openai/gpt-4o".into()),
        response_model: Some("gpt-4o-2024-08-06".into()),
        finish_reasons: vec!["stop"],
        prompt_tokens: 12,
        completion_tokens: 34,
        cost_nanos: 1_500_000,
        error_class: (status >= 400).then_some("upstream_error"),
        key_alias: Some("ci".into()),
        team_id: Some("blue".into()),
        request_content: content_of(&json!([{"role": "user", "content": "hi"}])),
        response_content: content_of(&json!([{"role": "assistant", "content": "hello"}])),
        ..RequestRecord::default()
    })
}

fn webhook(url: &str) -> SinkConfig {
    let mut config = SinkConfig::new(
        "hook",
        SinkTarget::Webhook {
            url: format!("{url}/logs"),
            headers: vec![("authorization".into(), Secret::new("Bearer sink-token"))],
        },
    );
    config.flush_interval = Duration::from_millis(20);
    config.backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    config
}

fn stats(sinks: &LogSinks) -> SinkStats {
    sinks.stats().remove(0)
}

/// Polls `condition` (a few ms apart) until it holds; fails after 10 s.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn webhook_gets_batches_of_json_records() {
    let mut server = Collector::start().await.unwrap();
    let mut config = webhook(&server.url);
    config.batch_size = 2;
    let sinks = LogSinks::start(&[config]).unwrap();
    assert!(!sinks.is_empty() && sinks.wants_content());
    for id in ["a", "b", "c"] {
        sinks.submit(&record(id, 200));
    }
    let first = next_accepted(&mut server).await;
    assert_eq!(first.content_type, "application/json");
    assert_eq!(first.authorization.as_deref(), Some("Bearer sink-token"));
    let batch: Value = serde_json::from_slice(&first.body).unwrap();
    let batch = batch.as_array().unwrap();
    assert_eq!(batch.len(), 2, "batch_size bounds a delivery");
    let a = &batch[0];
    assert_eq!(a["request_id"], "a");
    assert_eq!(a["model_group"], "gpt-4o");
    assert_eq!(a["status"], 200);
    assert_eq!(a["prompt_tokens"], 12);
    assert_eq!(a["cost_nanos"], 1_500_000);
    assert_eq!(a["cost_usd"], 0.0015);
    assert_eq!(a["finish_reasons"], json!(["stop"]));
    assert_eq!(a["request_content"][0]["content"], "hi");
    assert_eq!(batch[1]["request_id"], "b");
    assert_eq!(accepted_ids(&mut server, 1).await, ["c"]);
    wait_until("counted", || stats(&sinks).delivered == 3).await;
    assert_eq!(
        stats(&sinks),
        SinkStats {
            name: "hook".into(),
            delivered: 3,
            ..SinkStats::default()
        }
    );
}

#[tokio::test]
async fn redaction_and_the_when_filter() {
    let mut server = Collector::start().await.unwrap();
    let mut config = webhook(&server.url);
    config.redact_content = true;
    config.when = SinkWhen::Failure;
    let sinks = LogSinks::start(&[config]).unwrap();
    assert!(!sinks.wants_content());
    sinks.submit(&record("ok", 200));
    sinks.submit(&record("failed", 502));
    let body: Value = serde_json::from_slice(&next_accepted(&mut server).await.body).unwrap();
    let batch = body.as_array().unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0]["request_id"], "failed");
    assert_eq!(batch[0]["error_class"], "upstream_error");
    assert!(batch[0].get("request_content").is_none());
    assert!(batch[0].get("response_content").is_none());
    wait_until("counted", || stats(&sinks).delivered == 1).await;
    assert_eq!(stats(&sinks).dropped, 0, "filtered records are not drops");
}

#[tokio::test]
async fn a_sink_that_is_down_gets_its_backlog_when_it_comes_back() {
    let mut server = Collector::start().await.unwrap();
    server.answer_with(503);
    let mut config = webhook(&server.url);
    config.max_retries = 10_000;
    let sinks = LogSinks::start(&[config]).unwrap();
    for i in 0..5 {
        sinks.submit(&record(&format!("r{i}"), 200));
    }
    wait_until("retrying", || stats(&sinks).failed_attempts >= 3).await;
    // Still down: more records queue up behind the retried batch.
    for i in 5..10 {
        sinks.submit(&record(&format!("r{i}"), 200));
    }
    let down = stats(&sinks);
    assert_eq!((down.delivered, down.dropped, down.queued), (0, 0, 10));
    server.answer_with(200);
    let mut ids = accepted_ids(&mut server, 10).await;
    ids.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    expected.sort();
    assert_eq!(ids, expected);
    wait_until("delivered", || stats(&sinks).delivered == 10).await;
    assert_eq!((stats(&sinks).dropped, stats(&sinks).queued), (0, 0));
}

/// A webhook sink on a port nobody listens on (every attempt is refused) that waits an
/// hour before each retry: what it holds stays held for the test.
async fn down_webhook() -> SinkConfig {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = webhook(&url);
    config.batch_size = 1;
    config.backoff = Duration::from_secs(3600);
    config.max_backoff = Duration::from_secs(3600);
    config
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_and_shutdown_gives_up_at_its_deadline() {
    let mut config = down_webhook().await;
    config.queue_capacity = 2;
    let sinks = LogSinks::start(&[config]).unwrap();
    sinks.submit(&record("held", 200));
    // The worker holds the first record in its batch, waiting to retry.
    wait_until("first attempt failed", || {
        stats(&sinks).failed_attempts == 1
    })
    .await;
    for i in 0..5 {
        sinks.submit(&record(&format!("r{i}"), 200));
    }
    let full = stats(&sinks);
    assert_eq!((full.delivered, full.dropped, full.queued), (0, 3, 3));
    assert!(!sinks.shutdown(Duration::from_millis(50)).await);
}

/// A record whose request content is `size` bytes of JSON text.
fn large_record(id: &str, size: usize) -> Arc<RequestRecord> {
    let mut record = (*record(id, 200)).clone();
    record.request_content = content_of(&"x".repeat(size.saturating_sub(2)));
    Arc::new(record)
}

#[tokio::test]
async fn the_queue_is_bounded_in_bytes_too() {
    // Down for the whole test, with room for 1,000 records but 100 kB.
    let mut config = down_webhook().await;
    config.queue_capacity = 1_000;
    config.queue_max_bytes = 100_000;
    let sinks = LogSinks::start(&[config]).unwrap();
    // Larger than the whole budget: an empty queue still takes it.
    sinks.submit(&large_record("huge", 150_000));
    wait_until("first attempt failed", || {
        stats(&sinks).failed_attempts == 1
    })
    .await;
    assert_eq!((stats(&sinks).queued, stats(&sinks).dropped), (1, 0));
    // Nothing more fits beside it, however small.
    sinks.submit(&record("small", 200));
    assert_eq!((stats(&sinks).queued, stats(&sinks).dropped), (1, 1));

    // Records held for a late batch count too: 9 of 20 records of 10 kB fit.
    let mut config = down_webhook().await;
    config.queue_capacity = 1_000;
    config.queue_max_bytes = 100_000;
    config.flush_interval = Duration::from_secs(3600);
    config.batch_size = 1_000;
    let sinks = LogSinks::start(&[config]).unwrap();
    for i in 0..20 {
        sinks.submit(&large_record(&format!("r{i}"), 10_000));
    }
    let full = stats(&sinks);
    assert_eq!(full.queued + full.dropped, 20);
    // Each record is its 10 kB of content plus its fields (well under 1 kB).
    assert_eq!((full.queued, full.dropped), (9, 11), "{full:?}");
}

#[tokio::test]
async fn a_refusal_that_no_retry_fixes_drops_the_batch_at_once() {
    let mut server = Collector::start().await.unwrap();
    server.answer_with(400);
    let sinks = LogSinks::start(&[webhook(&server.url)]).unwrap();
    sinks.submit(&record("bad", 200));
    wait_until("dropped", || stats(&sinks).dropped == 1).await;
    assert_eq!(stats(&sinks).failed_attempts, 1);
    assert_eq!(server.next().await.unwrap().status, 400);
}

#[tokio::test]
async fn shutdown_delivers_what_is_queued_and_later_records_are_dropped() {
    let mut server = Collector::start().await.unwrap();
    let mut config = webhook(&server.url);
    // Nothing would go out before an hour passed or 100 records came, but for shutdown.
    config.flush_interval = Duration::from_secs(3600);
    let sinks = LogSinks::start(&[config]).unwrap();
    for id in ["a", "b", "c"] {
        sinks.submit(&record(id, 200));
    }
    assert!(sinks.shutdown(Duration::from_secs(10)).await);
    assert_eq!(accepted_ids(&mut server, 3).await, ["a", "b", "c"]);
    sinks.submit(&record("late", 200));
    let after = stats(&sinks);
    assert_eq!((after.delivered, after.dropped, after.queued), (3, 1, 0));
}

#[tokio::test]
async fn json_lines_append_to_a_file() {
    let path = std::env::temp_dir().join(format!(
        "llm-gateway-sink-test-{}-{}.jsonl",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
    let mut config = SinkConfig::new("file", SinkTarget::Jsonl(JsonlTarget::File(path.clone())));
    config.redact_content = true;
    let sinks = LogSinks::start(&[config]).unwrap();
    sinks.submit(&record("a", 200));
    sinks.submit(&record("b", 429));
    assert!(sinks.shutdown(Duration::from_secs(10)).await);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], json!({"earlier": true}));
    assert_eq!(lines[1]["request_id"], "a");
    assert_eq!(lines[1]["cost_usd"], 0.0015);
    assert_eq!(lines[2]["status"], 429);
    assert!(lines[1].get("request_content").is_none());
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_or_a_bad_header_fails_start() {
    let dir = SinkConfig::new(
        "dir",
        SinkTarget::Jsonl(JsonlTarget::File(std::env::temp_dir())),
    );
    let bad_header = SinkConfig::new(
        "hook",
        SinkTarget::Webhook {
            url: "http://127.0.0.1:9/".into(),
            headers: vec![("bad header".into(), Secret::new("v"))],
        },
    );
    for config in [dir, bad_header] {
        let error = LogSinks::start(std::slice::from_ref(&config))
            .err()
            .unwrap();
        assert!(
            error.starts_with(&format!("log sink `{}`", config.name)),
            "{error}"
        );
    }
}

#[tokio::test]
async fn otlp_sends_one_genai_span_per_record() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message as _;

    let mut server = Collector::start().await.unwrap();
    let mut config = SinkConfig::new(
        "langfuse",
        SinkTarget::Otlp {
            endpoint: format!("{}/api/public/otel/v1/traces", server.url),
            headers: vec![("authorization".into(), Secret::new("Basic abc"))],
        },
    );
    config.flush_interval = Duration::from_millis(20);
    let sinks = LogSinks::start(&[config]).unwrap();
    sinks.submit(&record("ok", 200));
    sinks.submit(&record("failed", 503));
    let got = next_accepted(&mut server).await;
    assert_eq!(got.content_type, "application/x-protobuf");
    assert_eq!(got.authorization.as_deref(), Some("Basic abc"));
    let export = ExportTraceServiceRequest::decode(got.body).unwrap();
    let spans = &export.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 2);
    let span = &spans[0];
    assert_eq!(span.name, "chat gpt-4o");
    assert_eq!((span.trace_id.len(), span.span_id.len()), (16, 8));
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(
        span.end_time_unix_nano - span.start_time_unix_nano,
        250_500_000
    );
    let attribute = |span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    let text = |s: &str| Some(Any::StringValue(s.to_owned()));
    assert_eq!(attribute(span, "gen_ai.operation.name"), text("chat"));
    assert_eq!(attribute(span, "gen_ai.request.model"), text("gpt-4o"));
    assert_eq!(
        attribute(span, "gen_ai.response.model"),
        text("gpt-4o-2024-08-06")
    );
    assert_eq!(attribute(span, "gen_ai.provider.name"), text("openai"));
    assert_eq!(
        attribute(span, "gen_ai.usage.input_tokens"),
        Some(Any::IntValue(12))
    );
    assert_eq!(
        attribute(span, "gen_ai.usage.output_tokens"),
        Some(Any::IntValue(34))
    );
    assert_eq!(
        attribute(span, "gen_ai.usage.cost"),
        Some(Any::DoubleValue(0.0015))
    );
    assert_eq!(attribute(span, "llm_gateway.key_alias"), text("ci"));
    assert_eq!(attribute(span, "llm_gateway.team_id"), text("blue"));
    let Some(Any::ArrayValue(reasons)) = attribute(span, "gen_ai.response.finish_reasons") else {
        panic!("no finish reasons");
    };
    assert_eq!(reasons.values[0].value, text("stop"));
    let Some(Any::StringValue(input)) = attribute(span, "gen_ai.input.messages") else {
        panic!("no input messages");
    };
    let input: Value = serde_json::from_str(&input).unwrap();
    assert_eq!(input[0]["content"], "hi");
    assert!(attribute(span, "gen_ai.output.messages").is_some());
    let status = |span: &opentelemetry_proto::tonic::trace::v1::Span| {
        span.status.clone().map(|s| (s.code, s.message)).unwrap()
    };
    assert_eq!(status(span), (1, String::new()));
    assert_eq!(status(&spans[1]), (2, "upstream_error".to_owned()));
    assert_eq!(attribute(&spans[1], "error.type"), text("upstream_error"));
}
