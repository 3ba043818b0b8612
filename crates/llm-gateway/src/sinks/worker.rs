//! One sink's background worker: takes records off its queue in batches (full, or when the
//! flush interval since the batch's first record ran out), delivers each batch with bounded
//! retries and exponential backoff, and counts the outcome. While it retries, new records
//! wait in the bounded queue (beyond it the submitter drops them): a dead sink never grows
//! memory without bound.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::Counters;
use super::deliver::Destination;
use crate::config::SinkConfig;
use crate::request_log::RequestRecord;

/// Waits are capped (a day) so deadline and backoff arithmetic cannot overflow.
const LONGEST_WAIT: Duration = Duration::from_secs(86_400);

pub(super) struct Worker {
    name: String,
    destination: Destination,
    queue: mpsc::Receiver<Arc<RequestRecord>>,
    closing: watch::Receiver<bool>,
    counters: Arc<Counters>,
    batch_size: usize,
    flush_interval: Duration,
    max_retries: u32,
    backoff: Duration,
    max_backoff: Duration,
}

impl Worker {
    pub(super) fn new(
        config: &SinkConfig,
        destination: Destination,
        queue: mpsc::Receiver<Arc<RequestRecord>>,
        closing: watch::Receiver<bool>,
        counters: Arc<Counters>,
    ) -> Worker {
        Worker {
            name: config.name.clone(),
            destination,
            queue,
            closing,
            counters,
            batch_size: config.batch_size.max(1),
            flush_interval: config.flush_interval.min(LONGEST_WAIT),
            max_retries: config.max_retries,
            backoff: config.backoff.min(LONGEST_WAIT),
            max_backoff: config.max_backoff.max(config.backoff).min(LONGEST_WAIT),
        }
    }

    /// Runs until shutdown has been asked for and the queue is empty (or every submitter is
    /// gone). Returns whether every batch of the final drain was delivered.
    pub(super) async fn run(mut self) -> bool {
        let mut closing = false;
        let mut clean = true;
        loop {
            let mut batch = Vec::with_capacity(self.batch_size.min(1024));
            if closing {
                // No new records from now on (submitters count them as dropped); what is
                // already queued still goes out, a batch at a time.
                self.queue.close();
                while batch.len() < self.batch_size {
                    match self.queue.try_recv() {
                        Ok(record) => batch.push(record),
                        Err(_) => break,
                    }
                }
                if batch.is_empty() {
                    return clean;
                }
                clean &= self.deliver(batch).await;
                continue;
            }
            tokio::select! {
                received = self.queue.recv_many(&mut batch, self.batch_size) => {
                    if received == 0 {
                        return clean; // every submitter is gone
                    }
                }
                // An error means the owner is gone: drain and stop as well.
                _ = self.closing.wait_for(|c| *c) => {
                    closing = true;
                    continue;
                }
            }
            let deadline = Instant::now() + self.flush_interval;
            while batch.len() < self.batch_size {
                let room = self.batch_size - batch.len();
                tokio::select! {
                    received = self.queue.recv_many(&mut batch, room) => {
                        if received == 0 {
                            break;
                        }
                    }
                    () = tokio::time::sleep_until(deadline) => break,
                    _ = self.closing.wait_for(|c| *c) => {
                        closing = true;
                        break;
                    }
                }
            }
            // Failures before shutdown are counted, not reported to it.
            let delivered = self.deliver(batch).await;
            if closing || *self.closing.borrow() {
                clean &= delivered;
            }
        }
    }

    /// Delivers one batch, retrying what may succeed later; settles its records as delivered
    /// or dropped. Returns whether it was delivered.
    async fn deliver(&mut self, batch: Vec<Arc<RequestRecord>>) -> bool {
        let count = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        let bytes = batch.iter().map(|r| super::record_bytes(r)).sum();
        let body = self.destination.encode(&batch);
        drop(batch);
        let mut delay = self.backoff;
        let mut retries = 0;
        loop {
            let error = match self.destination.send(body.clone()).await {
                Ok(()) => {
                    self.counters.settle(count, bytes, true);
                    return true;
                }
                Err(error) => error,
            };
            self.counters
                .failed_attempts
                .fetch_add(1, Ordering::Relaxed);
            if !error.retryable || retries >= self.max_retries {
                tracing::warn!(
                    sink = %self.name,
                    records = count,
                    retries,
                    error = %error.message,
                    "request-log sink: delivery failed; batch dropped"
                );
                self.counters.settle(count, bytes, false);
                return false;
            }
            tracing::debug!(sink = %self.name, error = %error.message, ?delay, "request-log sink: delivery failed; retrying");
            retries += 1;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.max_backoff);
        }
    }
}
