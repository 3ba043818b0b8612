//! Starting and stopping a mock server; what tests in other crates hold on to.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::delivery::Shutdown;
use crate::record::RecordedRequest;
use crate::routes::{self, AppState};

/// How many requests the log keeps by default: enough for any test, flat under a benchmark.
pub const DEFAULT_RECORD_LIMIT: usize = 1000;

/// Settings for a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// When set, requests must carry `Authorization: Bearer <key>` or get a 401.
    pub api_key: Option<String>,
    /// How many of the most recent requests [`MockServer::requests`] keeps; 0 records none.
    pub record_limit: usize,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            record_limit: DEFAULT_RECORD_LIMIT,
        }
    }
}

/// A running mock of the OpenAI API. Dropping it shuts it down.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Starts a server on an ephemeral port of 127.0.0.1, so tests can run in parallel.
    pub async fn start(opts: MockOptions) -> io::Result<MockServer> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), opts).await
    }

    /// Starts a server on `addr` (port 0 picks a free one).
    pub async fn start_on(addr: SocketAddr, opts: MockOptions) -> io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, signal) = watch::channel(false);
        let state = Arc::new(AppState::new(
            opts.api_key,
            opts.record_limit,
            Shutdown(signal.clone()),
        ));
        let app = routes::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            // Graceful shutdown closes idle keep-alive connections too, so a dropped server
            // leaves no connection task behind; serve errors end the task either way.
            // TCP_NODELAY: SSE frames are small writes that Nagle would hold back.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(Shutdown(signal).wait())
                .await;
        });
        Ok(MockServer {
            addr,
            state,
            shutdown,
            task,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI base URL of this server, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests received so far, oldest first (the most recent `record_limit` of them).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.snapshot()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.log.clear();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // The signal ends hung and stalled responses and closes open connections; the abort
        // stops accepting at once. A send error only means everything is gone already.
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}
