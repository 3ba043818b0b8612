//! Scripted faults, selected by the model name.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{post, server, user};

fn streamed(model: &str, text: &str) -> Value {
    let mut request = user(model, text);
    request["stream"] = json!(true);
    request
}

#[tokio::test]
async fn error_models_answer_with_their_status() {
    let server = server().await;
    // (status, error type, code)
    let cases = [
        (400, "invalid_request_error", Value::Null),
        (401, "invalid_request_error", json!("invalid_api_key")),
        (404, "invalid_request_error", json!("model_not_found")),
        (429, "rate_limit_exceeded", json!("rate_limit_exceeded")),
        (500, "server_error", Value::Null),
        (503, "server_error", Value::Null),
    ];
    for (status, kind, code) in cases {
        let model = format!("error-{status}");
        for (path, request) in [
            ("/chat/completions", user(&model, "hi")),
            ("/chat/completions", streamed(&model, "hi")),
            ("/embeddings", json!({"model": model, "input": "hi"})),
        ] {
            let response = post(&server, path, &request).await;
            assert_eq!(response.status(), status, "{path} {request}");
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let remaining = response
                .headers()
                .get("x-ratelimit-remaining-requests")
                .map(|v| v.to_str().unwrap().to_owned());
            if status == 429 {
                assert_eq!(retry_after.as_deref(), Some("7"));
                assert_eq!(remaining.as_deref(), Some("0"));
            } else {
                assert_eq!(retry_after, None, "{path} {request}");
            }
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["type"], kind, "{path} {request}");
            assert_eq!(body["error"]["code"], code, "{path} {request}");
            assert_eq!(body["error"]["param"], Value::Null);
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("scripted mock error")
            );
        }
    }
}

/// Reads a body chunk by chunk, returning what arrived and whether it ended in an error.
async fn read_all(response: reqwest::Response) -> (String, bool) {
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => text.extend_from_slice(&bytes),
            Err(_) => return (String::from_utf8(text).unwrap(), true),
        }
    }
    (String::from_utf8(text).unwrap(), false)
}

#[tokio::test]
async fn cut_streams_end_in_an_error_without_done() {
    let server = server().await;
    for k in [0usize, 2, 50] {
        let model = format!("cut-{k}");
        let response = post(
            &server,
            "/chat/completions",
            &streamed(&model, "one two three four five"),
        )
        .await;
        assert_eq!(response.status(), 200);
        let (text, errored) = read_all(response).await;
        assert!(errored, "cut-{k} must end the body with an error: {text:?}");
        assert!(!text.contains("[DONE]"), "{text}");
        assert!(!text.contains("finish_reason\":\"stop"), "{text}");
        let frames = text.matches("data: ").count();
        // The role chunk plus k content chunks, at most the 6 words there are.
        assert_eq!(frames, 1 + k.min(6), "cut-{k}: {text}");
    }
}

#[tokio::test]
async fn cut_json_bodies_are_truncated_with_an_error() {
    let server = server().await;
    for (path, request) in [
        ("/chat/completions", user("cut-1", "hello")),
        ("/embeddings", json!({"model": "cut-1", "input": "hello"})),
    ] {
        let response = post(&server, path, &request).await;
        assert_eq!(response.status(), 200);
        let (text, errored) = read_all(response).await;
        assert!(errored, "{path}: {text:?}");
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "{path}: {text:?}"
        );
        assert!(text.starts_with('{'));
    }
}

#[tokio::test]
async fn garbage_is_not_json() {
    let server = server().await;
    let response = post(&server, "/chat/completions", &user("garbage", "hi")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "this is not json {{{");

    let response = post(&server, "/chat/completions", &streamed("garbage", "hi")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (text, _) = read_all(response).await;
    assert_eq!(text, "data: this is not json\n\n");
}

#[tokio::test]
async fn slow_models_answer_normally_after_the_delay() {
    let server = server().await;
    for model in ["slow-60", "gpt-4o-mini-slow-60"] {
        let started = Instant::now();
        let response = post(&server, "/chat/completions", &user(model, "hi")).await;
        let body: Value = response.json().await.unwrap();
        // A lower bound only: the mock must not answer early. How fast it is otherwise is for
        // the benchmark to measure.
        assert!(started.elapsed() >= Duration::from_millis(60), "{model}");
        assert_eq!(body["choices"][0]["message"]["content"], "echo: hi");
        assert_eq!(body["model"], model);

        let started = Instant::now();
        let response = post(&server, "/chat/completions", &streamed(model, "hi")).await;
        let (text, errored) = read_all(response).await;
        assert!(started.elapsed() >= Duration::from_millis(60), "{model}");
        assert!(!errored && text.ends_with("data: [DONE]\n\n"), "{text}");
    }
}

#[tokio::test]
async fn hang_never_answers() {
    let server = server().await;
    let client = crate::support::client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let result = client
        .post(format!("{}/chat/completions", server.base_url()))
        .json(&user("hang", "hi"))
        .send()
        .await;
    let error = result.expect_err("a hung request must time out");
    assert!(error.is_timeout(), "{error}");
}

#[tokio::test]
async fn stall_keeps_the_stream_open_until_the_server_stops() {
    let server = server().await;
    let response = post(
        &server,
        "/chat/completions",
        &streamed("stall-after-1", "one two three"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while text.matches("data: ").count() < 2 {
        let bytes = body.next().await.unwrap().unwrap();
        text.push_str(std::str::from_utf8(&bytes).unwrap());
    }
    assert!(text.contains("\"content\":\"echo: \""), "{text}");
    // Nothing more comes while the server runs...
    let next = tokio::time::timeout(Duration::from_millis(200), body.next()).await;
    assert!(
        next.is_err(),
        "a stalled stream must send nothing, got {next:?}"
    );
    // ...and stopping the server ends the stall with an incomplete body.
    drop(server);
    let end = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .unwrap();
    assert!(matches!(end, Some(Err(_)) | None), "{end:?}");
}
