//! The response cache through the real binary: misses then hits (the upstream asked once),
//! a cached answer replayed as a stream and a streamed answer served as JSON, the per-request
//! controls, the admin routes, the spend row of a hit; with Redis, two instances sharing
//! entries and deletes, and requests still answered while Redis is gone.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::services::{redis_available, unique_prefix};
use support::tcp_proxy::TcpProxy;
use support::{Gateway, http, sse_data};

const MASTER: &str = "sk-cache-master";

fn config(base: &str, cache: &str) -> String {
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k}}
  - model_name: e
    litellm_params: {{model: openai/text-embedding-3-small, api_base: \"{base}\", api_key: k}}
litellm_settings:
  cache: true
{cache}general_settings:
  master_key: {MASTER}
"
    )
}

struct Answer {
    status: u16,
    hit: Option<String>,
    key: Option<String>,
    body: String,
}

async fn post(gateway: &Gateway, path: &str, body: Value, headers: &[(&str, &str)]) -> Answer {
    let mut request = http()
        .post(format!("{}{path}", gateway.url))
        .bearer_auth(MASTER)
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: response.status().as_u16(),
        hit: header("x-llm-cache-hit"),
        key: header("x-llm-cache-key"),
        body: response.text().await.unwrap(),
    }
}

fn chat(content: &str) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": content}]})
}

/// The text of a non-streamed answer, or of a streamed one (its content deltas joined).
fn text_of(answer: &Answer) -> String {
    if answer.body.starts_with("data: ") {
        let data = sse_data(&answer.body);
        assert_eq!(data.last(), Some(&"[DONE]"), "{}", answer.body);
        data.iter()
            .filter(|d| **d != "[DONE]")
            .map(|d| serde_json::from_str::<Value>(d).unwrap())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    } else {
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn repeated_requests_are_answered_from_the_cache() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let gateway = Gateway::start(&config(&mock.base_url(), ""));
    let upstream_calls = || mock.requests().len();

    // (what is sent, extra headers, expected x-llm-cache-hit, upstream calls after it)
    let mut streamed = chat("alpha");
    streamed["stream"] = json!(true);
    let mut other_user = chat("alpha");
    other_user["user"] = json!("someone-else");
    let mut reordered = json!({"messages": [{"content": "alpha", "role": "user"}], "model": "m"});
    let mut no_store = chat("beta");
    no_store["cache"] = json!({"no-store": true});
    let mut no_cache = chat("alpha");
    no_cache["cache"] = json!({"no-cache": true});
    let mut namespaced = chat("alpha");
    namespaced["cache"] = json!({"namespace": "team-b"});
    let mut hotter = chat("alpha");
    hotter["temperature"] = json!(0.9);
    reordered["max_tokens"] = json!(null);
    // (what, body, extra headers, expected x-llm-cache-hit, upstream calls after it)
    type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>, &'a str, usize);
    let cases: Vec<Case> = vec![
        ("first", chat("alpha"), vec![], "false", 1),
        ("again", chat("alpha"), vec![], "true", 1),
        (
            "streamed: served from the JSON answer",
            streamed.clone(),
            vec![],
            "true",
            1,
        ),
        ("another user", other_user, vec![], "true", 1),
        ("fields in another order", reordered, vec![], "true", 1),
        ("another temperature", hotter, vec![], "false", 2),
        ("no-store", no_store.clone(), vec![], "false", 3),
        (
            "no-store again: nothing was stored",
            no_store,
            vec![],
            "false",
            4,
        ),
        ("no-cache: asks upstream", no_cache, vec![], "false", 5),
        (
            "Cache-Control: no-cache",
            chat("alpha"),
            vec![("cache-control", "no-cache")],
            "false",
            6,
        ),
        ("own namespace", namespaced.clone(), vec![], "false", 7),
        ("own namespace again", namespaced, vec![], "true", 7),
    ];
    let mut first_text = None;
    for (what, body, headers, hit, calls) in cases {
        let answer = post(&gateway, "/v1/chat/completions", body.clone(), &headers).await;
        assert_eq!(answer.status, 200, "{what}: {}", answer.body);
        assert_eq!(answer.hit.as_deref(), Some(hit), "{what}");
        assert!(answer.key.is_some(), "{what}");
        assert_eq!(upstream_calls(), calls, "{what}");
        if body["messages"][0]["content"] == "alpha" && body.get("temperature").is_none() {
            let text = text_of(&answer);
            assert_eq!(first_text.get_or_insert(text.clone()), &text, "{what}");
        }
    }

    // A streamed answer is stored once complete and serves a JSON request.
    let mut stream_first = chat("gamma");
    stream_first["stream"] = json!(true);
    let streamed = post(&gateway, "/v1/chat/completions", stream_first, &[]).await;
    assert_eq!(streamed.hit.as_deref(), Some("false"));
    // Stored before the stream's `[DONE]`: the next identical request is a hit.
    let json_hit = post(&gateway, "/v1/chat/completions", chat("gamma"), &[]).await;
    assert_eq!(json_hit.hit.as_deref(), Some("true"));
    assert_eq!(text_of(&json_hit), text_of(&streamed));

    // Embeddings are cached too.
    let embed = json!({"model": "e", "input": "hello"});
    assert_eq!(
        post(&gateway, "/v1/embeddings", embed.clone(), &[])
            .await
            .hit
            .as_deref(),
        Some("false")
    );
    let calls = upstream_calls();
    assert_eq!(
        post(&gateway, "/v1/embeddings", embed, &[])
            .await
            .hit
            .as_deref(),
        Some("true")
    );
    assert_eq!(upstream_calls(), calls);

    // Admin: delete one key, then flush everything.
    let key = post(&gateway, "/v1/chat/completions", chat("alpha"), &[])
        .await
        .key
        .unwrap();
    let deleted = post(&gateway, "/cache/delete", json!({"keys": [key]}), &[]).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        post(&gateway, "/v1/chat/completions", chat("alpha"), &[])
            .await
            .hit
            .as_deref(),
        Some("false")
    );
    let flushed = post(&gateway, "/cache/flushall", json!({}), &[]).await;
    assert_eq!(flushed.status, 200, "{}", flushed.body);
    assert_eq!(
        post(&gateway, "/v1/chat/completions", chat("alpha"), &[])
            .await
            .hit
            .as_deref(),
        Some("false")
    );

    // A malformed control is the client's error.
    let mut bad = chat("alpha");
    bad["cache"] = json!({"ttl": "soon"});
    let answer = post(&gateway, "/v1/chat/completions", bad, &[]).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("cache.ttl"), "{}", answer.body);
}

#[tokio::test]
async fn a_hit_is_free_and_marked_in_the_spend_log() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let gateway = Gateway::start(&config(&mock.base_url(), ""));
    // (x-llm-cache-hit, x-llm-response-cost, the gateway's x-request-id)
    let send = || {
        let gateway_url = gateway.url.clone();
        async move {
            let response = http()
                .post(format!("{gateway_url}/v1/chat/completions"))
                .bearer_auth(MASTER)
                .json(&chat("delta"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
            (
                header("x-llm-cache-hit"),
                header("x-llm-response-cost"),
                header("x-request-id"),
            )
        }
    };
    let (hit, cost, miss_id) = send().await;
    assert_eq!(hit, "false");
    assert_ne!(cost, "0");
    // Stored before the answer went out: the same request again is a hit.
    let (hit, cost, hit_id) = send().await;
    assert_eq!((hit.as_str(), cost.as_str()), ("true", "0"));
    let attempts = 1;
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let rows: Value = http()
            .get(format!("{}/spend/logs", gateway.url))
            .bearer_auth(MASTER)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if rows.as_array().unwrap().len() == 1 + attempts {
            break rows;
        }
        assert!(Instant::now() < deadline, "{rows}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let row = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["request_id"] == id)
            .unwrap()
            .clone()
    };
    let miss = row(&miss_id);
    assert_eq!(miss["cache_hit"], false, "{miss}");
    assert!(miss["spend"].as_f64().unwrap() > 0.0, "{miss}");
    let hit = row(&hit_id);
    assert_eq!(hit["cache_hit"], true, "{hit}");
    assert_eq!(hit["spend"], 0.0, "{hit}");
    assert_eq!(hit["completion_tokens"], miss["completion_tokens"], "{hit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_a_redis_cache_and_survive_its_loss() {
    if !redis_available() {
        return;
    }
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let proxy = TcpProxy::start("127.0.0.1:6379").await;
    let prefix = unique_prefix("cache");
    let cache = format!(
        "  cache_params: {{type: redis, host: 127.0.0.1, port: {}, namespace: \"{prefix}\"}}\n",
        proxy.port
    );
    let a = Gateway::start(&config(&mock.base_url(), &cache));
    let b = Gateway::start(&config(&mock.base_url(), &cache));

    assert_eq!(
        post(&a, "/v1/chat/completions", chat("shared"), &[])
            .await
            .hit
            .as_deref(),
        Some("false")
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let hit = loop {
        let answer = post(&b, "/v1/chat/completions", chat("shared"), &[]).await;
        if answer.hit.as_deref() == Some("true") {
            break answer;
        }
        assert!(Instant::now() < deadline, "B never saw A's entry");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // A delete on B reaches A at once (no in-process layer in front of Redis).
    let deleted = post(
        &b,
        "/cache/delete",
        json!({"keys": [hit.key.unwrap()]}),
        &[],
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        post(&a, "/v1/chat/completions", chat("shared"), &[])
            .await
            .hit
            .as_deref(),
        Some("false")
    );

    // Redis gone: every request is still answered, uncached.
    proxy.cut();
    for i in 0..5 {
        let answer = post(
            &a,
            "/v1/chat/completions",
            chat(&format!("offline {i}")),
            &[],
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.hit.as_deref(), Some("false"));
    }
    let ping = http()
        .get(format!("{}/cache/ping", a.url))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 503);
}
