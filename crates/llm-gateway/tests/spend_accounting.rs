//! Every request that reached admission is billed exactly once, however it ends: answered,
//! failed upstream, abandoned by its client before the answer, or abandoned mid-stream
//! (drained in the background for its usage, else estimated). The real binary on SQLite;
//! the rows are read back through `/spend/logs`.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::StreamExt;
use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Gateway, http};

const MASTER: &str = "sk-spend-master";

fn config(base: &str) -> String {
    let prices = "input_cost_per_token: 0.001, output_cost_per_token: 0.002";
    format!(
        "model_list:
  - model_name: drip
    litellm_params: {{model: openai/drip-40, api_base: \"{base}\", api_key: k, {prices}}}
  - model_name: stall
    litellm_params: {{model: openai/stall-after-1, api_base: \"{base}\", api_key: k, stream_timeout: 1, {prices}}}
  - model_name: slow
    litellm_params: {{model: openai/slow-3000, api_base: \"{base}\", api_key: k, {prices}}}
  - model_name: broken
    litellm_params: {{model: openai/error-500, api_base: \"{base}\", api_key: k, {prices}}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
"
    )
}

fn chat_body(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream,
           "messages": [{"role": "user", "content": "one two three four five six"}]})
}

/// The spend row of the one request to `model_group`, once the journal has shipped it.
async fn spend_row(gateway: &Gateway, model_group: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let rows: Value = http()
            .get(format!("{}/spend/logs?limit=100", gateway.url))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(row) = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model_group"] == model_group)
        {
            return row.clone();
        }
        assert!(Instant::now() < deadline, "no spend row for {model_group}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a streamed request and drops the connection after the first `data:` event.
async fn abandon_stream(gateway: &Gateway, model: &str) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&chat_body(model, true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "), "{first:?}");
    drop(body);
}

#[tokio::test]
async fn every_ending_of_a_request_is_billed_once() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let gateway = Gateway::start(&config(&mock.base_url()));

    // An abandoned stream the upstream finishes: drained, billed with the real usage.
    abandon_stream(&gateway, "drip").await;
    // An abandoned stream the upstream stalls: billed on an estimate.
    abandon_stream(&gateway, "stall").await;
    // A client that gives up before a slow non-streamed answer.
    let gave_up = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .timeout(Duration::from_millis(300))
        .json(&chat_body("slow", false))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    // An upstream failure: a row, at no cost.
    let failed = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&chat_body("broken", false))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 502);

    // (model group: how its one request ended, status, estimated, completion tokens > 0,
    // cost > 0)
    let cases = [
        ("drip", 499, false, true, true), // abandoned, drained for its usage
        ("stall", 499, true, true, true), // abandoned, the upstream stalled: estimated
        ("slow", 499, true, false, true), // the client gave up before the answer
        ("broken", 502, false, false, false), // the upstream failed
    ];
    for (id, status, estimated, completion, cost) in cases {
        let row = spend_row(&gateway, id).await;
        assert_eq!(row["status"], status, "{id}: {row}");
        assert_eq!(row["estimated"], estimated, "{id}: {row}");
        assert_eq!(
            row["completion_tokens"].as_u64().unwrap() > 0,
            completion,
            "{id}: {row}"
        );
        assert_eq!(row["spend"].as_f64().unwrap() > 0.0, cost, "{id}: {row}");
    }
    // The drained stream's usage is the upstream's own: "echo: one two ... six" is 7 tokens.
    let drained = spend_row(&gateway, "drip").await;
    assert_eq!(drained["completion_tokens"], 7, "{drained}");
    assert_eq!(drained["prompt_tokens"], 6, "{drained}");
}

#[tokio::test]
async fn the_gateway_wide_budget_refuses_once_spent() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let yaml = config(&mock.base_url()).replace(
        "general_settings:",
        "litellm_settings:\n  max_budget: 0.05\n  budget_duration: 30d\ngeneral_settings:",
    );
    let gateway = Gateway::start(&yaml);
    // Each answer costs $0.020 (6 prompt tokens at $0.001, 7 completion tokens at $0.002) and
    // reserves $0.030 (10 estimated prompt tokens, max_tokens 10).
    let mut body = chat_body("drip", false);
    body["max_tokens"] = json!(10);
    let mut spent = 0.0;
    let mut answered = 0;
    let refusal = loop {
        let response = http()
            .post(format!("{}/v1/chat/completions", gateway.url))
            .bearer_auth(MASTER)
            .json(&body)
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            break response;
        }
        spent += response.headers()["x-llm-response-cost"]
            .to_str()
            .unwrap()
            .parse::<f64>()
            .unwrap();
        answered += 1;
        assert!(answered <= 2, "the budget admits at most two answers");
    };
    assert_eq!(refusal.status(), 429);
    assert!(refusal.headers().contains_key("retry-after"));
    let error: Value = refusal.json().await.unwrap();
    assert_eq!(error["error"]["code"], "budget_exceeded", "{error}");
    assert!(
        answered >= 1 && spent <= 0.05 + 1e-9,
        "{answered} answers, ${spent}"
    );

    let global: Value = http()
        .get(format!("{}/global/spend", gateway.url))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(global["max_budget"], 0.05, "{global}");
}
