//! Live state of a deployment in this process: requests in flight, usage in the current
//! minute, latency averages and the circuit breaker.
//!
//! Everything here is behind atomics or a short std `Mutex` never held across `.await`.
//! Time comes from `tokio::time::Instant`, so tests run on the paused clock. (Sharing this
//! state across instances through Redis is the next step of the router issue; the accessors
//! below are the seam.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use crate::breaker::{Admission, Breaker, BreakerPolicy};
use llm_types::ErrorKind;

const WINDOW: Duration = Duration::from_secs(60);

/// Share of a new latency sample in the average (EWMA).
const EWMA_WEIGHT: f64 = 0.3;

#[derive(Debug, Default)]
pub struct DeploymentState {
    in_flight: AtomicU32,
    /// Average latency of complete answers, microseconds (0 = no sample yet).
    latency_us: AtomicU64,
    /// Average time to first chunk of streams, microseconds (0 = no sample yet).
    ttft_us: AtomicU64,
    window: Mutex<MinuteWindow>,
    breaker: Mutex<Breaker>,
}

#[derive(Debug, Default)]
struct MinuteWindow {
    start: Option<Instant>,
    requests: u64,
    tokens: u64,
}

impl MinuteWindow {
    /// Resets the counters when the minute is over.
    fn current(&mut self, now: Instant) -> &mut Self {
        if self
            .start
            .is_none_or(|start| now.duration_since(start) >= WINDOW)
        {
            *self = MinuteWindow {
                start: Some(now),
                requests: 0,
                tokens: 0,
            };
        }
        self
    }
}

/// Usage of the current minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteUsage {
    pub requests: u64,
    pub tokens: u64,
    /// When the current minute ends.
    pub resets_in: Duration,
}

impl DeploymentState {
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Average latency (streams: time to first chunk); `None` before the first sample.
    pub fn latency(&self, stream: bool) -> Option<Duration> {
        let micros = if stream {
            &self.ttft_us
        } else {
            &self.latency_us
        }
        .load(Ordering::Relaxed);
        (micros > 0).then(|| Duration::from_micros(micros))
    }

    pub fn minute_usage(&self, now: Instant) -> MinuteUsage {
        let mut window = lock(&self.window);
        let window = window.current(now);
        let start = window.start.unwrap_or(now);
        MinuteUsage {
            requests: window.requests,
            tokens: window.tokens,
            resets_in: WINDOW.saturating_sub(now.duration_since(start)),
        }
    }

    /// Whether the breaker lets a request through now.
    pub fn admission(&self, now: Instant) -> Admission {
        lock(&self.breaker).admission(now)
    }

    /// A request starts on this deployment: counts it in flight and in the minute.
    pub fn start(&self, now: Instant, admission: Admission) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        lock(&self.window).current(now).requests += 1;
        if admission == Admission::Probe {
            lock(&self.breaker).probe_started();
        }
        InFlight { state: self }
    }

    /// Adds tokens used (known once the answer is complete).
    pub fn add_tokens(&self, now: Instant, tokens: u64) {
        lock(&self.window).current(now).tokens += tokens;
    }

    /// A successful answer after `latency` (streams: to the first chunk).
    pub fn succeeded(&self, now: Instant, latency: Duration, stream: bool) {
        let average = if stream {
            &self.ttft_us
        } else {
            &self.latency_us
        };
        let sample = latency.as_micros().max(1) as f64;
        let old = average.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            old as f64 * (1.0 - EWMA_WEIGHT) + sample * EWMA_WEIGHT
        };
        average.store(new as u64, Ordering::Relaxed);
        lock(&self.breaker).succeeded(now);
    }

    /// A failed attempt; returns whether the deployment is now cooling down.
    pub fn failed(&self, now: Instant, kind: ErrorKind, policy: &BreakerPolicy) -> bool {
        lock(&self.breaker).failed(now, kind, policy)
    }

    /// When a cooldown ends, if one is running.
    pub fn cooling_until(&self, now: Instant) -> Option<Instant> {
        match self.admission(now) {
            Admission::No { until } => Some(until),
            _ => None,
        }
    }
}

/// Guard of a request in flight; dropping it (even by cancellation) decrements the count.
#[derive(Debug)]
pub struct InFlight<'a> {
    state: &'a DeploymentState,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Locks a mutex, recovering from poisoning: the counters stay usable after a panic
/// elsewhere, and nothing here can be left half-updated in a way that matters.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
