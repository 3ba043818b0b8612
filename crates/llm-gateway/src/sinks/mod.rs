//! Request-log sinks: every finished request, as a [`RequestRecord`], delivered in batches
//! to a webhook (JSON), an OTLP/HTTP traces endpoint (Langfuse and the like) or JSON lines on
//! stdout, stderr or a file.
//!
//! The request path only ever calls [`LogSinks::submit`], which never waits: each sink has
//! a queue bounded in records and in bytes (message content included), and a record that
//! does not fit is dropped and counted. One background worker per sink batches (by size or
//! interval), encodes and delivers with retries and exponential backoff; a sink that stays
//! down costs dropped records, never slower requests.
//! At shutdown [`LogSinks::shutdown`] delivers what is queued within a deadline.

mod deliver;
mod encode;
mod otlp;
mod worker;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::{SinkConfig, SinkWhen};
use crate::request_log::RequestRecord;

/// Counters of one sink, for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkStats {
    pub name: String,
    pub delivered: u64,
    pub dropped: u64,
    pub failed_attempts: u64,
    pub queued: u64,
}

/// What a sink's worker and its submitters count, shared without locks.
#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    dropped: AtomicU64,
    failed_attempts: AtomicU64,
    /// Accepted and neither delivered nor dropped yet (in the queue or in a batch being
    /// delivered).
    queued: AtomicU64,
    /// What those records hold, by [`RequestRecord::approx_bytes`].
    queued_bytes: AtomicU64,
}

impl Counters {
    /// Takes a record of `bytes` into the queue's byte budget of `max_bytes`; false (and
    /// nothing taken) when it does not fit. A record larger than the whole budget still
    /// fits an empty queue, so a single large request is still logged.
    fn reserve(&self, bytes: u64, max_bytes: u64) -> bool {
        let before = self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        if before > 0 && before.saturating_add(bytes) > max_bytes {
            self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// `n` records of `bytes` in all left the queue: delivered, or dropped.
    fn settle(&self, n: u64, bytes: u64, delivered: bool) {
        let counter = if delivered {
            &self.delivered
        } else {
            &self.dropped
        };
        counter.fetch_add(n, Ordering::Relaxed);
        self.queued.fetch_sub(n, Ordering::Relaxed);
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// A record's size as the byte budget counts it.
fn record_bytes(record: &RequestRecord) -> u64 {
    u64::try_from(record.approx_bytes()).unwrap_or(u64::MAX)
}

/// One sink as the request path sees it: its filter and its queue.
struct Sink {
    name: String,
    when: SinkWhen,
    max_bytes: u64,
    queue: mpsc::Sender<Arc<RequestRecord>>,
    counters: Arc<Counters>,
}

/// Every configured sink, each with its own bounded queue and background worker.
pub struct LogSinks {
    sinks: Vec<Sink>,
    wants_content: bool,
    /// Set once, at shutdown: workers deliver what is queued and stop.
    closing: watch::Sender<bool>,
    /// Taken by the first `shutdown` (never held across an await).
    workers: Mutex<Vec<JoinHandle<bool>>>,
}

impl Default for LogSinks {
    fn default() -> LogSinks {
        LogSinks {
            sinks: Vec::new(),
            wants_content: false,
            closing: watch::channel(false).0,
            workers: Mutex::new(Vec::new()),
        }
    }
}

impl LogSinks {
    /// Starts one worker per sink (must run inside the tokio runtime). Fails on what only
    /// shows when building: a header that is not a valid HTTP header, a file that cannot be
    /// opened for appending.
    pub fn start(configs: &[SinkConfig]) -> Result<LogSinks, String> {
        let mut destinations = Vec::with_capacity(configs.len());
        for config in configs {
            let destination = deliver::Destination::build(config)
                .map_err(|e| format!("log sink `{}`: {e}", config.name))?;
            destinations.push(destination);
        }
        let (closing, closing_rx) = watch::channel(false);
        let mut sinks = Vec::with_capacity(configs.len());
        let mut workers = Vec::with_capacity(configs.len());
        for (config, destination) in configs.iter().zip(destinations) {
            let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
            let counters = Arc::new(Counters::default());
            let worker = worker::Worker::new(
                config,
                destination,
                rx,
                closing_rx.clone(),
                Arc::clone(&counters),
            );
            workers.push(tokio::spawn(worker.run()));
            sinks.push(Sink {
                name: config.name.clone(),
                when: config.when,
                max_bytes: config.queue_max_bytes,
                queue,
                counters,
            });
        }
        Ok(LogSinks {
            sinks,
            wants_content: configs.iter().any(|c| !c.redact_content),
            closing,
            workers: Mutex::new(workers),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Whether any sink wants message content (so the request path keeps it).
    pub fn wants_content(&self) -> bool {
        self.wants_content
    }

    /// Queues `record` for every sink that takes it; never blocks, never fails. A full
    /// queue, by count or by bytes (its sink down or too slow), drops the record and
    /// counts it.
    pub fn submit(&self, record: &Arc<RequestRecord>) {
        let succeeded = record.succeeded();
        let bytes = record_bytes(record);
        for sink in &self.sinks {
            if !sink.when.takes(succeeded) {
                continue;
            }
            if !sink.counters.reserve(bytes, sink.max_bytes) {
                sink.counters.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // Counted before the send so the worker's decrement never sees it missing.
            sink.counters.queued.fetch_add(1, Ordering::Relaxed);
            if sink.queue.try_send(Arc::clone(record)).is_err() {
                sink.counters.settle(1, bytes, false);
            }
        }
    }

    /// Delivers what is queued, within `timeout`; true when everything went out. Records
    /// submitted after this are dropped (and counted).
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.closing.send_replace(true);
        let workers = match self.workers.lock() {
            Ok(mut workers) => std::mem::take(&mut *workers),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        let all = async {
            let mut clean = true;
            for worker in workers {
                clean &= worker.await.unwrap_or(false);
            }
            clean
        };
        let finished = tokio::time::timeout(timeout, all).await.unwrap_or(false);
        let left: u64 = self
            .sinks
            .iter()
            .map(|s| s.counters.queued.load(Ordering::Relaxed))
            .sum();
        if left > 0 {
            tracing::warn!(
                records = left,
                "request-log sinks: records not delivered at shutdown"
            );
        }
        finished && left == 0
    }

    pub fn stats(&self) -> Vec<SinkStats> {
        self.sinks
            .iter()
            .map(|sink| SinkStats {
                name: sink.name.clone(),
                delivered: sink.counters.delivered.load(Ordering::Relaxed),
                dropped: sink.counters.dropped.load(Ordering::Relaxed),
                failed_attempts: sink.counters.failed_attempts.load(Ordering::Relaxed),
                queued: sink.counters.queued.load(Ordering::Relaxed),
            })
            .collect()
    }
}
