//! The Anthropic mock over real HTTP, checked against the anthropic SDK's own schemas
//! (`Message`, `RawMessageStreamEvent`) from the conformance kit, plus its auth and errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed assertion or unwrap is how a test reports"
)]

use std::path::PathBuf;

use jsonschema::{Draft, Validator};
use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};

const KEY: &str = "sk-ant-mock-test";

fn validator(file: &str) -> Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/specs/anthropic")
        .join(file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&schema)
        .unwrap()
}

fn errors(validator: &Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

async fn server() -> MockServer {
    MockServer::start(MockOptions {
        api_key: Some(KEY.to_owned()),
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(server: &MockServer, auth: (&str, &str), body: Value) -> reqwest::Response {
    http()
        .post(format!("http://{}/v1/messages", server.addr()))
        .header(auth.0, auth.1)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn requests() -> Vec<Value> {
    let tools = json!([{"name": "get_weather", "input_schema": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    vec![
        json!({"model": "claude-x", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]}),
        json!({"model": "claude-x", "max_tokens": 64, "tools": tools, "tool_choice": {"type": "any"},
               "messages": [{"role": "user", "content": "weather?"}]}),
        json!({"model": "claude-x", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024},
               "system": [{"type": "text", "text": "ctx", "cache_control": {"type": "ephemeral"}}],
               "messages": [{"role": "user", "content": "think"}]}),
    ]
}

#[tokio::test]
async fn messages_validate_against_the_sdk_schema() {
    let server = server().await;
    let message = validator("Message.schema.json");
    for request in requests() {
        let response = post(&server, ("x-api-key", KEY), request.clone()).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let found = errors(&message, &body);
        assert!(found.is_empty(), "{found:#?}\n{body:#}");
    }
    // The validator is not vacuous.
    assert!(!errors(&message, &json!({"type": "message"})).is_empty());
}

#[tokio::test]
async fn stream_events_validate_against_the_sdk_schema() {
    let server = server().await;
    let event_schema = validator("RawMessageStreamEvent.schema.json");
    for mut request in requests() {
        request["stream"] = json!(true);
        // anthropic SDK 2.x sends the key as a bearer token; the mock accepts both.
        let response = post(
            &server,
            ("authorization", &format!("Bearer {KEY}")),
            request,
        )
        .await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let mut names = Vec::new();
        for frame in text.split("\n\n").filter(|f| !f.trim().is_empty()) {
            let name = frame
                .lines()
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .unwrap();
            let data: Value = serde_json::from_str(
                frame
                    .lines()
                    .nth(1)
                    .unwrap()
                    .strip_prefix("data: ")
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(data["type"], name);
            names.push(name.to_owned());
            if name != "ping" {
                let found = errors(&event_schema, &data);
                assert!(found.is_empty(), "{found:#?}\n{data:#}");
            }
        }
        assert_eq!(names.first().map(String::as_str), Some("message_start"));
        assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    }
}

#[tokio::test]
async fn auth_and_errors_use_anthropic_shapes() {
    let server = server().await;
    let hello = requests().remove(0);
    let cases = [
        (
            ("x-api-key", "wrong"),
            hello.clone(),
            401,
            "authentication_error",
        ),
        (
            ("x-api-key", KEY),
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}),
            400,
            "invalid_request_error",
        ),
        (
            ("x-api-key", KEY),
            json!({"model": "error-529", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
            529,
            "overloaded_error",
        ),
        (
            ("x-api-key", KEY),
            json!({"model": "error-429", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
            429,
            "rate_limit_error",
        ),
        (
            ("x-api-key", KEY),
            json!({"model": "prompt-too-long", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}),
            400,
            "invalid_request_error",
        ),
    ];
    for (auth, body, status, kind) in cases {
        let response = post(&server, auth, body).await;
        assert_eq!(response.status().as_u16(), status);
        if status == 429 {
            assert_eq!(response.headers()["retry-after"], "7");
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["type"].as_str(), body["error"]["type"].as_str()),
            (Some("error"), Some(kind))
        );
    }
    let missing_version = http()
        .post(format!("http://{}/v1/messages", server.addr()))
        .header("x-api-key", KEY)
        .json(&hello)
        .send()
        .await
        .unwrap();
    assert_eq!(missing_version.status(), 400);
}
