//! The Bedrock mock over real HTTP: it accepts the conformance kit's golden SigV4 request
//! (replayed byte for byte) and refuses unsigned, unknown-key and tampered requests with AWS's
//! 403s. (Its ConverseStream framing is checked by the Bedrock tests of llm-providers.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed assertion or unwrap is how a test reports"
)]

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::Value;

const GOLDEN_PATH: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

/// Headers and body of `samples/bedrock_signed_request.http`.
fn golden() -> (Vec<(String, String)>, String) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/samples/bedrock_signed_request.http"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    (headers, body.trim_end_matches('\n').to_owned())
}

async fn send(
    server: &MockServer,
    path: &str,
    headers: &[(String, String)],
    body: String,
) -> reqwest::Response {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut request = client.post(format!("http://{}{path}", server.addr()));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body).send().await.unwrap()
}

#[tokio::test]
async fn verifies_signatures_like_aws() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let (headers, body) = golden();
    let without_auth: Vec<_> = headers
        .iter()
        .filter(|(n, _)| n != "Authorization")
        .cloned()
        .collect();
    let unknown_key: Vec<_> = headers
        .iter()
        .map(|(n, v)| (n.clone(), v.replace("AKIDEXAMPLE", "AKIDOTHER")))
        .collect();
    let cases = [
        (headers.clone(), body.clone(), 200, None),
        (
            headers.clone(),
            body.replace("Hello", "Hellp"),
            403,
            Some("InvalidSignatureException"),
        ),
        (
            without_auth,
            body.clone(),
            403,
            Some("MissingAuthenticationTokenException"),
        ),
        (
            unknown_key,
            body.clone(),
            403,
            Some("UnrecognizedClientException"),
        ),
    ];
    for (headers, body, status, kind) in cases {
        let response = send(&server, GOLDEN_PATH, &headers, body).await;
        assert_eq!(response.status().as_u16(), status, "{kind:?}");
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            error_type.as_deref().map(|t| t.split(':').next().unwrap()),
            kind
        );
        let answer: Value = response.json().await.unwrap();
        if status == 200 {
            assert_eq!(
                answer["output"]["message"]["content"][0]["text"],
                "echo: Hello"
            );
            assert_eq!(answer["stopReason"], "end_turn");
        } else {
            assert!(answer["message"].is_string());
        }
    }
}

/// The golden request's signature covers its path: replayed on the stream endpoint it is
/// refused before anything is streamed.
#[tokio::test]
async fn a_signature_does_not_carry_over_to_another_path() {
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let (headers, body) = golden();
    let response = send(
        &server,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        &headers,
        body,
    )
    .await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(
        response.headers()["x-amzn-errortype"]
            .to_str()
            .unwrap()
            .starts_with("InvalidSignatureException")
    );
}
