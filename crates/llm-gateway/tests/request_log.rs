//! The request log line: one JSON line per LLM request when it settles, with the essentials
//! (id, model, deployment, status, tokens, cost, key alias; the error class on failure), and
//! never a key, an upstream credential or message content.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use support::{Gateway, TempDir, http};

const MASTER: &str = "sk-log-line-master";
const UPSTREAM_KEY: &str = "sk-upstream-secret-for-log-test";
const CONTENT: &str = "a sentence that must never reach the log";

fn config(base: &str) -> String {
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: {UPSTREAM_KEY}}}
  - model_name: broken
    litellm_params: {{model: openai/error-500, api_base: \"{base}\", api_key: {UPSTREAM_KEY}, max_retries: 0}}
general_settings:
  master_key: {MASTER}
"
    )
}

/// Sends a chat request with `key`; returns the gateway's request id and the status.
async fn chat(gateway: &Gateway, key: &str, model: &str, stream: bool) -> (String, u16) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(key)
        .json(&json!({
            "model": model,
            "stream": stream,
            "messages": [{"role": "user", "content": CONTENT}],
        }))
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = response.status().as_u16();
    response.text().await.unwrap();
    (id, status)
}

#[tokio::test]
async fn one_json_line_per_request_with_the_essentials_and_no_secret() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let dir = Arc::new(TempDir::new("request-log"));
    let log_path = dir.0.join("gateway.log");
    let mut gateway = Gateway::start_logging_to(
        dir.clone(),
        &config(&mock.base_url()),
        &[("RUST_LOG", "info"), ("LLM_GATEWAY_LOG_FORMAT", "json")],
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
    );
    let generated: Value = http()
        .post(format!("{}/key/generate", gateway.url))
        .bearer_auth(MASTER)
        .json(&json!({"key_alias": "bot", "team_id": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = generated["key"].as_str().unwrap().to_owned();

    // (model, stream, expected status, level, message, error class)
    let cases = [
        ("m", false, 200, "INFO", "request served", None),
        ("m", true, 200, "INFO", "request served", None),
        (
            "broken",
            false,
            502,
            "WARN",
            "request failed",
            Some("upstream_server_error"),
        ),
    ];
    let mut sent = Vec::new();
    for (model, stream, status, ..) in &cases {
        let (id, got) = chat(&gateway, &key, model, *stream).await;
        assert_eq!(got, *status, "{model}");
        sent.push(id);
    }
    // A graceful stop: every request has settled and logged.
    gateway.terminate();
    gateway.child.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for ((model, stream, status, level, message, error), id) in cases.iter().zip(&sent) {
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| l["fields"]["request_id"] == id.as_str())
            .filter(|l| l["fields"]["message"] == *message)
            .collect();
        assert_eq!(mine.len(), 1, "{model} {stream}: one line for {id}\n{log}");
        let line = mine[0];
        let fields = &line["fields"];
        assert_eq!(line["level"], *level, "{line}");
        assert_eq!(fields["model"], *model, "{line}");
        assert_eq!(fields["status"], *status, "{line}");
        assert_eq!(fields["stream"], *stream, "{line}");
        assert_eq!(fields["call"], "chat", "{line}");
        assert_eq!(fields["key_alias"], "bot", "{line}");
        assert!(fields["duration_ms"].as_f64().unwrap() > 0.0, "{line}");
        match error {
            None => {
                assert_eq!(fields["deployment"], "m#0", "{line}");
                assert!(fields["prompt_tokens"].as_u64().unwrap() > 0, "{line}");
                assert!(fields["completion_tokens"].as_u64().unwrap() > 0, "{line}");
                assert!(fields["cost_usd"].as_f64().unwrap() > 0.0, "{line}");
            }
            Some(class) => assert_eq!(fields["error"], *class, "{line}"),
        }
    }
    for secret in [MASTER, UPSTREAM_KEY, key.as_str(), CONTENT] {
        assert!(!log.contains(secret), "`{secret}` is in the log:\n{log}");
    }
}
