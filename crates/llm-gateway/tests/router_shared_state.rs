//! Two real gateway instances sharing router state through the real Redis on
//! 127.0.0.1:6379 (each test under its own key prefix), and one whose Redis is unreachable.
//! Instance A names Redis with LiteLLM's `redis_host`/`redis_port`, instance B with
//! `REDIS_URL`: both spellings must mean the same server.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::json;
use std::time::Duration;
use support::{Gateway, http};

const MASTER: &str = "sk-shared-master";

/// Whether Redis is there; without it the test fails saying how to start it, unless
/// `LLMGW_SKIP_REDIS_TESTS=1` asks to skip.
fn redis_available() -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 6379));
    if std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok() {
        return true;
    }
    if std::env::var("LLMGW_SKIP_REDIS_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: Redis is not reachable on 127.0.0.1:6379 and \
             LLMGW_SKIP_REDIS_TESTS=1: gateways sharing router state are NOT tested !!!!!!!!\n"
        );
        return false;
    }
    panic!(
        "Redis is not reachable on 127.0.0.1:6379. Start it with \
         `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
         (or set LLMGW_SKIP_REDIS_TESTS=1 to skip the Redis tests)"
    );
}

/// A key prefix no other test (or run) uses; the keys expire by themselves.
fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("llmgw-test:{test}:{}:{nanos}:", std::process::id())
}

/// Group `g`: `broken` (always 500) first in priority, then `healthy`; one failure cools a
/// deployment down for a minute. Group `limited`: one deployment taking 2 requests a minute.
fn config(base: &str, router_lines: &str) -> String {
    format!(
        "model_list:
  - model_name: g
    litellm_params: {{model: openai/error-500, api_base: \"{base}\", api_key: k, order: 1}}
    model_info: {{id: broken}}
  - model_name: g
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k, order: 2}}
    model_info: {{id: healthy}}
  - model_name: limited
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k, rpm: 2}}
    model_info: {{id: limited}}
router_settings:
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 60
{router_lines}general_settings:
  master_key: {MASTER}
"
    )
}

/// Status and `x-llm-model-id` of one chat request.
async fn chat(gateway: &Gateway, model: &str) -> (u16, Option<String>) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let id = response
        .headers()
        .get("x-llm-model-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), id)
}

/// Upstream models the mock was asked for, in order.
fn upstream_models(mock: &MockServer) -> Vec<String> {
    mock.requests()
        .iter()
        .filter_map(|r| r.body["model"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_deployment_cooled_down_by_one_instance_is_skipped_by_the_other() {
    if !redis_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let prefix = unique_prefix("gateways");
    let base = mock.base_url();
    let a = Gateway::start(&config(
        &base,
        &format!("  redis_host: 127.0.0.1\n  redis_port: 6379\n  redis_key_prefix: \"{prefix}\"\n"),
    ));
    let b = Gateway::start_with_env(
        &config(&base, &format!("  redis_key_prefix: \"{prefix}\"\n")),
        &[("REDIS_URL", "redis://127.0.0.1:6379")],
    );

    // A tries `broken` first, which fails and cools down; `healthy` answers.
    assert_eq!(chat(&a, "g").await, (200, Some("healthy".to_owned())));
    assert_eq!(upstream_models(&mock), ["error-500", "gpt-4o-mini"]);
    mock.clear_requests();
    // B never calls `broken` although it comes first in priority: A cooled it down.
    for _ in 0..5 {
        assert_eq!(chat(&b, "g").await, (200, Some("healthy".to_owned())));
    }
    assert_eq!(upstream_models(&mock), ["gpt-4o-mini"; 5]);

    // The rpm limit of `limited` counts the requests of both instances.
    let limited = Some("limited".to_owned());
    assert_eq!(chat(&a, "limited").await, (200, limited.clone()));
    assert_eq!(chat(&b, "limited").await, (200, limited));
    assert_eq!(chat(&a, "limited").await.0, 429);
    assert_eq!(chat(&b, "limited").await.0, 429);
}

#[tokio::test]
async fn usage_based_routing_sees_the_traffic_of_both_instances() {
    if !redis_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let base = mock.base_url();
    let prefix = unique_prefix("usage");
    // Five groups of two deployments each; instance A sends three requests to a group (2:1
    // between its deployments), then B its first: B must pick the less used one, which it
    // can only know from A's counts (alone it would pick at random: 1 in 32 to pass).
    let groups = 5;
    let mut config = String::from("model_list:\n");
    for group in 0..groups {
        for side in ["a", "b"] {
            config.push_str(&format!(
                "  - model_name: u{group}\n    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k, rpm: 1000}}\n    model_info: {{id: u{group}{side}}}\n"
            ));
        }
    }
    config.push_str(&format!(
        "router_settings:\n  routing_strategy: usage-based-routing\n  redis_url: redis://127.0.0.1:6379\n  redis_key_prefix: \"{prefix}\"\ngeneral_settings:\n  master_key: {MASTER}\n"
    ));
    let (a, b) = (Gateway::start(&config), Gateway::start(&config));
    for group in 0..groups {
        let model = format!("u{group}");
        let mut served = Vec::new();
        for _ in 0..3 {
            let (status, id) = chat(&a, &model).await;
            assert_eq!(status, 200);
            served.push(id.unwrap());
        }
        let on_a = served.iter().filter(|id| id.ends_with('a')).count();
        assert!(
            on_a == 1 || on_a == 2,
            "A balances its own traffic: {served:?}"
        );
        let less_used = format!("u{group}{}", if on_a == 1 { 'a' } else { 'b' });
        assert_eq!(
            chat(&b, &model).await,
            (200, Some(less_used)),
            "A served {served:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_redis_leaves_requests_answered_on_local_state() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gateway = Gateway::start(&config(
        &mock.base_url(),
        &format!("  redis_url: redis://127.0.0.1:{closed}\n"),
    ));
    for _ in 0..4 {
        assert_eq!(chat(&gateway, "g").await, (200, Some("healthy".to_owned())));
    }
    // The cooldown still works, on this instance's own state.
    assert_eq!(
        upstream_models(&mock),
        [
            "error-500",
            "gpt-4o-mini",
            "gpt-4o-mini",
            "gpt-4o-mini",
            "gpt-4o-mini"
        ]
    );
    // And readiness says the shared state is failing.
    let ready: serde_json::Value = http()
        .get(format!("{}/health/readiness", gateway.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["router_state"]["backend"], "redis", "{ready}");
    assert!(
        ready["router_state"]["errors"].as_u64().unwrap() > 0,
        "{ready}"
    );
}
