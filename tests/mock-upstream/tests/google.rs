//! The Google mock over HTTP: its authentication quirks (Gemini's key errors, Vertex's bearer
//! tokens from the JWT grant), routes and framing, as a client sees them.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};

const KEY: &str = "AIza-mock-test";

async fn server() -> (MockServer, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MockServer::start(MockOptions {
        api_key: Some(KEY.into()),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    (server, reqwest::Client::new())
}

fn hello() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
}

#[tokio::test]
async fn answers_as_google_does() {
    let (server, http) = server().await;
    let base = format!("http://{}", server.addr());
    let gemini = format!("{base}/v1beta/models/gemini-2.5-flash");
    let vertex =
        format!("{base}/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash");
    let claude =
        format!("{base}/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4-5");
    // (url, key header, body, status, a fragment of the answer)
    let cases = [
        (
            format!("{gemini}:generateContent"),
            Some(("x-goog-api-key", KEY)),
            hello(),
            200,
            "\"text\":\"echo: hi\"",
        ),
        (
            format!("{base}/v1/models/gemini-2.5-flash:generateContent"),
            Some(("x-goog-api-key", KEY)),
            hello(),
            200,
            "echo: hi",
        ),
        (
            format!("{gemini}:generateContent"),
            None,
            hello(),
            403,
            "PERMISSION_DENIED",
        ),
        (
            format!("{gemini}:generateContent"),
            Some(("x-goog-api-key", "AIza-wrong")),
            hello(),
            400,
            "API_KEY_INVALID",
        ),
        (
            format!("{gemini}:generateContent?key={KEY}"),
            None,
            hello(),
            200,
            "echo: hi",
        ),
        (
            format!("{gemini}:streamGenerateContent"),
            Some(("x-goog-api-key", KEY)),
            hello(),
            400,
            "alt=sse",
        ),
        (
            format!("{gemini}:generateContent"),
            Some(("x-goog-api-key", KEY)),
            json!({"contents": []}),
            400,
            "INVALID_ARGUMENT",
        ),
        (
            format!("{base}/v1beta/models/error-429:generateContent"),
            Some(("x-goog-api-key", KEY)),
            hello(),
            429,
            "\"retryDelay\":\"7s\"",
        ),
        (
            format!("{vertex}:generateContent"),
            None,
            hello(),
            401,
            "UNAUTHENTICATED",
        ),
        (
            format!("{vertex}:generateContent"),
            Some(("authorization", "Bearer ya29.forged")),
            hello(),
            401,
            "UNAUTHENTICATED",
        ),
        (
            format!("{vertex}:generateContent"),
            Some(("authorization", &format!("Bearer {KEY}"))),
            hello(),
            200,
            "trafficType",
        ),
        (
            format!("{claude}:rawPredict"),
            Some(("authorization", &format!("Bearer {KEY}"))),
            json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "hi"}]}),
            200,
            "\"text\":\"echo: hi\"",
        ),
        (
            format!("{claude}:rawPredict"),
            Some(("authorization", &format!("Bearer {KEY}"))),
            json!({"anthropic_version": "vertex-2023-10-16", "model": "claude", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "hi"}]}),
            400,
            "model: Extra inputs are not permitted",
        ),
        (
            format!("{claude}:rawPredict"),
            Some(("authorization", &format!("Bearer {KEY}"))),
            json!({"max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}),
            400,
            "anthropic_version",
        ),
        (
            format!("{claude}:streamRawPredict"),
            Some(("authorization", &format!("Bearer {KEY}"))),
            json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 50, "stream": true,
                   "messages": [{"role": "user", "content": "hi"}]}),
            200,
            "event: message_stop",
        ),
        (
            format!("{claude}:rawPredict"),
            None,
            json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 50,
                   "messages": [{"role": "user", "content": "hi"}]}),
            401,
            "UNAUTHENTICATED",
        ),
        (
            format!("{base}/token"),
            None,
            json!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
            ),
            400,
            "invalid_grant",
        ),
    ];
    for (url, auth, body, status, fragment) in cases {
        let mut request = http.post(&url);
        request = match &body {
            Value::String(form) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone()),
            other => request
                .header("content-type", "application/json")
                .body(other.to_string()),
        };
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{url}: {text}");
        assert!(text.contains(fragment), "{url}: {text}");
    }
}

#[tokio::test]
async fn streams_sse_events_ending_in_crlf() {
    let (server, http) = server().await;
    let url = format!(
        "http://{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        server.addr()
    );
    let response = http
        .post(url)
        .header("x-goog-api-key", KEY)
        .body(json!({"contents": [{"role": "user", "parts": [{"text": "one two"}]}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let events: Vec<Value> = text
        .split("\r\n\r\n")
        .filter(|e| !e.is_empty())
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    let words: Vec<&str> = events
        .iter()
        .map(|e| {
            e["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(words, ["echo:", " one", " two"]);
    assert_eq!(events[2]["candidates"][0]["finishReason"], "STOP");
    assert!(events[0]["candidates"][0].get("finishReason").is_none());
    assert_eq!(events[2]["usageMetadata"]["totalTokenCount"], 5);
}
