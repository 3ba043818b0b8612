//! The real binary against the mock upstream: malformed requests, upstream faults, auth,
//! streaming and graceful shutdown, each checked on the wire.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_mock_upstream::{MockOptions, MockServer};
use serde_json::{Value, json};
use support::{Gateway, error_of, http, sse_data};

const MASTER: &str = "sk-test-master";

async fn setup() -> (MockServer, Gateway) {
    let mock = MockServer::start(MockOptions {
        api_key: Some("sk-upstream".into()),
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let base = mock.base_url();
    let entry = |name: &str, model: &str, extra: &str| {
        format!(
            "  - model_name: {name}\n    litellm_params: {{model: openai/{model}, api_base: \"{base}\", api_key: sk-upstream{extra}}}\n"
        )
    };
    let mut config = String::from("model_list:\n");
    for (name, model, extra) in [
        ("ok", "gpt-4o-mini", ""),
        ("limited", "error-429", ""),
        ("broken", "error-500", ""),
        ("overloaded", "error-503", ""),
        ("garbage", "garbage", ""),
        ("hang", "hang", ", timeout: 1"),
        ("cut", "cut-3", ""),
        ("stall", "stall-after-2", ", stream_timeout: 1"),
        ("slow", "slow-1500", ""),
        ("flaky", "error-500", ", max_retries: 1"),
    ] {
        config.push_str(&entry(name, model, extra));
    }
    config.push_str(&entry("flaky", "gpt-4o-mini", ", max_retries: 1"));
    config.push_str(&format!(
        "general_settings:\n  master_key: {MASTER}\n  max_request_size_mb: 1\n"
    ));
    (mock, Gateway::start(&config))
}

async fn post(
    gateway: &Gateway,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let response = http()
        .post(format!("{}{path}", gateway.url))
        .bearer_auth(MASTER)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap_or_default())
}

fn chat(model: &str, stream: bool) -> String {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hello there"}]}).to_string()
}

#[tokio::test]
async fn malformed_requests_get_openai_4xx_and_never_kill_the_process() {
    let (_mock, mut gateway) = setup().await;
    let huge = format!(
        "{{\"model\": \"ok\", \"messages\": [{{\"role\": \"user\", \"content\": \"{}\"}}]}}",
        "a".repeat(2 << 20)
    );
    let cases: Vec<(Vec<u8>, u16, Option<&str>)> = vec![
        (b"{not json".to_vec(), 400, None),
        (b"".to_vec(), 400, None),
        (b"[]".to_vec(), 400, None),
        (b"null".to_vec(), 400, None),
        (br#"{"model": "ok"}"#.to_vec(), 400, Some("messages")),
        (br#"{"messages": [{"role": "user", "content": "x"}]}"#.to_vec(), 400, Some("model")),
        (br#"{"model": "ok", "messages": {"role": "user"}}"#.to_vec(), 400, Some("messages")),
        (br#"{"model": "ok", "messages": []}"#.to_vec(), 400, Some("messages")),
        (br#"{"model": "ok", "messages": [{"role": "robot", "content": "x"}]}"#.to_vec(), 400, Some("messages[0].role")),
        (br#"{"model": "ok", "messages": [{"role": "user"}]}"#.to_vec(), 400, Some("messages[0].content")),
        (br#"{"model": "ok", "messages": [{"role": "tool", "content": "x"}]}"#.to_vec(), 400, Some("messages[0].tool_call_id")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#.to_vec(), 400, Some("temperature")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "temperature": 7}"#.to_vec(), 400, Some("temperature")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "max_tokens": -5}"#.to_vec(), 400, Some("max_tokens")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "n": "two"}"#.to_vec(), 400, Some("n")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#.to_vec(), 400, Some("stream")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": "x"}], "tool_choice": 3}"#.to_vec(), 400, Some("tool_choice")),
        (br#"{"model": "ok", "messages": [{"role": "user", "content": [{"type": "video"}]}]}"#.to_vec(), 400, Some("messages[0].content[0].type")),
        (b"{\"model\": \"ok\", \"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}".to_vec(), 400, None),
        (br#"{"model": "nope", "messages": [{"role": "user", "content": "x"}]}"#.to_vec(), 404, Some("model")),
        (huge.into_bytes(), 413, None),
    ];
    for (body, status, param) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let (got, _, text) = post(&gateway, "/v1/chat/completions", body).await;
        let parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{shown}: not JSON: {text}"));
        let error = error_of(&parsed);
        assert_eq!(got, status, "{shown}: {text}");
        assert_eq!(error["param"].as_str(), param, "{shown}: {text}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let (status, _, _) = post(
        &gateway,
        "/v1/embeddings",
        br#"{"model": "ok", "input": {}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(gateway.alive(), "the gateway died on malformed input");
    let health = http()
        .get(format!("{}/health/readiness", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn upstream_faults_become_clear_errors() {
    let (_mock, gateway) = setup().await;
    // (model, stream, expected status, expected code)
    let cases = [
        ("limited", false, 429, "rate_limit_exceeded"),
        ("limited", true, 429, "rate_limit_exceeded"),
        ("broken", false, 502, "upstream_error"),
        ("overloaded", true, 503, "upstream_error"),
        ("garbage", false, 502, "upstream_bad_response"),
        ("garbage", true, 502, "upstream_bad_response"),
        ("hang", false, 504, "upstream_timeout"),
    ];
    for (model, stream, status, code) in cases {
        let (got, headers, text) =
            post(&gateway, "/v1/chat/completions", chat(model, stream)).await;
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{model}: {text}"));
        assert_eq!(
            (got, error_of(&body)["code"].as_str()),
            (status, Some(code)),
            "{model} stream={stream}: {text}"
        );
        if status == 429 {
            assert_eq!(headers["retry-after"], "7", "Retry-After is forwarded");
        }
        assert!(
            !text.contains("sk-upstream"),
            "an upstream key leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_stream_cut_or_stalled_mid_way_ends_with_an_error_event_and_done() {
    let (_mock, gateway) = setup().await;
    for (model, sent) in [("cut", 3), ("stall", 2)] {
        let (status, _, text) = post(&gateway, "/v1/chat/completions", chat(model, true)).await;
        assert_eq!(status, 200, "{model}: the stream had started");
        let data = sse_data(&text);
        assert_eq!(data.last(), Some(&"[DONE]"), "{model}: {text}");
        let error: Value = serde_json::from_str(data[data.len() - 2]).unwrap();
        assert!(
            error_of(&error)["message"]
                .as_str()
                .unwrap()
                .contains("upstream"),
            "{model}: {error}"
        );
        let chunks = data.len() - 2;
        assert_eq!(
            chunks,
            sent + 1,
            "{model}: role chunk + {sent} content chunks before the error"
        );
    }
}

#[tokio::test]
async fn usage_is_requested_upstream_but_shown_only_when_asked() {
    let (mock, gateway) = setup().await;
    for ask in [false, true] {
        mock.clear_requests();
        let mut body: Value = serde_json::from_str(&chat("ok", true)).unwrap();
        if ask {
            body["stream_options"] = json!({"include_usage": true});
        }
        let (status, _, text) = post(&gateway, "/v1/chat/completions", body.to_string()).await;
        assert_eq!(status, 200);
        let upstream = &mock.requests()[0];
        assert_eq!(upstream.body["stream_options"]["include_usage"], true);
        assert_eq!(upstream.body["model"], "gpt-4o-mini");
        assert_eq!(upstream.header("authorization"), Some("Bearer sk-upstream"));
        let usage_chunks: Vec<Value> = sse_data(&text)
            .into_iter()
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str::<Value>(d).unwrap())
            .filter(|c| c.get("usage").is_some_and(|u| !u.is_null()))
            .collect();
        assert_eq!(usage_chunks.len(), usize::from(ask), "ask={ask}: {text}");
        if ask {
            assert_eq!(usage_chunks[0]["choices"], json!([]));
            assert_eq!(usage_chunks[0]["usage"]["prompt_tokens"], 2);
        }
    }
}

#[tokio::test]
async fn retries_move_on_to_the_next_deployment() {
    let (_mock, gateway) = setup().await;
    for _ in 0..4 {
        let (status, _, text) = post(&gateway, "/v1/chat/completions", chat("flaky", false)).await;
        assert_eq!(status, 200, "{text}");
    }
}

#[tokio::test]
async fn auth_and_request_ids() {
    let (_mock, gateway) = setup().await;
    let client = http();
    let url = format!("{}/v1/models", gateway.url);
    let cases = [
        (None, None, 401),
        (Some("Bearer wrong"), None, 401),
        (Some(&*format!("Bearer {MASTER}")), None, 200),
        (None, Some(MASTER), 200),
    ];
    for (authorization, api_key, status) in cases {
        let mut request = client.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        if let Some(value) = api_key {
            request = request.header("x-api-key", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{authorization:?} {api_key:?}"
        );
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.unwrap();
        if status == 401 {
            assert_eq!(error_of(&body)["code"], "invalid_api_key");
        }
    }
    for path in ["/health/liveliness", "/health/readiness"] {
        let response = client
            .get(format!("{}{path}", gateway.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path} needs no key");
    }
    let echoed = client
        .get(&url)
        .bearer_auth(MASTER)
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    // The client's id comes back as `x-client-request-id`; `x-request-id` is always the
    // gateway's own (spend is keyed by it, so a client must not choose it).
    assert_eq!(echoed.headers()["x-client-request-id"], "abc-123");
    assert_ne!(echoed.headers()["x-request-id"], "abc-123");
    let unknown = client
        .get(format!("{}/v1/nothing", gateway.url))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    error_of(&unknown.json().await.unwrap());
}

#[tokio::test]
async fn sigterm_drains_an_in_flight_stream_then_exits() {
    let (_mock, mut gateway) = setup().await;
    let url = format!("{}/v1/chat/completions", gateway.url);
    let response = http()
        .post(url)
        .bearer_auth(MASTER)
        .body(chat("slow", true))
        .send();
    let in_flight = tokio::spawn(response);
    // The mock holds the first chunk for 1.5 s; wait until the gateway has the request.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while _mock.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the request never reached the upstream"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    gateway.terminate();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(sse_data(&text).last(), Some(&"[DONE]"), "{text}");
    assert!(!text.contains("\"error\""), "{text}");
    let status = tokio::task::spawn_blocking(move || gateway.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

#[test]
fn check_config_exit_codes_and_paths() {
    use support::TempFile;
    let run = |yaml: &str, strict: bool| {
        let file = TempFile::new("check.yaml", yaml);
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
        command.arg("check-config").arg(&file.0);
        if strict {
            command.arg("--strict");
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let unsupported = "model_list:\n  - model_name: a\n    litellm_params: {model: mock/a}\nrouter_settings: {model_group_alias: {b: a}}\n";
    let invalid = "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x, api_base: nope}\n  - model_name: b\n    litellm_params: {}\n";
    let cases = [
        (
            unsupported,
            false,
            Some(0),
            vec![
                "warning: router_settings.model_group_alias: unsupported key (ignored)",
                "OK (litellm format, 1 model groups, 1 deployments)",
            ],
        ),
        (
            unsupported,
            true,
            Some(1),
            vec!["error: router_settings.model_group_alias", "INVALID"],
        ),
        (
            invalid,
            false,
            Some(1),
            vec![
                "error: model_list[0].litellm_params.api_base",
                "error: model_list[1].litellm_params.model",
                "INVALID",
            ],
        ),
    ];
    for (yaml, strict, code, lines) in cases {
        let (got, stdout) = run(yaml, strict);
        assert_eq!(got, code, "{stdout}");
        for line in lines {
            assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
        }
    }
}

#[tokio::test]
async fn the_response_cost_is_priced_from_the_catalog() {
    let (_mock, gateway) = setup().await;
    let (status, headers, text) = post(&gateway, "/v1/chat/completions", chat("ok", false)).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let usage: llm_types::Usage = serde_json::from_value(body["usage"].clone()).unwrap();
    let expected = llm_types::catalog::lookup("openai/gpt-4o-mini")
        .unwrap()
        .cost(&usage);
    assert!(expected.0 > 0);
    assert_eq!(
        headers["x-llm-response-cost"],
        expected.to_decimal_string().as_str()
    );
    // A model the catalog does not know gets no cost header rather than a wrong one.
    let unknown =
        Gateway::start("model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n");
    let response = http()
        .post(format!("{}/v1/chat/completions", unknown.url))
        .body(chat("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-llm-response-cost").is_none());
}
