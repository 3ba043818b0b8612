//! `/health/readiness` reports the rate limiter's Redis: connected, or unreachable while a
//! TCP proxy in front of it is cut. Fail-open the gateway stays ready (it serves on local
//! limits); under `rate_limit_fail_mode: closed` it is not (it would refuse every request).
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::services::{redis_available, unique_prefix};
use support::tcp_proxy::TcpProxy;
use support::{Gateway, http};

fn config(redis_port: u16, prefix: &str, fail_mode: &str) -> String {
    format!(
        "model_list:
  - model_name: m
    litellm_params: {{model: mock/echo}}
router_settings:
  redis_url: redis://127.0.0.1:{redis_port}
  redis_key_prefix: \"{prefix}\"
general_settings:
  rate_limit_fail_mode: {fail_mode}
"
    )
}

async fn readiness(gateway: &Gateway) -> (u16, Value) {
    let response = http()
        .get(format!("{}/health/readiness", gateway.url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

// Multi-threaded: the proxy must forward while this thread waits for the gateway to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_redis_and_fails_only_when_requests_need_it() {
    if !redis_available() {
        return;
    }
    // (fail mode, status while Redis is cut)
    for (fail_mode, status_when_cut) in [("open", 200), ("closed", 503)] {
        let proxy = TcpProxy::start("127.0.0.1:6379").await;
        let prefix = unique_prefix(&format!("readiness_{fail_mode}"));
        let gateway = Gateway::start(&config(proxy.port, &prefix, fail_mode));
        let (status, body) = readiness(&gateway).await;
        assert_eq!(
            (status, &body["redis"]),
            (200, &Value::from("connected")),
            "{body}"
        );

        proxy.cut();
        let (status, body) = readiness(&gateway).await;
        assert_eq!(status, status_when_cut, "{fail_mode}: {body}");
        let redis = body["redis"].as_str().unwrap();
        assert!(redis.starts_with("unreachable"), "{fail_mode}: {body}");

        proxy.restore();
        let (status, body) = readiness(&gateway).await;
        assert_eq!(
            (status, &body["redis"]),
            (200, &Value::from("connected")),
            "{body}"
        );
    }
}
