//! Request-log sinks through the real binary: a webhook (LiteLLM's `generic_api` and the
//! native entry) on a real HTTP server in this process, its outage and return, drops counted
//! in `/metrics` when the queue is full, JSON lines flushed to a file by a graceful shutdown
//! (SIGTERM), and Langfuse's OTLP endpoint decoded with the official protobuf types.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{Collector, Posted};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use support::{Gateway, http, scrape};

const MASTER: &str = "sk-sinks-master";

/// The next POST the collector accepted.
async fn next_accepted(server: &mut Collector) -> Posted {
    server
        .next_accepted()
        .await
        .expect("the sink got nothing within 15 s")
}

/// Records of accepted JSON batches, until every id of `ids` was seen.
async fn records_until(server: &mut Collector, ids: &BTreeSet<String>) -> Vec<Value> {
    let mut records = Vec::new();
    let mut seen = BTreeSet::new();
    while !ids.is_subset(&seen) {
        let body: Value = serde_json::from_slice(&next_accepted(server).await.body).unwrap();
        for record in body.as_array().expect("a JSON array of records") {
            seen.insert(record["request_id"].as_str().unwrap().to_owned());
            records.push(record.clone());
        }
    }
    records
}

/// One chat request through the gateway: it must succeed; returns its `x-request-id`.
async fn chat(gateway: &Gateway, content: &str) -> String {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": content}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the request path must not fail");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    response.text().await.unwrap();
    id
}

/// A native config with the built-in mock model `m` and `sinks` (YAML list items).
fn native_config(sinks: &str) -> String {
    format!(
        "server: {{master_key: {MASTER}}}
models:
  - {{name: m, model: mock/demo}}
observability:
  log_sinks:
{sinks}"
    )
}

/// The sum of the samples `name` with all of `labels`, from `/metrics`.
async fn metric(gateway: &Gateway, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape::values(&scrape::scrape(gateway).await, name, labels)
        .iter()
        .sum()
}

/// Polls `/metrics` until `name{labels}` reaches `at_least`; returns the value.
async fn metric_reaches(
    gateway: &Gateway,
    name: &str,
    labels: &[(&str, &str)],
    at_least: f64,
) -> f64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let value = metric(gateway, name, labels).await;
        if value >= at_least {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}{labels:?} stayed at {value}, expected at least {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn litellm_generic_api_gets_batched_json_records() {
    let mut server = Collector::start().await.unwrap();
    let config = format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: mock/demo}}
litellm_settings:
  success_callback: [\"generic_api\"]
general_settings:
  master_key: {MASTER}
"
    );
    let endpoint = format!("{}/ingest", server.url);
    let gateway = Gateway::start_with_env(
        &config,
        &[
            ("GENERIC_LOGGER_ENDPOINT", endpoint.as_str()),
            ("GENERIC_LOGGER_HEADERS", "Authorization=Bearer hook-secret"),
        ],
    );
    let mut ids = BTreeSet::new();
    for content in ["one", "two", "three"] {
        ids.insert(chat(&gateway, content).await);
    }
    let first = next_accepted(&mut server).await;
    assert_eq!(first.path, "/ingest");
    assert_eq!(first.content_type, "application/json");
    assert_eq!(first.authorization.as_deref(), Some("Bearer hook-secret"));
    let mut records: Vec<Value> = serde_json::from_slice::<Value>(&first.body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let seen: BTreeSet<String> = records
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_owned())
        .collect();
    let rest: BTreeSet<String> = ids.difference(&seen).cloned().collect();
    if !rest.is_empty() {
        records.extend(records_until(&mut server, &rest).await);
    }
    assert_eq!(records.len(), 3, "{records:?}");
    for record in &records {
        assert!(ids.contains(record["request_id"].as_str().unwrap()));
        assert_eq!(record["call_type"], "chat");
        assert_eq!(record["model_group"], "m");
        assert_eq!(record["status"], 200);
        assert_eq!(record["stream"], false);
        assert!(record["duration_ms"].as_f64().unwrap() > 0.0, "{record}");
        assert!(record["cost_usd"].is_number(), "{record}");
        assert!(
            record["completion_tokens"].as_u64().unwrap() > 0,
            "{record}"
        );
        let asked = &record["request_content"][0]["content"];
        assert!(
            ["one", "two", "three"].contains(&asked.as_str().unwrap()),
            "{record}"
        );
        assert!(record["response_content"].is_array(), "{record}");
    }
}

#[tokio::test]
async fn a_webhook_outage_fails_no_request_and_its_backlog_arrives_after() {
    let mut server = Collector::start().await.unwrap();
    let sink = format!(
        "    - {{name: hook, type: webhook, url: \"{}/logs\", batch_size: 5, flush_interval_ms: 20,
        backoff_ms: 10, max_backoff_ms: 50, max_retries: 100000}}",
        server.url
    );
    let gateway = Gateway::start(&native_config(&sink));
    let before = BTreeSet::from([chat(&gateway, "before").await]);
    records_until(&mut server, &before).await;

    server.answer_with(503);
    let mut during = BTreeSet::new();
    for i in 0..6 {
        during.insert(chat(&gateway, &format!("during {i}")).await);
    }
    // The sink refuses: the gateway keeps retrying.
    for _ in 0..2 {
        assert_eq!(server.next().await.unwrap().status, 503);
    }
    server.answer_with(200);
    records_until(&mut server, &during).await;
    let delivered = [("sink", "hook"), ("outcome", "delivered")];
    assert_eq!(
        metric_reaches(&gateway, "llmgw_log_sink_records_total", &delivered, 7.0).await,
        7.0
    );
    let dropped = [("sink", "hook"), ("outcome", "dropped")];
    assert_eq!(
        metric(&gateway, "llmgw_log_sink_records_total", &dropped).await,
        0.0
    );
    assert!(
        metric(
            &gateway,
            "llmgw_log_sink_failed_attempts_total",
            &[("sink", "hook")]
        )
        .await
            >= 2.0
    );
}

#[tokio::test]
async fn a_full_queue_drops_records_and_counts_them() {
    // A port nobody listens on: the sink is down for the whole test.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let sink = format!(
        "    - {{name: down, type: webhook, url: \"{url}\", batch_size: 1, queue_capacity: 1,
        backoff_ms: 3600000, max_retries: 1}}"
    );
    let gateway = Gateway::start(&native_config(&sink));
    for i in 0..5 {
        chat(&gateway, &format!("r{i}")).await;
    }
    // One record in the worker's batch (waiting an hour to retry) and one in the queue at
    // most: the rest are dropped.
    let dropped = [("sink", "down"), ("outcome", "dropped")];
    let count = metric_reaches(&gateway, "llmgw_log_sink_records_total", &dropped, 3.0).await;
    let queued = metric(&gateway, "llmgw_log_sink_queued", &[("sink", "down")]).await;
    assert_eq!(count + queued, 5.0, "dropped {count}, queued {queued}");
}

#[tokio::test]
async fn json_lines_reach_the_file_at_graceful_shutdown() {
    let dir = Arc::new(support::TempDir::new("sinks-jsonl"));
    let file = dir.0.join("requests.jsonl");
    // Nothing is written before an hour passes or 1000 records come, but for shutdown.
    let sink = format!(
        "    - {{name: file, type: jsonl, path: \"{}\", batch_size: 1000, flush_interval_ms: 3600000,
        redact_content: true}}",
        file.display()
    );
    let mut gateway = Gateway::start_in(dir.clone(), &native_config(&sink), &[]);
    let mut ids = BTreeSet::new();
    for i in 0..3 {
        ids.insert(chat(&gateway, &format!("r{i}")).await);
    }
    gateway.terminate();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while gateway.alive() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written: BTreeSet<String> = lines
        .iter()
        .map(|l| l["request_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(written, ids);
    for line in &lines {
        assert_eq!(line["model_group"], "m");
        assert!(line.get("request_content").is_none(), "redacted: {line}");
    }
}

#[tokio::test]
async fn langfuse_gets_otlp_genai_spans() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message as _;

    let mut server = Collector::start().await.unwrap();
    let config = format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: mock/demo}}
litellm_settings:
  callbacks: [\"langfuse\"]
general_settings:
  master_key: {MASTER}
"
    );
    let gateway = Gateway::start_with_env(
        &config,
        &[
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-test"),
            ("LANGFUSE_SECRET_KEY", "sk-lf-test"),
            ("LANGFUSE_HOST", server.url.as_str()),
        ],
    );
    let id = chat(&gateway, "hello langfuse").await;
    let got = next_accepted(&mut server).await;
    assert_eq!(got.path, "/api/public/otel/v1/traces");
    assert_eq!(got.content_type, "application/x-protobuf");
    // base64("pk-lf-test:sk-lf-test")
    assert_eq!(
        got.authorization.as_deref(),
        Some("Basic cGstbGYtdGVzdDpzay1sZi10ZXN0")
    );
    let export = ExportTraceServiceRequest::decode(got.body).unwrap();
    let spans = &export.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    let text = |s: &str| Some(Any::StringValue(s.to_owned()));
    assert_eq!(span.name, "chat m");
    assert_eq!(attribute("llm_gateway.request_id"), text(&id));
    assert_eq!(attribute("gen_ai.operation.name"), text("chat"));
    assert_eq!(attribute("gen_ai.request.model"), text("m"));
    assert!(matches!(attribute("gen_ai.usage.output_tokens"), Some(Any::IntValue(n)) if n > 0));
    let Some(Any::StringValue(input)) = attribute("gen_ai.input.messages") else {
        panic!("no input messages: {span:?}");
    };
    assert!(input.contains("hello langfuse"), "{input}");
    assert!(span.end_time_unix_nano > span.start_time_unix_nano);
}
