//! Guardrails through the real binary: what the upstream receives (masked), what the client
//! gets (blocked with `guardrail_blocked`, as JSON or as a stream's error event), selection
//! by key and by request, during-call checks, and a webhook guardrail against a real HTTP
//! service (allow, block, modify, timeout with fail-open and fail-closed).
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::Json;
use axum::routing::post;
use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use std::time::Duration;
use support::{Gateway, http, sse_data};

const MASTER: &str = "sk-guard-master";

fn config(base: &str, guardrails: &str) -> String {
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: openai/gpt-4o-mini, api_base: \"{base}\", api_key: k}}
guardrails:
{guardrails}general_settings:
  master_key: {MASTER}
"
    )
}

const BUILT_INS: &str = "  - guardrail_name: pii
    litellm_params: {guardrail: pii, mode: pre_call, default_on: true, action: mask, entities: [email, credit_card]}
  - guardrail_name: no-codenames
    litellm_params: {guardrail: keywords, mode: pre_call, words: [bluebird]}
  - guardrail_name: clean-output
    litellm_params: {guardrail: regex, mode: post_call, patterns: ['forbidden-\\w+']}
  - guardrail_name: watch
    litellm_params: {guardrail: keywords, mode: during_call, words: [sabotage]}
";

async fn chat(gateway: &Gateway, key: &str, body: Value) -> (u16, String) {
    let response = http()
        .post(format!("{}/v1/chat/completions", gateway.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn ask(content: &str) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": content}]})
}

fn code_of(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap()["error"]["code"].clone()
}

#[tokio::test]
async fn built_in_guardrails_mask_block_and_select() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let gateway = Gateway::start(&config(&mock.base_url(), BUILT_INS));
    let upstream_saw = |marker: &str| -> Vec<String> {
        mock.requests()
            .iter()
            .filter(|r| r.body.to_string().contains(marker))
            .map(|r| {
                r.body["messages"][0]["content"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };

    // Default-on PII masking: the upstream never sees the email or the card number.
    let (status, body) = chat(
        &gateway,
        MASTER,
        ask("m1 write to ann@example.org, card 4242 4242 4242 4242"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        upstream_saw("m1"),
        ["m1 write to [EMAIL_1], card [CREDIT_CARD_1]"]
    );
    // A 16-digit number failing the Luhn check is not a card.
    let (status, _) = chat(&gateway, MASTER, ask("m2 order 4242 4242 4242 4243")).await;
    assert_eq!(status, 200);
    assert_eq!(upstream_saw("m2"), ["m2 order 4242 4242 4242 4243"]);

    // A guardrail the request asks for, and one a key is given.
    let (status, body) = chat(
        &gateway,
        MASTER,
        json!({"model": "m", "guardrails": ["no-codenames"], "messages": [{"role": "user", "content": "m3 bluebird"}]}),
    )
    .await;
    assert_eq!(
        (status, code_of(&body)),
        (400, json!("guardrail_blocked")),
        "{body}"
    );
    assert!(
        upstream_saw("m3").is_empty(),
        "a blocked request never reaches the upstream"
    );
    assert!(body.contains("no-codenames"), "{body}");
    let (status, _) = chat(&gateway, MASTER, ask("m4 bluebird")).await;
    assert_eq!(
        status, 200,
        "not selected without the key or the request asking"
    );
    let key: Value = http()
        .post(format!("{}/key/generate", gateway.url))
        .bearer_auth(MASTER)
        .json(&json!({"guardrails": ["no-codenames"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap();
    let (status, body) = chat(&gateway, key, ask("m5 bluebird")).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, json!("guardrail_blocked")),
        "{body}"
    );
    let (status, body) = chat(
        &gateway,
        MASTER,
        json!({"model": "m", "guardrails": ["no-such"], "messages": [{"role": "user", "content": "m6"}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Post-call: the upstream echoes the word, the client never sees it.
    let asked = json!({"model": "m", "guardrails": ["clean-output"],
                       "messages": [{"role": "user", "content": "m7 forbidden-word"}]});
    let (status, body) = chat(&gateway, MASTER, asked.clone()).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, json!("guardrail_blocked")),
        "{body}"
    );
    let mut streamed = asked;
    streamed["stream"] = json!(true);
    let (status, body) = chat(&gateway, MASTER, streamed).await;
    assert_eq!(status, 200);
    let events = sse_data(&body);
    assert_eq!(events.last(), Some(&"[DONE]"), "{body}");
    let error: Value = serde_json::from_str(events[events.len() - 2]).unwrap();
    assert_eq!(error["error"]["code"], "guardrail_blocked", "{body}");
    assert!(!body.contains("forbidden-word"), "{body}");

    // During-call: checked beside the upstream call; the answer is withheld.
    let (status, body) = chat(
        &gateway,
        MASTER,
        json!({"model": "m", "guardrails": ["watch"], "messages": [{"role": "user", "content": "m8 sabotage"}]}),
    )
    .await;
    assert_eq!(
        (status, code_of(&body)),
        (400, json!("guardrail_blocked")),
        "{body}"
    );
}

/// A webhook guardrail service: blocks "reject", rewrites "rewrite", sleeps on "slow",
/// allows the rest; records what it was sent.
async fn webhook_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/check",
        post(move |Json(body): Json<Value>| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push(body.clone());
                let text = body["messages"].to_string();
                if text.contains("slow") {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Json(if text.contains("reject") {
                    json!({"action": "block", "reason": "not on my watch"})
                } else if text.contains("rewrite") {
                    json!({"action": "modify", "messages": [{"role": "user", "content": "rewritten by the hook"}]})
                } else {
                    json!({"action": "allow"})
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/check", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_guardrail_allows_blocks_and_rewrites() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    let (url, seen) = webhook_service().await;
    let guardrails = format!(
        "  - guardrail_name: hook
    litellm_params: {{guardrail: webhook, mode: pre_call, default_on: true, url: \"{url}\", timeout_ms: 300, fail_open: false}}
  - guardrail_name: lenient-hook
    litellm_params: {{guardrail: webhook, mode: pre_call, url: \"{url}\", timeout_ms: 300, fail_open: true}}
"
    );
    let gateway = Gateway::start(&config(&mock.base_url(), &guardrails));
    // (prompt, extra guardrails, status, what the upstream received)
    let cases: [(&str, &[&str], u16, Option<&str>); 4] = [
        ("w1 hello", &[], 200, Some("w1 hello")),
        ("w2 reject this", &[], 400, None),
        ("w3 rewrite this", &[], 200, Some("rewritten by the hook")),
        ("w4 slow", &[], 400, None),
    ];
    for (prompt, extra, status, upstream) in cases {
        mock.clear_requests();
        let mut body = ask(prompt);
        body["guardrails"] = json!(extra);
        let (got, text) = chat(&gateway, MASTER, body).await;
        assert_eq!(got, status, "{prompt}: {text}");
        if status == 400 {
            assert_eq!(code_of(&text), json!("guardrail_blocked"), "{text}");
        }
        let received: Vec<String> = mock
            .requests()
            .iter()
            .map(|r| {
                r.body["messages"][0]["content"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            received,
            upstream.into_iter().map(str::to_owned).collect::<Vec<_>>(),
            "{prompt}"
        );
    }
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(first["stage"], "pre_call", "{first}");
    assert_eq!(first["model"], "m", "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fail_open_webhook_lets_requests_through_when_it_is_down() {
    let mock = MockServer::start(MockOptions::default()).await.unwrap();
    // Nothing listens on port 1.
    let guardrails = "  - guardrail_name: lenient-hook
    litellm_params: {guardrail: webhook, mode: pre_call, default_on: true, url: \"http://127.0.0.1:1/check\", timeout_ms: 300, fail_open: true}
";
    let gateway = Gateway::start(&config(&mock.base_url(), guardrails));
    let (status, body) = chat(&gateway, MASTER, ask("down but open")).await;
    assert_eq!(status, 200, "{body}");
    let closed = guardrails.replace("fail_open: true", "fail_open: false");
    let gateway = Gateway::start(&config(&mock.base_url(), &closed));
    let (status, body) = chat(&gateway, MASTER, ask("down and closed")).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, json!("guardrail_blocked")),
        "{body}"
    );
}
