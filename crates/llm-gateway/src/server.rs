//! Binding, serving and graceful shutdown.

use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::config::GatewayConfig;
use crate::{output, reload, routes};

/// How long in-flight requests and streams may take to finish after SIGTERM/SIGINT.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the spend journal may take to reach SQL at shutdown (what remains is shipped
/// at the next start).
const JOURNAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the request-log sinks may take to deliver what they hold at shutdown.
const SINK_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `config` until SIGTERM or SIGINT, then drains in-flight requests. `config_path` is
/// the file `config` came from (`None`: the embedded demo) and `reload` reads it again, for a
/// hot reload on SIGHUP or when the file changes.
pub async fn run(
    config: GatewayConfig,
    config_path: Option<PathBuf>,
    reload: reload::Loader,
) -> Result<(), String> {
    let trace_export = crate::telemetry::start_tracing(&config.tracing)?;
    let app = AppState::build(&config).await?;
    let policy = app.policy.clone();
    let sinks = app.reporter.sinks().clone();
    let address = format!("{}:{}", config.server.host, config.server.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let local: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%local, models = ?config.model_names(), format = config.format, "llm-gateway started");
    output::listening(local);

    reload::spawn(app.clone(), config, config_path, reload);

    let (signalled_tx, signalled_rx) = tokio::sync::watch::channel(false);
    // Streams are many small writes: without TCP_NODELAY, Nagle's algorithm holds each SSE
    // frame until the client's delayed ACK (~40 ms per chunk on Linux).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, routes::router(app)).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: draining in-flight requests");
        let _ = signalled_tx.send(true);
    });
    let mut signalled = signalled_rx;
    let drained = async move {
        // Only start the drain clock once the signal came.
        let _ = signalled.wait_for(|s| *s).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        result = server => result.map_err(|e| format!("server error: {e}"))?,
        () = drained => tracing::warn!("drain timeout reached; closing remaining connections"),
    }
    // Requests are drained, so every record is submitted: deliver what the sinks hold.
    if !sinks.shutdown(SINK_FLUSH_TIMEOUT).await {
        tracing::warn!("request-log sinks not fully delivered before the deadline");
    }
    if !policy.flush(JOURNAL_FLUSH_TIMEOUT).await {
        tracing::warn!(
            backlog = policy.journal_backlog(),
            "spend journal not fully shipped; the next start ships the rest"
        );
    }
    trace_export.shutdown().await;
    tracing::info!("llm-gateway stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {},
            () = terminate => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
