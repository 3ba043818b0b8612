//! `--extras`: the response cache and a PII guardrail, measured beside the plain gateway run
//! (no cache, no guardrails). One more gateway, with the cache on and a `pii` guardrail that
//! only requests naming it run, serves four request shapes:
//!
//! - `cache-hit`: the same request again and again (the first stores it);
//! - `cache-miss`: `"cache": {"s-maxage": 0}` (a lookup that never accepts an entry, the
//!   upstream call, a store);
//! - `pii`: `"guardrails": ["pii"]` with the cache skipped: detectors over the prompt before
//!   the call and over the answer after it (the window of each choice on streams).

use super::MASTER_KEY;

/// The bench deployment with the cache and the guardrail; no spend log.
pub fn gateway_config(mock_port: u16) -> String {
    let mut config = super::bench_model_list(mock_port);
    config.push_str(&format!(
        "litellm_settings:
  cache: true
guardrails:
  - guardrail_name: pii
    litellm_params: {{guardrail: pii, mode: [pre_call, post_call], action: mask}}
general_settings:
  master_key: {MASTER_KEY}
  disable_spend_logs: true
"
    ));
    config
}

/// The scenarios: label and the JSON members added to the bench request.
pub const SCENARIOS: [(&str, &str); 3] = [
    ("gateway/cache-hit", ""),
    ("gateway/cache-miss", r#","cache":{"s-maxage":0}"#),
    (
        "gateway/pii",
        r#","guardrails":["pii"],"cache":{"no-cache":true,"no-store":true}"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_body_is_json() {
        for (label, extra) in SCENARIOS {
            let body = super::super::request_body_with("bench", false, extra);
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["model"], "bench", "{label}");
        }
        assert!(gateway_config(1).contains("guardrail: pii"));
    }
}
