//! `--policy`: the gateway with a virtual key, rate limits and spend logging on, measured
//! beside the plain gateway run (master key, no limits, spend log off).
//!
//! The key's limits are far above what the bench sends, so every request pays for the
//! checks (key cache, limiter, journal line, settle) and none is refused.

use serde_json::json;

use super::MASTER_KEY;

/// The bench deployment with spend logging on (the default), data in the config's directory.
pub fn gateway_config(mock_port: u16) -> String {
    let mut config = super::bench_model_list(mock_port);
    config.push_str(&format!(
        "general_settings:
  master_key: {MASTER_KEY}
"
    ));
    config
}

/// What `/key/generate` is asked for: every limit on, none reachable.
pub fn key_request() -> serde_json::Value {
    json!({
        "key_alias": "bench",
        "models": ["bench"],
        "rpm_limit": 1_000_000_000u64,
        "tpm_limit": 1_000_000_000_000u64,
        "max_parallel_requests": 1_000_000u64,
        "max_budget": 1_000_000.0,
    })
}

/// Creates the bench's virtual key on the gateway at `base`.
pub async fn generate_key(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let response = client
        .post(format!("{base}/key/generate"))
        .bearer_auth(MASTER_KEY)
        .header("content-type", "application/json")
        .body(key_request().to_string())
        .send()
        .await
        .map_err(|e| format!("/key/generate: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("/key/generate: {e}"))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("/key/generate: {e}: {text}"))?;
    body["key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("/key/generate answered {status}: {body}"))
}

/// Removes what an earlier run left (its database and journal) so runs compare.
pub fn fresh_dir(dir: &std::path::Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_config_logs_spend_and_the_key_has_every_limit() {
        let config = gateway_config(4321);
        assert!(!config.contains("disable_spend_logs"), "{config}");
        let key = key_request();
        for limit in [
            "rpm_limit",
            "tpm_limit",
            "max_parallel_requests",
            "max_budget",
        ] {
            assert!(key[limit].as_f64().unwrap() > 0.0, "{limit}");
        }
    }
}
