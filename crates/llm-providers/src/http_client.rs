//! The shared, pooled HTTP client every adapter uses.

use std::sync::Once;
use std::time::Duration;

use llm_types::Error;

static CRYPTO: Once = Once::new();

/// The pooled client adapters share (named here so callers need not depend on reqwest).
pub type HttpClient = reqwest::Client;

/// Builds the process's upstream HTTP client: pooled keep-alive connections, HTTP/2 where the
/// upstream offers it, rustls with the `ring` provider and the platform's root certificates.
///
/// Build it once per configuration and share it: a client per request would lose the pool.
/// Timeouts are per request (deployments differ), except connecting.
pub fn build_http_client() -> Result<reqwest::Client, Error> {
    CRYPTO.call_once(|| {
        // Err means another part of the process installed a provider first: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .user_agent(concat!("llm-gateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))
}
