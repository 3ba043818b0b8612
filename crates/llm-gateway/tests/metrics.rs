//! `/metrics` through the real binary: a known sequence of requests (successes, a cache hit,
//! an unknown model, a stream, an upstream 429 after a retry, a fallback, a virtual key's
//! rate-limit refusal), then the exposition parsed by an independent Prometheus text parser
//! and its values checked exactly.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use support::{Gateway, http, scrape};

const MASTER: &str = "sk-metrics-master";

fn config(base: &str) -> String {
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k}}
  - model_name: limited
    litellm_params: {{model: openai/error-429, api_base: \"{base}\", api_key: k}}
  - model_name: limited
    litellm_params: {{model: openai/error-429, api_base: \"{base}\", api_key: k}}
  - model_name: flaky
    litellm_params: {{model: openai/error-500, api_base: \"{base}\", api_key: k, max_retries: 0}}
router_settings:
  num_retries: 1
  fallbacks: [{{flaky: [m]}}]
litellm_settings:
  cache: true
general_settings:
  master_key: {MASTER}
"
    )
}

async fn post(gateway: &Gateway, body: Value) -> u16 {
    post_as(gateway, MASTER, body).await
}

async fn post_as(gateway: &Gateway, key: &str, body: Value) -> u16 {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    response.text().await.unwrap();
    status
}

/// The sum of the samples `name` whose labels include every pair of `labels` (at least one).
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape::values(scrape, name, labels);
    assert!(!found.is_empty(), "no {name} {labels:?}");
    found.iter().sum()
}

/// How many observations the histograms `name` with `labels` hold.
fn histogram_count(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            // The `+Inf` bucket, the largest, counts every observation.
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            _ => panic!("{name} is not a histogram"),
        })
        .sum()
}

/// One expected value: metric, labels it must carry, value (summed over matching series).
type Case = (&'static str, &'static [(&'static str, &'static str)], f64);

#[tokio::test]
async fn a_known_sequence_is_counted_exactly() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let gateway = Gateway::start(&config(&mock.base_url()));
    let chat =
        |content: &str| json!({"model": "m", "messages": [{"role": "user", "content": content}]});
    // (request, expected status)
    let mut streamed = chat("stream me");
    streamed["stream"] = json!(true);
    let sequence = [
        (chat("one"), 200),
        (chat("two"), 200),
        (chat("three"), 200),
        (chat("one"), 200), // a cache hit
        (streamed, 200),
        (
            json!({"model": "no-such", "messages": [{"role": "user", "content": "x"}]}),
            400,
        ),
        // Both deployments answer 429: one retry on the other, then the 429 to the client.
        (
            json!({"model": "limited", "messages": [{"role": "user", "content": "x"}]}),
            429,
        ),
        // Its one deployment fails (no retries), the request falls back to `m`.
        (
            json!({"model": "flaky", "messages": [{"role": "user", "content": "x"}]}),
            200,
        ),
    ];
    for (body, expected) in sequence {
        let status = post(&gateway, body.clone()).await;
        assert!(
            status == expected || (expected == 400 && status == 404),
            "{body}: {status}"
        );
    }
    // A virtual key allowed one request a minute: the second is refused by the policy.
    let generated: Value = http()
        .post(format!("{}/key/generate", gateway.url))
        .bearer_auth(MASTER)
        .json(&json!({"rpm_limit": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = generated["key"].as_str().unwrap();
    assert_eq!(post_as(&gateway, key, chat("five")).await, 200);
    assert_eq!(post_as(&gateway, key, chat("six")).await, 429);

    let response = http()
        .get(format!("{}/metrics", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    // For a reader of the test log: the counters and gauges the sequence moved.
    let excerpt: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("llmgw_") && !l.contains("_bucket") && !l.ends_with(" 0"))
        .collect();
    eprintln!("/metrics after the sequence:\n{}", excerpt.join("\n"));
    let scrape = scrape::parse(&text);

    // (metric, labels, value)
    let cases: &[Case] = &[
        (
            "llmgw_requests_total",
            &[
                ("model_group", "m"),
                ("status_class", "2xx"),
                ("stream", "false"),
            ],
            5.0, // one, two, three, the hit and the key's first
        ),
        (
            "llmgw_requests_total",
            &[("model_group", "m"), ("deployment", "none")],
            1.0, // the cache hit: no deployment answered
        ),
        (
            "llmgw_requests_total",
            &[
                ("model_group", "m"),
                ("status_class", "2xx"),
                ("stream", "true"),
            ],
            1.0,
        ),
        (
            "llmgw_requests_total",
            &[("model_group", "other"), ("status_class", "4xx")],
            1.0,
        ),
        ("llmgw_cache_hits_total", &[], 1.0),
        // one, two, three, the stream, the unknown model, limited, flaky and five looked the
        // cache up in vain.
        ("llmgw_cache_misses_total", &[], 8.0),
        // The upstream 429: its class, both failed attempts, the retry between them, and
        // both deployments now cooling down.
        (
            "llmgw_requests_total",
            &[("model_group", "limited"), ("status_class", "4xx")],
            1.0,
        ),
        (
            "llmgw_request_errors_total",
            &[("model_group", "limited"), ("error_class", "rate_limited")],
            1.0,
        ),
        (
            "llmgw_upstream_attempt_failures_total",
            &[("model_group", "limited"), ("error_class", "rate_limited")],
            2.0,
        ),
        ("llmgw_retries_total", &[("model_group", "limited")], 1.0),
        (
            "llmgw_deployments_cooling_down",
            &[("model_group", "limited")],
            2.0,
        ),
        (
            "llmgw_deployments_cooling_down",
            &[("model_group", "m")],
            0.0,
        ),
        // The fallback: flaky's failed attempt, the move to `m`, and `m`'s deployment
        // answering for the `flaky` group.
        (
            "llmgw_upstream_attempt_failures_total",
            &[
                ("model_group", "flaky"),
                ("deployment", "flaky#0"),
                ("error_class", "upstream_server_error"),
            ],
            1.0,
        ),
        (
            "llmgw_fallbacks_total",
            &[("model_group", "flaky"), ("fallback_group", "m")],
            1.0,
        ),
        (
            "llmgw_requests_total",
            &[
                ("model_group", "flaky"),
                ("deployment", "m#0"),
                ("status_class", "2xx"),
            ],
            1.0,
        ),
        (
            "llmgw_policy_rejections_total",
            &[("model_group", "m"), ("reason", "rate_limit")],
            1.0,
        ),
        ("llmgw_cache_errors_total", &[], 0.0),
        ("llmgw_rate_limit_redis_errors_total", &[], 0.0),
        ("llmgw_in_flight_requests", &[], 0.0),
    ];
    // Where the time went: every answered request (3 fresh, the hit, the stream, the key's
    // first) has its gateway overhead; the stream also its time to first token.
    let histograms: &[Case] = &[
        (
            "llmgw_gateway_overhead_seconds",
            &[("model_group", "m")],
            6.0,
        ),
        (
            "llmgw_gateway_overhead_seconds",
            &[("model_group", "flaky")],
            1.0,
        ),
        (
            "llmgw_time_to_first_token_seconds",
            &[("model_group", "m")],
            1.0,
        ),
    ];
    for (name, labels, expected) in histograms {
        assert_eq!(histogram_count(&scrape, name, labels), *expected, "{name}");
    }
    let answered = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(MASTER)
        .json(&chat("four"))
        .send()
        .await
        .unwrap();
    let overhead_ms: f64 = answered.headers()["x-llm-overhead-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(overhead_ms >= 0.0, "{overhead_ms}");
    for (name, labels, expected) in cases {
        assert_eq!(
            value(&scrape, name, labels),
            *expected,
            "{name} {labels:?}\n{text}"
        );
    }
    assert!(
        value(
            &scrape,
            "llmgw_tokens_total",
            &[("model_group", "m"), ("direction", "input")]
        ) > 0.0
    );
    assert!(!text.contains(MASTER), "a key leaked into /metrics");
}
