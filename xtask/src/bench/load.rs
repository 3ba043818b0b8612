//! The load generator's requests, their tally, and the closed loop (for throughput).
//!
//! The closed loop keeps `concurrency` requests in flight back to back: the highest request
//! rate the server sustains at that concurrency. Latency comes from the open loop in
//! [`super::open`], since a closed loop hides queueing.
//!
//! Every response body is read to the end. Non-2xx statuses and transport failures are errors,
//! counted by kind, because a benchmark that measures fast 401s measures nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One kind of request to one server.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// The whole `Authorization` header value.
    pub auth: String,
    pub body: Bytes,
    /// A streamed (SSE) response: time to first byte is the first `data:` event.
    pub stream: bool,
}

/// An HTTP/1.1 client with a keep-alive pool of `pool` connections per host.
pub fn client(pool: usize) -> Result<reqwest::Client, String> {
    // reqwest is built without a default crypto provider; install one even though the
    // benchmark only speaks plain http:// (building a client needs a provider). Err means
    // one is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(pool)
        .tcp_nodelay(true)
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))
}

/// The timings of one successful request, measured from its origin (actual or scheduled
/// start).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Response headers for a plain response; the first `data:` event for a stream.
    pub first: Duration,
    /// The whole body read.
    pub total: Duration,
}

/// Why a request failed: `kind` is low-cardinality (tallied), `detail` is an example.
#[derive(Debug, Clone)]
pub struct RequestError {
    pub kind: String,
    pub detail: String,
}

/// Sends one request and reads the whole response; timings are measured from `origin`.
pub async fn send(
    client: &reqwest::Client,
    target: &Target,
    origin: Instant,
) -> Result<Timing, RequestError> {
    let response = client
        .post(&target.url)
        .header("authorization", &target.auth)
        .header("content-type", "application/json")
        .body(target.body.clone())
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        let snippet = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(RequestError {
            kind: format!("HTTP {}", status.as_u16()),
            detail: format!("HTTP {status}: {snippet}"),
        });
    }
    let mut first = (!target.stream).then(|| origin.elapsed());
    let mut events = DataEvents::default();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if first.is_none() && events.feed(&chunk) {
            first = Some(origin.elapsed());
        }
    }
    let total = origin.elapsed();
    let first = first.ok_or_else(|| RequestError {
        kind: "stream without data event".into(),
        detail: "a 2xx stream ended without any `data:` line".into(),
    })?;
    Ok(Timing { first, total })
}

fn transport_error(e: reqwest::Error) -> RequestError {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "transport"
    };
    // The source chain holds the useful part (e.g. "connection reset by peer").
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    RequestError {
        kind: kind.into(),
        detail,
    }
}

/// Finds the first `data:` of an SSE body fed chunk by chunk, even when a chunk boundary
/// splits it.
#[derive(Debug, Default)]
struct DataEvents {
    /// The last bytes of the previous chunk, at most `NEEDLE.len() - 1`.
    tail: Vec<u8>,
}

impl DataEvents {
    const NEEDLE: &'static [u8] = b"data:";

    /// True once `data:` has been seen, in this chunk or straddling the previous one.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(chunk);
        if window
            .windows(Self::NEEDLE.len())
            .any(|w| w == Self::NEEDLE)
        {
            return true;
        }
        let keep = window.len().min(Self::NEEDLE.len() - 1);
        self.tail = window.split_off(window.len() - keep);
        false
    }
}

/// Request outcomes: successes and errors by kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub ok: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// One full error message, to say what went wrong without a debugger.
    pub first_error: Option<String>,
}

impl Tally {
    pub(super) fn record<T>(&mut self, outcome: &Result<T, RequestError>) {
        match outcome {
            Ok(_) => self.ok += 1,
            Err(e) => {
                self.errors += 1;
                *self.error_kinds.entry(e.kind.clone()).or_default() += 1;
                self.first_error.get_or_insert_with(|| e.detail.clone());
            }
        }
    }

    pub(super) fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.errors += other.errors;
        for (kind, n) in other.error_kinds {
            *self.error_kinds.entry(kind).or_default() += n;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Errors over all requests; 1.0 when nothing was sent (nothing measured is a failure).
    pub fn error_ratio(&self) -> f64 {
        let all = self.ok + self.errors;
        if all == 0 {
            1.0
        } else {
            self.errors as f64 / all as f64
        }
    }
}

/// What a closed loop measured.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedLoop {
    pub concurrency: usize,
    pub seconds: f64,
    pub throughput_rps: f64,
    #[serde(flatten)]
    pub tally: Tally,
}

/// `concurrency` workers send back to back for `warmup + duration`; responses completed in
/// the `duration` after the warm-up count.
pub async fn closed_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> ClosedLoop {
    let measure_from = Instant::now() + warmup;
    let end = measure_from + duration;
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (client, target) = (client.clone(), Arc::clone(target));
        workers.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < end {
                let outcome = send(&client, &target, Instant::now()).await;
                let done = Instant::now();
                if done >= measure_from && done <= end {
                    tally.record(&outcome);
                }
            }
            tally
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = workers.join_next().await {
        tally.merge(joined.unwrap_or_else(|e| task_failure(&e)));
    }
    ClosedLoop {
        concurrency,
        seconds: duration.as_secs_f64(),
        throughput_rps: tally.ok as f64 / duration.as_secs_f64(),
        tally,
    }
}

pub(super) fn task_failure(e: &tokio::task::JoinError) -> Tally {
    let mut tally = Tally::default();
    tally.record::<()>(&Err(RequestError {
        kind: "task failed".into(),
        detail: e.to_string(),
    }));
    tally
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
