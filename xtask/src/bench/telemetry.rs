//! `--telemetry`: the gateway with trace export (OTLP over HTTP) and a webhook request-log
//! sink on, beside the plain gateway run (neither). Both point at a local [`Collector`] that
//! accepts every POST, so the figures are the gateway's cost of producing and shipping the
//! telemetry, not a collector's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::MASTER_KEY;

/// A stand-in OTLP collector and webhook receiver: `200` to every POST, counted.
pub struct Collector {
    pub addr: SocketAddr,
    pub posts: Arc<AtomicU64>,
    pub bytes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Collector {
    pub async fn start() -> Result<Collector, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("collector: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("collector: {e}"))?;
        let posts = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let (p, b) = (posts.clone(), bytes.clone());
        let app = axum::Router::new().fallback(move |body: bytes::Bytes| {
            let (p, b) = (p.clone(), b.clone());
            async move {
                p.fetch_add(1, Ordering::Relaxed);
                b.fetch_add(body.len() as u64, Ordering::Relaxed);
                // An empty body is an empty ExportTraceServiceResponse too.
                axum::http::StatusCode::OK
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Collector {
            addr,
            posts,
            bytes,
            task,
        })
    }

    /// What arrived so far: POSTs and body bytes.
    pub fn received(&self) -> (u64, u64) {
        (
            self.posts.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// The bench deployment with trace export and a webhook sink to the collector; no spend log.
pub fn gateway_config(mock_port: u16) -> String {
    let mut config = super::bench_model_list(mock_port);
    config.push_str(&format!(
        "litellm_settings:
  callbacks: [otel]
  success_callback: [generic_api]
  failure_callback: [generic_api]
general_settings:
  master_key: {MASTER_KEY}
  disable_spend_logs: true
"
    ));
    config
}

/// The environment that points the gateway's trace export (LiteLLM's `otel` callback) and
/// its webhook sink (LiteLLM's `generic_api`) at the collector.
pub fn environment(collector: SocketAddr) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        ("GENERIC_LOGGER_ENDPOINT", format!("http://{collector}/log")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_turns_on_both_callbacks() {
        let config = gateway_config(1);
        assert!(config.contains("callbacks: [otel]"), "{config}");
        assert!(
            config.contains("success_callback: [generic_api]"),
            "{config}"
        );
        let env = environment("127.0.0.1:9".parse().unwrap());
        assert_eq!(env[1].1, "http://127.0.0.1:9/log");
    }
}
