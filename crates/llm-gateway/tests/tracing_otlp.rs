//! Trace export through the real binary: an in-process OTLP/HTTP receiver decodes what the
//! gateway exports with the official protobuf types, and the mock upstream shows the
//! `traceparent` the gateway sent. Checked: the request span continues the caller's trace,
//! attempts are its children (a retry gives two, the failed one with `error.type`), the GenAI
//! attributes, the upstream's `traceparent`, and message content only when asked for.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use llm_mock_upstream::{MockOptions, MockServer};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Gateway, http};
use tokio::sync::Notify;

const MASTER: &str = "sk-tracing-master";
/// How long the export may take to arrive (the batch delay is set to 50 ms).
const DEADLINE: Duration = Duration::from_secs(20);

/// Spans received, and a wake-up for whoever waits on them.
#[derive(Default)]
struct Received {
    spans: Mutex<Vec<Span>>,
    arrived: Notify,
}

/// An OTLP/HTTP traces endpoint on an ephemeral port.
struct Receiver {
    url: String,
    received: Arc<Received>,
}

impl Receiver {
    async fn start() -> Receiver {
        let received = Arc::new(Received::default());
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, received }
    }

    /// The spans of trace `trace_id` once `done` holds for them; fails after [`DEADLINE`].
    async fn wait_for(&self, trace_id: &str, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let wait = async {
            loop {
                let arrived = self.received.arrived.notified();
                tokio::pin!(arrived);
                arrived.as_mut().enable();
                let spans: Vec<Span> = self
                    .received
                    .spans
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|s| hex(&s.trace_id) == trace_id)
                    .cloned()
                    .collect();
                if done(&spans) {
                    return spans;
                }
                arrived.await;
            }
        };
        match tokio::time::timeout(DEADLINE, wait).await {
            Ok(spans) => spans,
            Err(_) => {
                let all = self.received.spans.lock().unwrap();
                let seen: Vec<(String, String)> = all
                    .iter()
                    .map(|s| (hex(&s.trace_id), s.name.clone()))
                    .collect();
                panic!("trace {trace_id} incomplete after {DEADLINE:?}; received {seen:?}")
            }
        }
    }
}

async fn receive(State(received): State<Arc<Received>>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).unwrap();
    let spans = request
        .resource_spans
        .into_iter()
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans);
    received.spans.lock().unwrap().extend(spans);
    received.arrived.notify_waiters();
    ExportTraceServiceResponse::default().encode_to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An attribute's value as JSON (strings, numbers, booleans, arrays of those).
fn attr(span: &Span, key: &str) -> Option<Value> {
    fn json_of(value: &AnyValue) -> Value {
        match value {
            AnyValue::StringValue(s) => json!(s),
            AnyValue::IntValue(i) => json!(i),
            AnyValue::DoubleValue(d) => json!(d),
            AnyValue::BoolValue(b) => json!(b),
            AnyValue::ArrayValue(array) => Value::Array(
                array
                    .values
                    .iter()
                    .filter_map(|v| v.value.as_ref().map(json_of))
                    .collect(),
            ),
            other => json!(format!("{other:?}")),
        }
    }
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref().map(json_of))
}

fn config(base: &str) -> String {
    let root = base.trim_end_matches("/v1");
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k}}
  # The first choice fails with a 500; the retry goes to the second.
  - model_name: flaky
    litellm_params: {{model: openai/error-500, api_base: \"{base}\", api_key: k, order: 1}}
  - model_name: flaky
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k, order: 2}}
  - model_name: native
    litellm_params: {{model: anthropic/claude-3-5-haiku, api_base: \"{root}\", api_key: k}}
  - model_name: broken
    litellm_params: {{model: openai/error-400, api_base: \"{base}\", api_key: k}}
general_settings:
  master_key: {MASTER}
"
    )
}

/// A gateway exporting to `receiver`, with `env` on top.
fn gateway(mock: &MockServer, receiver: &Receiver, env: &[(&str, &str)]) -> Gateway {
    let mut all = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ];
    all.extend_from_slice(env);
    Gateway::start_with_env(&config(&mock.base_url()), &all)
}

/// Sends a chat request under `traceparent`; returns the answer.
async fn chat(gateway: &Gateway, model: &str, traceparent: &str) -> Value {
    let (status, answer) = send(gateway, model, traceparent).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Sends a chat request under `traceparent`; returns the status and the body.
async fn send(gateway: &Gateway, model: &str, traceparent: &str) -> (u16, Value) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .header("traceparent", traceparent)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hello trace"}]}))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn kind(span: &Span) -> SpanKind {
    SpanKind::try_from(span.kind).unwrap()
}

/// The request span (the server span named `chat {model}`) and the attempts under it.
fn split<'a>(spans: &'a [Span], model: &str) -> Option<(&'a Span, Vec<&'a Span>)> {
    let request = spans
        .iter()
        .find(|s| kind(s) == SpanKind::Server && s.name == format!("chat {model}"))?;
    let attempts = spans
        .iter()
        .filter(|s| kind(s) == SpanKind::Client && s.parent_span_id == request.span_id)
        .collect();
    Some((request, attempts))
}

/// The spans of one trace as an indented tree (children under their parent, by start
/// time), each with its kind, status and attributes: printed for a reader of the test log.
fn render_tree(spans: &[Span]) -> String {
    fn walk(spans: &[Span], parent: &[u8], depth: usize, out: &mut String) {
        let mut children: Vec<&Span> = spans
            .iter()
            .filter(|s| s.parent_span_id == parent)
            .collect();
        children.sort_by_key(|s| s.start_time_unix_nano);
        for span in children {
            let attributes: Vec<String> = span
                .attributes
                .iter()
                .filter_map(|kv| Some(format!("{}={}", kv.key, attr(span, &kv.key)?)))
                .collect();
            let status = span
                .status
                .as_ref()
                .and_then(|s| StatusCode::try_from(s.code).ok())
                .unwrap_or(StatusCode::Unset);
            let micros = span
                .end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano)
                / 1000;
            out.push_str(&format!(
                "{:indent$}{} [{:?}, {status:?}, {micros} µs] {}\n",
                "",
                span.name,
                kind(span),
                attributes.join(" "),
                indent = depth * 2
            ));
            walk(spans, &span.span_id, depth + 1, out);
        }
    }
    let ids: std::collections::HashSet<&[u8]> =
        spans.iter().map(|s| s.span_id.as_slice()).collect();
    let mut out = String::new();
    // Roots: spans whose parent is not in this trace's export (the caller's span).
    let mut roots: Vec<&[u8]> = spans
        .iter()
        .map(|s| s.parent_span_id.as_slice())
        .filter(|p| !ids.contains(p))
        .collect();
    roots.sort();
    roots.dedup();
    for root in roots {
        out.push_str(&format!("(caller {})\n", hex(root)));
        walk(spans, root, 1, &mut out);
    }
    out
}

/// The trace id of a recorded upstream request's `traceparent`, and its parent span id.
fn upstream_parent(request: &llm_mock_upstream::RecordedRequest) -> (String, String) {
    let value = request
        .header("traceparent")
        .unwrap_or_else(|| panic!("no traceparent upstream: {:?}", request.headers));
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_continue_the_callers_trace_and_reach_the_upstream() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let receiver = Receiver::start().await;
    let gateway = gateway(&mock, &receiver, &[]);

    // One answered attempt.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let answer = chat(&gateway, "m", &format!("00-{trace}-{caller}-01")).await;
    let spans = receiver
        .wait_for(trace, |spans| {
            split(spans, "m").is_some_and(|(_, attempts)| attempts.len() == 1)
        })
        .await;
    let (request, attempts) = split(&spans, "m").unwrap();
    assert_eq!(hex(&request.parent_span_id), caller);
    for span in &spans {
        let mut keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
        keys.sort_unstable();
        let count = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), count, "{}: an attribute twice", span.name);
    }
    let usage = &answer["usage"];
    // (attribute, expected value) on the request span.
    let expected = [
        ("gen_ai.operation.name", json!("chat")),
        ("gen_ai.provider.name", json!("openai")),
        ("gen_ai.request.model", json!("m")),
        ("gen_ai.response.model", answer["model"].clone()),
        ("gen_ai.usage.input_tokens", usage["prompt_tokens"].clone()),
        (
            "gen_ai.usage.output_tokens",
            usage["completion_tokens"].clone(),
        ),
        ("gen_ai.response.finish_reasons", json!(["stop"])),
        ("http.response.status_code", json!(200)),
        ("llm_gateway.retries", json!(0)),
        ("llm_gateway.cache_hit", json!(false)),
    ];
    for (key, value) in expected {
        assert_eq!(attr(request, key), Some(value), "{key}");
    }
    for key in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "error.type",
    ] {
        assert_eq!(attr(request, key), None, "{key} without capture");
    }
    let attempt = attempts[0];
    assert_eq!(attempt.name, "chat gpt-4o-mini");
    assert_eq!(attr(attempt, "gen_ai.provider.name"), Some(json!("openai")));
    assert!(attr(attempt, "llm_gateway.deployment").is_some());
    assert_eq!(attr(attempt, "error.type"), None);
    // The upstream got the attempt's context.
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        upstream_parent(&sent[0]),
        (trace.to_owned(), hex(&attempt.span_id))
    );

    // A failure then a retry: two sibling attempts, the first with the error's class.
    mock.clear_requests();
    let trace = "0af7651916cd43dd8448eb211c80319c";
    chat(
        &gateway,
        "flaky",
        &format!("00-{trace}-b7ad6b7169203331-01"),
    )
    .await;
    let spans = receiver
        .wait_for(trace, |spans| {
            split(spans, "flaky").is_some_and(|(_, attempts)| attempts.len() == 2)
        })
        .await;
    eprintln!("trace {trace}:\n{}", render_tree(&spans));
    let (request, mut attempts) = split(&spans, "flaky").unwrap();
    assert_eq!(attr(request, "llm_gateway.retries"), Some(json!(1)));
    attempts.sort_by_key(|s| s.start_time_unix_nano);
    let errors: Vec<Option<Value>> = attempts.iter().map(|s| attr(s, "error.type")).collect();
    assert_eq!(errors, [Some(json!("upstream_server_error")), None]);
    let failed = attempts[0].status.as_ref().map(|s| s.code);
    assert_eq!(failed, Some(StatusCode::Error as i32));
    let names: Vec<&str> = attempts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chat error-500", "chat gpt-4o-mini"]);
    let sent: Vec<(String, String)> = mock.requests().iter().map(upstream_parent).collect();
    let expected: Vec<(String, String)> = attempts
        .iter()
        .map(|s| (trace.to_owned(), hex(&s.span_id)))
        .collect();
    assert_eq!(sent, expected);

    // A request that fails: the error's class and an error status on both spans.
    let trace = "1af7651916cd43dd8448eb211c80319d";
    let (status, _) = send(
        &gateway,
        "broken",
        &format!("00-{trace}-b7ad6b7169203331-01"),
    )
    .await;
    assert_eq!(status, 400);
    let spans = receiver
        .wait_for(trace, |spans| {
            split(spans, "broken").is_some_and(|(_, attempts)| attempts.len() == 1)
        })
        .await;
    let (request, attempts) = split(&spans, "broken").unwrap();
    for span in [request, attempts[0]] {
        let class = attr(span, "error.type");
        assert!(
            matches!(&class, Some(Value::String(c)) if !c.is_empty()),
            "{}: {class:?}",
            span.name
        );
        let code = span.status.as_ref().map(|s| s.code);
        assert_eq!(code, Some(StatusCode::Error as i32), "{}", span.name);
    }
    assert_eq!(attr(request, "error.type"), attr(attempts[0], "error.type"));
    assert_eq!(attr(request, "http.response.status_code"), Some(json!(400)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_content_only_when_capture_is_on() {
    // (capture switch in the environment, content expected on the span)
    let cases = [(None, false), (Some("true"), true)];
    for (n, (capture, expected)) in cases.into_iter().enumerate() {
        let mock = MockServer::start(MockOptions::default()).await.unwrap();
        let receiver = Receiver::start().await;
        let env: Vec<(&str, &str)> = capture
            .map(|v| ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", v))
            .into_iter()
            .collect();
        let gateway = gateway(&mock, &receiver, &env);
        let trace = format!("{n:032x}").replace('0', "a");
        chat(&gateway, "m", &format!("00-{trace}-00f067aa0ba902b7-01")).await;
        let spans = receiver
            .wait_for(&trace, |spans| split(spans, "m").is_some())
            .await;
        let (request, _) = split(&spans, "m").unwrap();
        for key in ["gen_ai.input.messages", "gen_ai.output.messages"] {
            let value = attr(request, key);
            assert_eq!(
                value.is_some(),
                expected,
                "{key} with {capture:?}: {value:?}"
            );
            if let Some(Value::String(text)) = value
                && key == "gen_ai.input.messages"
            {
                assert!(text.contains("hello trace"), "{text}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_spans_are_flushed_at_shutdown() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let receiver = Receiver::start().await;
    // A batch delay far beyond the deadline: only the shutdown's flush can send the spans.
    let gateway = gateway(&mock, &receiver, &[("OTEL_BSP_SCHEDULE_DELAY", "600000")]);
    let trace = "5bf92f3577b34da6a3ce929d0e0e4737";
    chat(&gateway, "m", &format!("00-{trace}-00f067aa0ba902b7-01")).await;
    gateway.terminate();
    receiver
        .wait_for(trace, |spans| {
            split(spans, "m").is_some_and(|(_, attempts)| attempts.len() == 1)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upstream_call_carries_the_attempts_traceparent() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let receiver = Receiver::start().await;
    let gateway = gateway(&mock, &receiver, &[]);
    // (model group, its upstream model, streamed)
    let cases = [
        ("m", "gpt-4o-mini", false),
        ("m", "gpt-4o-mini", true),
        ("native", "claude-3-5-haiku", false),
        ("native", "claude-3-5-haiku", true),
    ];
    for (n, (model, upstream, stream)) in cases.into_iter().enumerate() {
        mock.clear_requests();
        let trace = format!("{:032x}", 0xabc0 + n);
        let response = http()
            .post(format!("{}/v1/chat/completions", gateway.url))
            .bearer_auth(MASTER)
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .json(&json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{model} stream={stream}");
        response.text().await.unwrap();
        let spans = receiver
            .wait_for(&trace, |spans| {
                split(spans, model).is_some_and(|(_, attempts)| attempts.len() == 1)
            })
            .await;
        let (_, attempts) = split(&spans, model).unwrap();
        assert_eq!(attempts[0].name, format!("chat {upstream}"));
        let sent: Vec<(String, String)> = mock.requests().iter().map(upstream_parent).collect();
        assert_eq!(
            sent,
            [(trace.clone(), hex(&attempts[0].span_id))],
            "{model} stream={stream}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_otel_callback_exports_to_its_endpoint() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let receiver = Receiver::start().await;
    // LiteLLM's own variable, which only counts under its `otel` callback.
    let config = config(&mock.base_url()) + "litellm_settings:\n  callbacks: [\"otel\"]\n";
    let gateway = Gateway::start_with_env(
        &config,
        &[
            ("OTEL_ENDPOINT", receiver.url.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    let trace = "6bf92f3577b34da6a3ce929d0e0e4738";
    chat(&gateway, "m", &format!("00-{trace}-00f067aa0ba902b7-01")).await;
    receiver
        .wait_for(trace, |spans| split(spans, "m").is_some())
        .await;
}
