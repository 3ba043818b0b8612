//! The API key check and the request log.

use llm_mock_upstream::{MockOptions, MockServer, RecordedRequest};
use serde_json::{Value, json};

use crate::support::{client, post, server, user};

#[tokio::test]
async fn a_wrong_or_missing_key_gets_401() {
    let server = MockServer::start(MockOptions {
        api_key: Some("sk-right".to_owned()),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let url = format!("{}/chat/completions", server.base_url());
    for (key, status) in [
        (None, 401),
        (Some("sk-wrong"), 401),
        (Some("sk-right"), 200),
    ] {
        let mut request = client().post(&url).json(&user("m", "hi"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "key {key:?}");
        if status == 401 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body,
                json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})
            );
        }
    }
    let models = client()
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 401);
}

#[tokio::test]
async fn records_requests_oldest_first() {
    let server = server().await;
    let first = user("gpt-4o-mini", "first");
    let response = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .bearer_auth("sk-test")
        .header("X-Custom-Header", "Value")
        .json(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    post(&server, "/embeddings", &json!({"model": "e", "input": "x"})).await;
    let bad = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let requests = server.requests();
    let paths: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/embeddings"),
            ("POST", "/v1/chat/completions")
        ]
    );
    let recorded = &requests[0];
    assert_eq!(recorded.body, first);
    assert_eq!(recorded.header("authorization"), Some("Bearer sk-test"));
    assert!(
        recorded
            .headers
            .contains(&("x-custom-header".to_owned(), "Value".to_owned()))
    );
    assert_eq!(requests[2].body, Value::Null);

    // The same log over HTTP, for tests that run the binary.
    let url = format!("http://{}/__mock/requests", server.addr());
    let over_http: Vec<RecordedRequest> = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http, requests);
    let cleared = client().delete(&url).send().await.unwrap();
    assert!(cleared.status().is_success());
    assert!(server.requests().is_empty());

    post(&server, "/embeddings", &json!({"model": "e", "input": "x"})).await;
    assert_eq!(server.requests().len(), 1);
    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_log_is_bounded() {
    let server = MockServer::start(MockOptions {
        record_limit: 3,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    for i in 0..5 {
        post(
            &server,
            "/chat/completions",
            &user("m", &format!("message {i}")),
        )
        .await;
    }
    let texts: Vec<Value> = server
        .requests()
        .into_iter()
        .map(|r| r.body["messages"][0]["content"].clone())
        .collect();
    assert_eq!(
        texts,
        [json!("message 2"), json!("message 3"), json!("message 4")]
    );
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = server().await;
    let url = format!("{}/models", server.base_url());
    assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    drop(server);
    // A fresh client, so no pooled connection hides whether the listener is gone.
    let after = crate::support::client().get(&url).send().await;
    assert!(after.is_err(), "{after:?}");
}
