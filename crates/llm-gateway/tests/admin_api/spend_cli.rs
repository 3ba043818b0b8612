//! `/spend/logs`, `/global/spend*` and `/model/info`, and the `keys` CLI.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

use super::support::Gateway;
use super::{Api, MASTER, UPSTREAM_SECRET, config, gateways};

#[tokio::test]
async fn spend_routes_report_what_keys_spent() {
    for (backend, gateway, _db) in gateways().await {
        let api = Api::new(&gateway);
        api.post("/team/new", json!({"team_id": "spenders"})).await;
        let a = api
            .post(
                "/key/generate",
                json!({"key_alias": "ka", "team_id": "spenders", "user_id": "ua"}),
            )
            .await;
        let b = api.post("/key/generate", json!({"key_alias": "kb"})).await;
        let (key_a, key_b) = (a["key"].as_str().unwrap(), b["key"].as_str().unwrap());
        for (key, model) in [(key_a, "gpt-a"), (key_a, "gpt-b"), (key_b, "gpt-a")] {
            assert_eq!(api.chat(key, model).await, (200, None), "{backend}");
        }
        // The journal ships to SQL in the background: poll until all three rows are there.
        let deadline = Instant::now() + Duration::from_secs(10);
        let logs = loop {
            let logs = api.get("/spend/logs").await;
            if logs.as_array().unwrap().len() == 3 {
                break logs;
            }
            assert!(
                Instant::now() < deadline,
                "{backend}: spend rows never arrived: {logs}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let rows = logs.as_array().unwrap();
        let ends: Vec<&str> = rows
            .iter()
            .map(|r| r["endTime"].as_str().unwrap())
            .collect();
        assert!(
            ends.windows(2).all(|w| w[0] >= w[1]),
            "{backend}: newest first: {ends:?}"
        );
        for row in rows {
            assert!(row["request_id"].as_str().unwrap().len() > 4, "{row}");
            assert!(row["total_tokens"].as_u64().unwrap() > 0, "{row}");
        }
        let cases = [
            (format!("/spend/logs?api_key={key_a}"), 2),
            (
                format!("/spend/logs?api_key={}", a["token"].as_str().unwrap()),
                2,
            ),
            ("/spend/logs?user_id=ua".to_owned(), 2),
            ("/spend/logs?team_id=spenders".to_owned(), 2),
            ("/spend/logs?limit=1".to_owned(), 1),
            (
                "/spend/logs?start_date=2000-01-01&end_date=2000-01-02".to_owned(),
                0,
            ),
            ("/spend/logs?start_date=2000-01-01T00:00:00Z".to_owned(), 3),
        ];
        for (path, expected) in cases {
            assert_eq!(
                api.get(&path).await.as_array().unwrap().len(),
                expected,
                "{backend} {path}"
            );
        }
        let total = api.get("/global/spend").await["spend"].as_f64().unwrap();
        let per_key = api.get("/global/spend/keys").await;
        let per_model = api.get("/global/spend/models").await;
        let per_team = api.get("/global/spend/teams").await;
        let sum = |rows: &Value| -> f64 {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| r["total_spend"].as_f64().unwrap())
                .sum()
        };
        assert!(
            (sum(&per_key) - total).abs() < 1e-9,
            "{backend}: {per_key} vs {total}"
        );
        assert!(
            (sum(&per_model) - total).abs() < 1e-9,
            "{backend}: {per_model}"
        );
        assert!(
            (sum(&per_team["total_spend_per_team"]) - total).abs() < 1e-9,
            "{per_team}"
        );
        assert_eq!(per_key.as_array().unwrap().len(), 2, "{backend}: {per_key}");
        assert_eq!(
            per_model.as_array().unwrap().len(),
            2,
            "{backend}: {per_model}"
        );
        assert_eq!(
            per_team["teams"],
            json!(["spenders"]),
            "{backend}: {per_team}"
        );
    }
}

#[tokio::test]
async fn model_info_lists_deployments_without_credentials() {
    let gateway = Gateway::start(&config(None, Some(MASTER)));
    let api = Api::new(&gateway);
    for path in ["/model/info", "/v1/model/info"] {
        let answer = api.get(path).await;
        assert!(
            !answer.to_string().contains(UPSTREAM_SECRET),
            "{path} leaks the key: {answer}"
        );
        let data = answer["data"].as_array().unwrap();
        let names: Vec<&str> = data
            .iter()
            .map(|d| d["model_name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{answer}");
        for name in ["gpt-a", "gpt-b", "priced"] {
            assert!(names.contains(&name), "{name}: {answer}");
        }
        let priced = data.iter().find(|d| d["model_name"] == "priced").unwrap();
        assert_eq!(priced["litellm_params"], json!({"model": "openai/gpt-4o"}));
        assert_eq!(priced["model_info"]["id"], "priced-1");
        assert_eq!(
            priced["model_info"]["input_cost_per_token"],
            json!(0.000002)
        );
        assert_eq!(
            priced["model_info"]["output_cost_per_token"],
            json!(0.00001)
        );
    }
}

/// Runs `llm-gateway keys ...` against `gateway`; (exit success, stdout, stderr).
fn cli(gateway: &Gateway, args: &[&str], master: Option<&str>) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
    command
        .arg("keys")
        .args(args)
        .env("LLM_GATEWAY_URL", &gateway.url)
        .env_remove("LLM_GATEWAY_MASTER_KEY")
        .env_remove("LITELLM_MASTER_KEY");
    if let Some(master) = master {
        command.env("LLM_GATEWAY_MASTER_KEY", master);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn keys_cli_creates_lists_and_revokes() {
    let gateway = Gateway::start(&config(None, Some(MASTER)));
    let api = Api::new(&gateway);
    let (ok, out, err) = cli(
        &gateway,
        &[
            "create",
            "--alias",
            "from-cli",
            "--models",
            "gpt-a,gpt-b",
            "--max-budget",
            "1.5",
            "--duration",
            "30d",
        ],
        Some(MASTER),
    );
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(created["models"], json!(["gpt-a", "gpt-b"]));
    assert_eq!(created["max_budget"], json!(1.5));
    api.chat_until(&key, "gpt-b", 200, None).await;

    let (ok, out, err) = cli(&gateway, &["list"], Some(MASTER));
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["keys"][0]["key_alias"], "from-cli", "{listed}");
    assert!(!out.contains(&key), "the list must not show keys");

    // --url and --master-key flags work as well as the environment.
    let (ok, out, err) = cli(
        &gateway,
        &[
            "revoke",
            &key,
            "--url",
            &gateway.url,
            "--master-key",
            MASTER,
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("deleted_keys"), "{out}");
    api.chat_until(&key, "gpt-b", 401, Some("invalid_api_key"))
        .await;

    // Failures: a wrong master key, no master key, a key that does not exist.
    let cases: [(&[&str], Option<&str>, &str); 3] = [
        (&["list"], Some("sk-wrong"), "401"),
        (&["list"], None, "master key"),
        (&["revoke", "sk-does-not-exist"], Some(MASTER), "404"),
    ];
    for (args, master, message) in cases {
        let (ok, _, err) = cli(&gateway, args, master);
        assert!(!ok, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            !err.contains(MASTER),
            "{args:?} leaks the master key: {err}"
        );
    }
}
