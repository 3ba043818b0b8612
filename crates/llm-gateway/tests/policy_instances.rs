//! Two real gateway instances sharing the real PostgreSQL and Redis: rate limits and budgets
//! hold across them, a revocation on one reaches the other within a second; and the spend
//! log survives `kill -9` and a PostgreSQL outage.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use futures_util::future::join_all;
use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::services::{TestDatabase, postgres_available, redis_available, unique_prefix};
use support::tcp_proxy::TcpProxy;
use support::{Gateway, TempDir, http};

const MASTER: &str = "sk-policy-master";
/// `gpt-4o-mini` at a tenth of a cent a token each way, so costs are easy to reason about.
const PRICE: &str = "input_cost_per_token: 0.001, output_cost_per_token: 0.001";

fn config(base: &str, database_url: &str, redis_prefix: Option<&str>) -> String {
    let redis = redis_prefix.map_or(String::new(), |prefix| {
        format!("router_settings:\n  redis_url: redis://127.0.0.1:6379\n  redis_key_prefix: \"{prefix}\"\n")
    });
    format!(
        "model_list:
  - model_name: gpt-4o-mini
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k, {PRICE}}}
{redis}general_settings:
  master_key: {MASTER}
  database_url: \"{database_url}\"
"
    )
}

/// `POST path` with the master key; the JSON answer.
async fn admin(gateway: &Gateway, path: &str, body: Value) -> Value {
    let response = http()
        .post(format!("{}{path}", gateway.url))
        .bearer_auth(MASTER)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn generate_key(gateway: &Gateway, body: Value) -> String {
    admin(gateway, "/key/generate", body).await["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One chat request: status, body, headers.
async fn chat(gateway: &Gateway, key: &str, id: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(key)
        .header("x-request-id", id)
        .json(&json!({"model": "gpt-4o-mini", "max_tokens": 4,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

fn minute_of(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 60
}

#[tokio::test]
async fn an_rpm_burst_across_two_instances_admits_exactly_the_limit() {
    if !postgres_available() || !redis_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let db = TestDatabase::create("rpm_burst").await;
    let prefix = unique_prefix("rpm_burst");
    let yaml = config(&mock.base_url(), &db.url, Some(&prefix));
    let a = Gateway::start(&yaml);
    let b = Gateway::start(&yaml);
    const LIMIT: usize = 10;
    let key = generate_key(&a, json!({"rpm_limit": LIMIT})).await;

    let started = std::time::SystemTime::now();
    let burst = (0..5 * LIMIT).map(|i| {
        let gateway = if i % 2 == 0 { &a } else { &b };
        let key = key.clone();
        async move { chat(gateway, &key, &format!("rpm-{i}")).await }
    });
    let results = join_all(burst).await;
    let crossed_a_minute = minute_of(started) != minute_of(std::time::SystemTime::now());

    let admitted = results.iter().filter(|(status, ..)| *status == 200).count();
    for (status, body, headers) in &results {
        if *status == 429 {
            assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
            assert!(headers.contains_key("retry-after"), "{headers:?}");
            assert_eq!(headers["x-ratelimit-limit-requests"], "10");
        } else {
            assert_eq!(*status, 200, "{body}");
        }
    }
    if crossed_a_minute {
        // The fixed window turned over mid-burst: a fresh window admits up to the limit again.
        assert!((LIMIT..=2 * LIMIT).contains(&admitted), "{admitted}");
    } else {
        assert_eq!(admitted, LIMIT, "5N burst against rpm N over two instances");
    }
    eprintln!(
        "rpm burst: {} requests, limit {LIMIT}, admitted {admitted}",
        5 * LIMIT
    );
}

#[tokio::test]
async fn a_concurrent_budget_burst_overshoots_by_at_most_one_reservation() {
    if !postgres_available() || !redis_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let db = TestDatabase::create("budget_burst").await;
    let prefix = unique_prefix("budget_burst");
    let yaml = config(&mock.base_url(), &db.url, Some(&prefix));
    let a = Gateway::start(&yaml);
    let b = Gateway::start(&yaml);
    // Each request: "hi" is 1 prompt token, "echo: hi" 2 completion tokens = $0.003; its
    // reservation (4 estimated prompt tokens + max_tokens 4) is $0.008.
    let max_budget = 0.03;
    let key = generate_key(&a, json!({"max_budget": max_budget})).await;

    let burst = (0..40).map(|i| {
        let gateway = if i % 2 == 0 { &a } else { &b };
        let key = key.clone();
        async move { chat(gateway, &key, &format!("budget-{i}")).await }
    });
    let results = join_all(burst).await;
    let mut spent = 0.0;
    let mut refused = 0;
    for (status, body, headers) in &results {
        match status {
            200 => {
                spent += headers["x-llm-response-cost"]
                    .to_str()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()
            }
            429 => {
                assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let reservation = 0.008;
    eprintln!("budget burst: max ${max_budget}, spent ${spent:.3}, refused {refused} of 40");
    assert!(refused > 0, "the budget must refuse part of the burst");
    assert!(
        spent <= max_budget + reservation + 1e-9,
        "overshoot beyond one reservation: spent {spent}"
    );
    // Everything admitted was paid for, nothing more: the key's spend in SQL agrees once the
    // journal has shipped.
    let expected = spent;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = http()
            .get(format!("{}/key/info?key={key}", b.url))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let stored = info["info"]["spend"].as_f64().unwrap_or(0.0);
        if (stored - expected).abs() < 1e-9 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "spend in SQL {stored}, responses {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_key_deleted_on_one_instance_is_refused_by_the_other_within_a_second() {
    if !postgres_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let db = TestDatabase::create("revoke").await;
    // No Redis: the version row alone must carry the change.
    let yaml = config(&mock.base_url(), &db.url, None);
    let a = Gateway::start(&yaml);
    let b = Gateway::start(&yaml);
    let key = generate_key(&a, json!({})).await;
    assert_eq!(
        chat(&b, &key, "before").await.0,
        200,
        "B serves the key from its cache"
    );

    admin(&a, "/key/delete", json!({"keys": [key]})).await;
    let deleted = Instant::now();
    loop {
        let (status, body, _) = chat(&b, &key, "after").await;
        if status == 401 {
            assert_eq!(body["error"]["code"], "invalid_api_key");
            break;
        }
        assert_eq!(status, 200);
        assert!(
            deleted.elapsed() < Duration::from_secs(1),
            "B still accepts a key deleted on A after {:?}",
            deleted.elapsed()
        );
    }
    eprintln!(
        "revocation reached the other instance after {:?}",
        deleted.elapsed()
    );
}

/// Rows of the spend log by request id, from SQL.
async fn spend_rows(db: &TestDatabase) -> Vec<(String, i64)> {
    use sqlx::Row;
    let pool = db.pool().await;
    let rows = sqlx::query("SELECT request_id, cost FROM llm_spend_logs")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect()
}

async fn key_spend(db: &TestDatabase) -> i64 {
    use sqlx::Row;
    let pool = db.pool().await;
    let spend = sqlx::query("SELECT CAST(COALESCE(SUM(spend), 0) AS BIGINT) FROM llm_keys")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get::<i64, _>(0);
    pool.close().await;
    spend
}

#[tokio::test]
async fn kill_9_under_load_loses_and_doubles_no_spend() {
    if !postgres_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let db = TestDatabase::create("kill9").await;
    let yaml = config(&mock.base_url(), &db.url, None);
    let dir = Arc::new(TempDir::new("kill9"));
    let mut gateway = Gateway::start_in(dir.clone(), &yaml, &[]);
    let key = generate_key(&gateway, json!({})).await;

    // Eight clients in a loop until the gateway dies under them.
    let url = gateway.url.clone();
    let load = (0..8).map(|client| {
        let (url, key) = (url.clone(), key.clone());
        tokio::spawn(async move {
            let mut completed = Vec::new();
            for i in 0.. {
                let id = format!("kill9-{client}-{i}");
                let sent = http()
                    .post(format!("{url}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .header("x-request-id", &id)
                    .json(&json!({"model": "gpt-4o-mini",
                                  "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                // Spend rows are keyed by the gateway's own id, not the one the client sent.
                let Some(gateway_id) = response
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                else {
                    break;
                };
                if response.status() != 200 || response.bytes().await.is_err() {
                    break;
                }
                completed.push(gateway_id);
            }
            completed
        })
    });
    let load: Vec<_> = load.collect();
    // Kill once the load has produced a few hundred answers (the mock counts them).
    let deadline = Instant::now() + Duration::from_secs(30);
    while mock.requests().len() < 300 {
        assert!(Instant::now() < deadline, "load did not start");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gateway.kill_hard();
    let mut completed = Vec::new();
    for client in load {
        completed.extend(client.await.unwrap());
    }

    // A new process on the same data directory replays what the killed one left.
    let _restarted = Gateway::start_in(dir, &yaml, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let rows = spend_rows(&db).await;
        if rows.len() >= completed.len() {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "{} spend rows for {} completed requests",
            rows.len(),
            completed.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ids: std::collections::HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "a request id appears twice");
    for id in &completed {
        assert!(
            ids.contains(id.as_str()),
            "completed request {id} has no spend row"
        );
    }
    // Requests in flight at the kill may have been journaled without their answer arriving:
    // at most one per client.
    assert!(
        rows.len() <= completed.len() + 8,
        "{} rows, {} completed",
        rows.len(),
        completed.len()
    );
    // The rollup on the key equals the rows: nothing counted twice.
    let total: i64 = rows.iter().map(|(_, cost)| cost).sum();
    assert_eq!(key_spend(&db).await, total);
    eprintln!(
        "kill -9: {} completed requests, {} spend rows after restart, none doubled",
        completed.len(),
        rows.len()
    );
}

// Multi-threaded: the proxy must forward while this thread waits for the gateway to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_fails_no_request_and_loses_no_spend() {
    if !postgres_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let db = TestDatabase::create("pg_outage").await;
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let url_through_proxy = db.url.replace(":5432/", &format!(":{}/", proxy.port));
    let gateway = Gateway::start(&config(&mock.base_url(), &url_through_proxy, None));
    let key = generate_key(&gateway, json!({})).await;
    assert_eq!(chat(&gateway, &key, "warm").await.0, 200);

    proxy.cut();
    for i in 0..20 {
        let (status, body, _) = chat(&gateway, &key, &format!("outage-{i}")).await;
        assert_eq!(status, 200, "request {i} during the outage: {body}");
    }
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = spend_rows(&db).await;
        if rows.len() == 21 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 21 spend rows arrived",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
