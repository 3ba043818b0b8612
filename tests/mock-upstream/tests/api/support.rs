//! Helpers shared by the HTTP tests: a client, request builders, SSE parsing.

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};

pub async fn server() -> MockServer {
    MockServer::start(MockOptions::default()).await.unwrap()
}

pub fn client() -> reqwest::Client {
    client_builder().build().unwrap()
}

/// A client builder; reqwest insists on a TLS provider even for plain-HTTP clients.
pub fn client_builder() -> reqwest::ClientBuilder {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A chat request with one user message.
pub fn user(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// POSTs JSON to `path` under the server's `/v1` base URL.
pub async fn post(server: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", server.base_url()))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// POSTs JSON and returns the JSON answer, checking the status is 200.
pub async fn post_ok(server: &MockServer, path: &str, body: &Value) -> Value {
    let response = post(server, path, body).await;
    assert_eq!(response.status(), 200, "request {body}");
    response.json().await.unwrap()
}

/// A parsed SSE body: the JSON of each `data:` frame, and whether it ended with `[DONE]`.
#[derive(Debug)]
pub struct Stream {
    pub chunks: Vec<Value>,
    pub done: bool,
}

impl Stream {
    /// Parses `data: ...\n\n` frames strictly: anything else in the body fails the test.
    pub fn parse(body: &str) -> Stream {
        assert!(
            body.ends_with("\n\n"),
            "body must end with a blank line: {body:?}"
        );
        let mut chunks = Vec::new();
        let mut done = false;
        for frame in body.trim_end_matches('\n').split("\n\n") {
            let data = frame
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("frame without `data: `: {frame:?}"));
            assert!(!done, "frame after [DONE]: {frame:?}");
            if data == "[DONE]" {
                done = true;
            } else {
                chunks.push(serde_json::from_str(data).unwrap());
            }
        }
        Stream { chunks, done }
    }

    /// The concatenated `delta.content` of choice 0.
    pub fn content(&self) -> String {
        self.deltas("/content")
    }

    /// The concatenated `delta.tool_calls[0].function.arguments` of choice 0.
    pub fn arguments(&self) -> String {
        self.deltas("/tool_calls/0/function/arguments")
    }

    fn deltas(&self, pointer: &str) -> String {
        self.chunks
            .iter()
            .filter_map(|c| c.pointer("/choices/0/delta"))
            .filter_map(|d| d.pointer(pointer).and_then(Value::as_str))
            .collect()
    }
}

/// Sends a streamed chat request and returns the complete, parsed SSE body.
pub async fn stream(server: &MockServer, body: &Value) -> Stream {
    let response = post(server, "/chat/completions", body).await;
    assert_eq!(response.status(), 200, "request {body}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    Stream::parse(&response.text().await.unwrap())
}
