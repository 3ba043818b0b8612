//! The `mock-upstream` binary: prints its URL, serves, stops on a signal.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_its_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-upstream"))
        .args(["--port", "0", "--api-key", "sk-bin"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.unwrap();
    let url = line
        .trim_end()
        .strip_prefix("mock-upstream listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let response = crate::support::client()
        .get(format!("{url}/v1/models"))
        .bearer_auth("sk-bin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // SIGTERM is how the benchmark and the demo stop it; it must exit cleanly.
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the binary must exit on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn the_binary_rejects_unknown_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_mock-upstream"))
        .arg("--bogus")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: mock-upstream"));
}
