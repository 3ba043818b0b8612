//! Test support: the real `llm-gateway` binary on an ephemeral port, with a config file.
#![allow(dead_code)]
// each test binary uses a different subset
// Test support code: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod scrape;
pub mod services;
pub mod tcp_proxy;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static NEXT_FILE: AtomicUsize = AtomicUsize::new(0);

/// A file in the temp dir, unique to this process and call, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, contents: &str) -> TempFile {
        let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "llm-gateway-test-{}-{n}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A directory in the temp dir, unique to this process and call, removed on drop: a
/// gateway's config and its data (SQLite file, spend journal) live in one.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let n = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "llm-gateway-test-{}-{n}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running gateway process; killed on drop.
pub struct Gateway {
    pub url: String,
    pub child: Child,
    /// The config file's directory, which is also the gateway's data directory.
    pub dir: std::sync::Arc<TempDir>,
}

impl Gateway {
    /// Starts the binary with `config` (YAML) and waits for its listening line.
    pub fn start(config: &str) -> Gateway {
        Gateway::start_with_env(config, &[])
    }

    /// Like [`Gateway::start`], with extra environment variables. `REDIS_URL` and
    /// `DATABASE_URL` from the test run's own environment are not passed on: gateways of
    /// different tests would share state through them.
    pub fn start_with_env(config: &str, env: &[(&str, &str)]) -> Gateway {
        Gateway::start_in(std::sync::Arc::new(TempDir::new("gateway")), config, env)
    }

    /// Starts a gateway whose config and data live in `dir` (a restart on the same data, or
    /// two instances sharing one data directory).
    pub fn start_in(dir: std::sync::Arc<TempDir>, config: &str, env: &[(&str, &str)]) -> Gateway {
        Gateway::start_logging_to(dir, config, env, Stdio::inherit())
    }

    /// Like [`Gateway::start_in`], with the gateway's stderr (its log) sent to `stderr`, e.g. a
    /// file the test reads.
    pub fn start_logging_to(
        dir: std::sync::Arc<TempDir>,
        config: &str,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Gateway {
        let path = dir.0.join("config.yaml");
        std::fs::write(&path, config).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_llm-gateway"));
        command
            .args([
                "--config",
                path.to_str().unwrap(),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
            ])
            .env("RUST_LOG", "warn")
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("llm-gateway listening on ")
            .unwrap_or_else(|| panic!("gateway did not start; first line: {line:?}"))
            .to_owned();
        Gateway { url, child, dir }
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits for it.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTP client of the tests (the gateway's own builder: rustls provider installed).
pub fn http() -> reqwest::Client {
    let _ = llm_providers::http_client::build_http_client().unwrap();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Every `data:` payload of an SSE body.
pub fn sse_data(body: &str) -> Vec<&str> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect()
}

/// Asserts the OpenAI error shape and returns the error object.
pub fn error_of(body: &serde_json::Value) -> &serde_json::Map<String, serde_json::Value> {
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("not an OpenAI error body: {body}"));
    for key in ["message", "type", "param", "code"] {
        assert!(error.contains_key(key), "error body lacks `{key}`: {body}");
    }
    error
}
