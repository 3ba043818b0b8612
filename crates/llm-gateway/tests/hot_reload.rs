//! Configuration hot reload on the real binary, under continuous load: a model group added
//! and a deployment changed (by a file change, then by SIGHUP) take effect with zero failed
//! requests; an invalid file is rejected with its errors logged, and the old config served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Gateway, TempDir, http};

/// Requests in a loop while the config changes under them.
const LOAD_TASKS: usize = 4;
const DEADLINE: Duration = Duration::from_secs(20);

fn config(models: &[(&str, &str)]) -> String {
    let mut text = String::from("model_list:\n");
    for (name, reply) in models {
        text.push_str(&format!(
            "  - model_name: {name}\n    litellm_params: {{model: mock/fixed, mock_response: \"{reply}\"}}\n"
        ));
    }
    text
}

/// The answer of `model`, or the status and body of a failure.
async fn ask(client: &reqwest::Client, url: &str, model: &str) -> Result<String, String> {
    let response = client
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {body}"));
    }
    Ok(body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

enum Trigger {
    /// Rewrite the file only: the mtime/size poll notices.
    FileChange,
    /// Rewrite the file and send SIGHUP.
    Hangup,
}

enum Expect {
    /// Every (model, answer) pair, polled until they all hold.
    Answers(&'static [(&'static str, &'static str)]),
    /// The reload is rejected: the log names the problem, the answers stay.
    Rejected {
        log: &'static [&'static str],
        answers: &'static [(&'static str, &'static str)],
    },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reload_under_load_swaps_the_router_and_rejects_invalid_configs() {
    let dir = Arc::new(TempDir::new("reload"));
    let log_path = dir.0.join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let gateway = Gateway::start_logging_to(
        dir.clone(),
        &config(&[("alpha", "alpha v1"), ("beta", "beta v1")]),
        &[("RUST_LOG", "info")],
        Stdio::from(log),
    );
    let config_path = dir.0.join("config.yaml");

    // Continuous load on the models every version keeps.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for task in 0..LOAD_TASKS {
        let (stop, sent, failed, failures) =
            (stop.clone(), sent.clone(), failed.clone(), failures.clone());
        let url = gateway.url.clone();
        load.push(tokio::spawn(async move {
            let client = http();
            let model = if task % 2 == 0 { "alpha" } else { "beta" };
            while !stop.load(Ordering::Relaxed) {
                sent.fetch_add(1, Ordering::Relaxed);
                if let Err(error) = ask(&client, &url, model).await {
                    failed.fetch_add(1, Ordering::Relaxed);
                    failures.lock().unwrap().push(error);
                }
            }
        }));
    }

    let invalid = "model_list:\n  - model_name: \"\"\n    litellm_params: {model: mock/fixed}\n";
    let steps: Vec<(&str, String, Trigger, Expect)> = vec![
        (
            "add gamma, change alpha (file change)",
            config(&[
                ("alpha", "alpha v2"),
                ("beta", "beta v1"),
                ("gamma", "gamma v2"),
            ]),
            Trigger::FileChange,
            Expect::Answers(&[
                ("alpha", "alpha v2"),
                ("beta", "beta v1"),
                ("gamma", "gamma v2"),
            ]),
        ),
        (
            "change beta and gamma (SIGHUP)",
            config(&[
                ("alpha", "alpha v2"),
                ("beta", "beta v3"),
                ("gamma", "gamma v3"),
            ]),
            Trigger::Hangup,
            Expect::Answers(&[
                ("alpha", "alpha v2"),
                ("beta", "beta v3"),
                ("gamma", "gamma v3"),
            ]),
        ),
        (
            "invalid config (SIGHUP)",
            invalid.to_owned(),
            Trigger::Hangup,
            Expect::Rejected {
                log: &["model_name", "must not be empty", "reload rejected"],
                answers: &[
                    ("alpha", "alpha v2"),
                    ("beta", "beta v3"),
                    ("gamma", "gamma v3"),
                ],
            },
        ),
    ];

    let client = http();
    for (name, text, trigger, expect) in steps {
        std::fs::write(&config_path, text).unwrap();
        if let Trigger::Hangup = trigger {
            let status = Command::new("kill")
                .args(["-HUP", &gateway.child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success(), "{name}: kill -HUP failed");
        }
        let start = Instant::now();
        match expect {
            Expect::Answers(answers) => loop {
                let mut got = Vec::new();
                for (model, _) in answers {
                    got.push(ask(&client, &gateway.url, model).await);
                }
                let want: Vec<Result<String, String>> =
                    answers.iter().map(|(_, a)| Ok((*a).to_owned())).collect();
                if got == want {
                    break;
                }
                assert!(
                    start.elapsed() < DEADLINE,
                    "{name}: never served the new config; last answers {got:?}"
                );
                tokio::task::yield_now().await;
            },
            Expect::Rejected { log, answers } => {
                loop {
                    let text = std::fs::read_to_string(&log_path).unwrap();
                    if log.iter().all(|needle| text.contains(needle)) {
                        break;
                    }
                    assert!(
                        start.elapsed() < DEADLINE,
                        "{name}: the log never named {log:?}:\n{text}"
                    );
                    tokio::task::yield_now().await;
                }
                for (model, answer) in answers {
                    assert_eq!(
                        ask(&client, &gateway.url, model).await.as_deref(),
                        Ok(*answer),
                        "{name}: the old config must still be served"
                    );
                }
            }
        }
    }

    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.matches("configuration reloaded").count() >= 2,
        "one info line per reload expected:\n{log}"
    );
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during the reloads: {:?}",
        failures.lock().unwrap()
    );
    assert!(sent.load(Ordering::Relaxed) > 0, "no load was sent");
}
