//! A telemetry collector for tests: an HTTP server that records every POST (request-log
//! webhooks, OTLP/HTTP exports) and answers each with a status the test can change while it
//! runs, to play a sink that is down and then comes back.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long [`Collector::next`] waits for a POST.
const WAIT: Duration = Duration::from_secs(15);

/// One POST the collector received, and the status it answered.
#[derive(Debug, Clone)]
pub struct Posted {
    pub status: u16,
    pub path: String,
    pub content_type: String,
    pub authorization: Option<String>,
    pub body: Bytes,
}

#[derive(Clone)]
struct Shared {
    status: Arc<AtomicU16>,
    posted: mpsc::UnboundedSender<Posted>,
}

/// A collector on an ephemeral loopback port; it stops when the test's runtime does.
pub struct Collector {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    status: Arc<AtomicU16>,
    posted: mpsc::UnboundedReceiver<Posted>,
}

impl Collector {
    /// Starts answering every POST, on any path, with 200.
    pub async fn start() -> std::io::Result<Collector> {
        let (sender, posted) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(200));
        let shared = Shared {
            status: Arc::clone(&status),
            posted: sender,
        };
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::post(answer))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Collector {
            url,
            status,
            posted,
        })
    }

    /// Answers the POSTs from now on with `status` (a 5xx plays a sink that is down).
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next POST, whatever it was answered; `None` when none came within 15 s.
    pub async fn next(&mut self) -> Option<Posted> {
        tokio::time::timeout(WAIT, self.posted.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next POST answered with a 2xx; `None` when none came within 15 s of the last.
    pub async fn next_accepted(&mut self) -> Option<Posted> {
        loop {
            let posted = self.next().await?;
            if posted.status < 300 {
                return Some(posted);
            }
        }
    }
}

async fn answer(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = shared.status.load(Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // The test may have dropped its receiver; the answer stands all the same.
    let _ = shared.posted.send(Posted {
        status,
        path: uri.path().to_owned(),
        content_type: header("content-type").unwrap_or_default(),
        authorization: header("authorization"),
        body,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
