//! The router end to end: the real binary, fault-injecting mock upstreams, and what the client
//! observes (status, which group answered, the attempt headers).
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use support::{Gateway, http, sse_data};

const MASTER: &str = "sk-router-master";

async fn setup() -> (MockServer, Gateway) {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let base = mock.base_url();
    let entry = |name: &str, model: &str, extra: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params: {{model: openai/{model}, api_base: \"{base}\", api_key: k{extra}}}\n"
        )
    };
    let mut config = String::from("model_list:\n");
    for (name, model, extra) in [
        ("half-broken", "error-500", ""),
        ("half-broken", "gpt-4o-mini", ""),
        ("down", "error-503", ""),
        ("limited", "error-429", ""),
        ("garbled", "garbage", ""),
        ("cut-early", "cut-0", ""),
        ("cut-late", "cut-3", ""),
        ("slow", "hang", ", timeout: 0.5"),
        ("backup", "gpt-4o-mini", ""),
        ("big", "gpt-4o-mini", ""),
    ] {
        config.push_str(&entry(name, model, extra));
    }
    config.push_str(&format!(
        "  - model_name: tiny\n    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k}}\n    model_info: {{max_input_tokens: 5}}\n"
    ));
    let root = format!("http://{}", mock.addr());
    config.push_str(&format!(
        "  - model_name: long-upstream\n    litellm_params: {{model: anthropic/prompt-too-long, api_base: \"{root}\", api_key: k}}\n  - model_name: filtered\n    litellm_params: {{model: azure/content-filter, api_base: \"{root}\", api_key: k}}\n  - model_name: reset\n    litellm_params: {{model: openai/cut-2, api_base: \"{base}\", api_key: k}}\n"
    ));
    config.push_str(&format!(
        "router_settings:
  num_retries: 1
  fallbacks: [{{down: [backup]}}, {{limited: [backup]}}, {{garbled: [backup]}}, {{slow: [backup]}}, {{cut-early: [backup]}}, {{reset: [backup]}}]
  context_window_fallbacks: [{{tiny: [big]}}, {{long-upstream: [big]}}]
  content_policy_fallbacks: [{{filtered: [backup]}}]
general_settings:
  master_key: {MASTER}
"
    ));
    (mock, Gateway::start(&config))
}

#[tokio::test]
async fn fault_scenarios_end_in_an_answer_or_a_clear_error() {
    let (_mock, gateway) = setup().await;
    let long = "word ".repeat(50);
    // (group, stream, prompt, expected status, expected answering deployment, retries, fallbacks)
    type Case<'a> = (
        &'a str,
        bool,
        &'a str,
        u16,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "half-broken",
            false,
            "hi",
            200,
            Some("half-broken#1"),
            None,
            Some("0"),
        ),
        (
            "down",
            false,
            "hi",
            200,
            Some("backup#0"),
            Some("2"),
            Some("1"),
        ),
        (
            "limited",
            false,
            "hi",
            200,
            Some("backup#0"),
            Some("1"),
            Some("1"),
        ),
        (
            "garbled",
            true,
            "hi",
            200,
            Some("backup#0"),
            Some("2"),
            Some("1"),
        ),
        // Cut after the role chunk but before any token: nothing was said, so it fails over.
        (
            "cut-early",
            true,
            "hi",
            200,
            Some("backup#0"),
            Some("2"),
            Some("1"),
        ),
        (
            "slow",
            false,
            "hi",
            200,
            Some("backup#0"),
            Some("2"),
            Some("1"),
        ),
        (
            "tiny",
            false,
            &long,
            200,
            Some("big#0"),
            Some("0"),
            Some("1"),
        ),
        (
            "tiny",
            false,
            "hi",
            200,
            Some("tiny#0"),
            Some("0"),
            Some("0"),
        ),
    ];
    for (group, stream, prompt, status, deployment, retries, fallbacks) in cases {
        let body = json!({"model": group, "stream": stream, "messages": [{"role": "user", "content": prompt}]});
        let response = http()
            .post(format!("{}/v1/chat/completions", gateway.url))
            .bearer_auth(MASTER)
            .json(&body)
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let observed = (
            response.status().as_u16(),
            header("x-llm-model-id"),
            header("x-llm-attempted-retries"),
            header("x-llm-attempted-fallbacks"),
        );
        let text = response.text().await.unwrap();
        let expected = (
            status,
            deployment.map(str::to_owned),
            retries.map(str::to_owned),
            fallbacks.map(str::to_owned),
        );
        // The half-broken group's first pick is random: it answers from the healthy deployment
        // either at once or after one retry.
        if group == "half-broken" {
            assert_eq!(
                (observed.0, observed.1.as_deref()),
                (200, deployment),
                "{group}: {text}"
            );
            continue;
        }
        assert_eq!(observed, expected, "{group} stream={stream}: {text}");
        if stream {
            assert_eq!(sse_data(&text).last(), Some(&"[DONE]"), "{group}: {text}");
        }
    }
}

#[tokio::test]
async fn a_stream_cut_after_its_first_token_is_an_error_event_not_a_retry() {
    let (mock, gateway) = setup().await;
    let body = json!({"model": "cut-late", "stream": true, "messages": [{"role": "user", "content": "one two three four"}]});
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let data = sse_data(&text);
    assert_eq!(data.last(), Some(&"[DONE]"));
    let error: Value = serde_json::from_str(data[data.len() - 2]).unwrap();
    assert!(error["error"]["message"].is_string(), "{text}");
    assert_eq!(
        mock.requests().len(),
        1,
        "nothing is retried once the client has tokens"
    );
}

#[tokio::test]
async fn per_request_fallbacks_and_retries_from_the_body() {
    let (mock, gateway) = setup().await;
    let body = json!({
        "model": "limited", "num_retries": 0, "fallbacks": ["big"],
        "messages": [{"role": "user", "content": "hi"}]
    });
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-llm-model-id"], "big#0");
    assert_eq!(response.headers()["x-llm-attempted-retries"], "1");
    // The router's own fields never reach an upstream.
    for request in mock.requests() {
        for key in ["num_retries", "fallbacks", "timeout"] {
            assert!(
                request.body.get(key).is_none(),
                "{key} leaked upstream: {}",
                request.body
            );
        }
    }
}

#[tokio::test]
async fn health_pings_every_deployment_on_demand() {
    let (_mock, gateway) = setup().await;
    let url = format!("{}/health", gateway.url);
    assert_eq!(
        http().get(&url).send().await.unwrap().status(),
        401,
        "/health needs the key"
    );
    let report: Value = http()
        .get(&url)
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = |key: &str| -> Vec<String> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["model_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (healthy, unhealthy) = (ids("healthy_endpoints"), ids("unhealthy_endpoints"));
    for id in ["half-broken#1", "backup#0", "big#0", "tiny#0"] {
        assert!(
            healthy.contains(&id.to_owned()),
            "{id} should be healthy: {report}"
        );
    }
    for id in [
        "half-broken#0",
        "down#0",
        "limited#0",
        "garbled#0",
        "slow#0",
    ] {
        assert!(
            unhealthy.contains(&id.to_owned()),
            "{id} should be unhealthy: {report}"
        );
    }
    assert_eq!(
        report["healthy_count"].as_u64().unwrap() as usize,
        healthy.len()
    );
    let down = &report["unhealthy_endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["model_id"] == "down#0")
        .unwrap();
    assert!(
        down["error"].as_str().unwrap().contains("503")
            || down["error"].as_str().unwrap().contains("upstream"),
        "{down}"
    );
}

#[tokio::test]
async fn a_wildcard_group_serves_any_model_of_its_provider() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let config = format!(
        "model_list:\n  - model_name: \"openai/*\"\n    litellm_params: {{model: \"openai/*\", api_base: \"{}\", api_key: k}}\ngeneral_settings:\n  master_key: {MASTER}\n",
        mock.base_url()
    );
    let gateway = Gateway::start(&config);
    for (model, status) in [
        ("openai/gpt-4o-mini", 200),
        ("openai/o4-mini", 200),
        ("anthropic/claude", 404),
    ] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let response = http()
            .post(format!("{}/v1/chat/completions", gateway.url))
            .bearer_auth(MASTER)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{model}");
        if status == 200 {
            assert_eq!(
                response.headers()["x-llm-model-id"],
                format!("{model}#0").as_str()
            );
            let upstream = mock.requests().pop().unwrap();
            assert_eq!(
                upstream.body["model"],
                model.trim_start_matches("openai/"),
                "the upstream gets the matched model"
            );
        }
    }
}
