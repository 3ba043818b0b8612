//! The Azure, Ollama and Cohere mocks speak their providers' native wire: Ollama's answers
//! validate against Ollama's OpenAPI spec, Azure's against OpenAI's (with Azure's extras), and
//! Cohere's carry the shape of its v2 API (its spec is not in the kit); credentials are checked.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use jsonschema::{Draft, Registry, Resource};
use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};

const KEY: &str = "mock-key";

fn validator(spec: &str, uri: &str, pointer: &str) -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(spec);
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .add(uri, Resource::from_contents(spec))
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .build(&json!({"$ref": format!("{uri}#{pointer}")}))
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, body: &Value) {
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{body:#}");
}

async fn server() -> MockServer {
    MockServer::start(MockOptions {
        api_key: Some(KEY.into()),
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

async fn post(url: String, headers: &[(&str, &str)], body: Value) -> (u16, String) {
    let mut request = client().post(url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn ollama_answers_follow_the_ollama_spec() {
    let server = server().await;
    let url = format!("http://{}/api/chat", server.addr());
    let bearer = format!("Bearer {KEY}");
    let auth = [("authorization", bearer.as_str())];
    let response = validator(
        "specs/ollama/ollama-chat.subset.json",
        "urn:o",
        "/components/schemas/ChatResponse",
    );
    let event = validator(
        "specs/ollama/ollama-chat.subset.json",
        "urn:o",
        "/components/schemas/ChatStreamEvent",
    );
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}]);
    let cases = [
        json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "hi"}]}),
        json!({"model": "llama3.2", "stream": false, "think": true, "messages": [{"role": "user", "content": "hi"}]}),
        json!({"model": "llama3.2", "stream": false, "tools": tools, "messages": [{"role": "user", "content": "hi"}]}),
    ];
    for body in cases {
        let (status, text) = post(url.clone(), &auth, body).await;
        assert_eq!(status, 200, "{text}");
        assert_valid(&response, &serde_json::from_str(&text).unwrap());
    }
    // Streaming is Ollama's default: NDJSON lines, the last one `done`.
    let (status, text) = post(
        url.clone(),
        &auth,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "a b"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &lines {
        assert_valid(&event, line);
    }
    assert_eq!(lines.last().unwrap()["done"], true);
    assert_eq!(lines.iter().filter(|l| l["done"] == true).count(), 1);
    let (status, text) = post(url, &[], json!({"model": "llama3.2", "messages": []})).await;
    assert_eq!(
        (status, text.as_str()),
        (401, "{\"error\":\"unauthorized\"}")
    );
}

#[tokio::test]
async fn azure_answers_are_openai_with_azure_extras() {
    let server = server().await;
    let url = |deployment: &str, version: &str| {
        format!(
            "http://{}/openai/deployments/{deployment}/chat/completions{version}",
            server.addr()
        )
    };
    let chat = validator(
        "specs/openai/openapi.normalized.json",
        "urn:oa",
        "/components/schemas/CreateChatCompletionResponse",
    );
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let (status, text) = post(
        url("d1", "?api-version=2024-10-21"),
        &[("api-key", KEY)],
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&chat, &answer);
    assert!(answer["prompt_filter_results"].is_array());
    assert!(answer["choices"][0]["content_filter_results"].is_object());
    let cases = [
        (url("d1", ""), vec![("api-key", KEY)], 404),
        (
            url("d1", "?api-version=2024-10-21"),
            vec![("api-key", "wrong")],
            401,
        ),
        (
            url("d1", "?api-version=2024-10-21"),
            vec![("authorization", "Bearer mock-key")],
            200,
        ),
        (
            url("content-filter", "?api-version=2024-10-21"),
            vec![("api-key", KEY)],
            400,
        ),
        (
            url("error-429", "?api-version=2024-10-21"),
            vec![("api-key", KEY)],
            429,
        ),
    ];
    for (url, headers, expected) in cases {
        let (status, text) = post(url.clone(), &headers, body.clone()).await;
        assert_eq!(status, expected, "{url}: {text}");
    }
    // The stream opens with Azure's choice-less prompt-filter chunk.
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let (_, text) = post(
        url("d1", "?api-version=2024-10-21"),
        &[("api-key", KEY)],
        streamed,
    )
    .await;
    let first: Value =
        serde_json::from_str(text.lines().next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(
        (first["choices"].clone(), first["id"].clone()),
        (json!([]), json!(""))
    );
    assert!(text.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn cohere_answers_have_the_v2_shape() {
    let server = server().await;
    let url = format!("http://{}/v2/chat", server.addr());
    let bearer = format!("Bearer {KEY}");
    let auth = [("authorization", bearer.as_str())];
    let (status, text) = post(url.clone(), &auth, json!({"model": "command-a-03-2025", "stream": false, "messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["finish_reason"], "COMPLETE");
    assert_eq!(
        answer["message"]["content"],
        json!([{"type": "text", "text": "echo: hi"}])
    );
    assert!(answer["usage"]["billed_units"]["input_tokens"].is_u64());
    let (_, text) = post(url.clone(), &auth, json!({"model": "command-a-03-2025", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        kinds,
        [
            "message-start",
            "content-start",
            "content-delta",
            "content-delta",
            "content-end",
            "message-end"
        ]
    );
    let (status, text) = post(url, &[], json!({"model": "m", "messages": []})).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["message"],
        "invalid api token"
    );
}
