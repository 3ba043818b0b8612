//! Live state of a deployment as this process sees it: requests in flight, usage in the
//! current minute, latency averages and the circuit breaker.
//!
//! With the in-process [`crate::LocalState`] this is the state itself; with
//! [`crate::RedisState`] it is a view of the shared state, refreshed by every round trip, and
//! the state the router falls back on while Redis is unreachable. Requests in flight are
//! always counted here only (per process).
//!
//! Everything here is behind atomics or a short std `Mutex` never held across `.await`.
//! Time comes from `tokio::time::Instant`, so tests run on the paused clock.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use crate::breaker::{Admission, Breaker, BreakerPolicy, SharedBreaker};
use llm_types::ErrorKind;

pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Share of a new latency sample in the average (EWMA).
pub(crate) const EWMA_WEIGHT: f64 = 0.3;

#[derive(Debug)]
pub struct DeploymentState {
    /// The deployment's id: its key in the shared state.
    id: Arc<str>,
    in_flight: AtomicU32,
    /// Average latency of complete answers, microseconds (0 = no sample yet).
    latency_us: AtomicU64,
    /// Average time to first chunk of streams, microseconds (0 = no sample yet).
    ttft_us: AtomicU64,
    window: Mutex<MinuteWindow>,
    breaker: Mutex<Breaker>,
    /// When the shared state last refreshed this view (`None`: never).
    refreshed: Mutex<Option<Instant>>,
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

/// A deployment's shared state as one Redis round trip reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedSnapshot {
    pub breaker: SharedBreaker,
    pub requests: u64,
    pub tokens: u64,
    /// Averages in microseconds; 0 when no instance has a sample yet.
    pub latency_us: u64,
    pub ttft_us: u64,
    /// When the shared minute ends.
    pub resets_in: Duration,
}

impl DeploymentState {
    /// Empty state of deployment `id`.
    pub fn new(id: &str) -> Self {
        DeploymentState {
            id: Arc::from(id),
            in_flight: AtomicU32::new(0),
            latency_us: AtomicU64::new(0),
            ttft_us: AtomicU64::new(0),
            window: Mutex::default(),
            breaker: Mutex::default(),
            refreshed: Mutex::new(None),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id, shared (no copy of the string).
    pub fn id_arc(&self) -> Arc<str> {
        self.id.clone()
    }

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
        self.count(now, admission);
        self.enter()
    }

    /// Counts a request in the minute (and marks the probe out, if it is one).
    pub fn count(&self, now: Instant, admission: Admission) {
        lock(&self.window).current(now).requests += 1;
        if admission == Admission::Probe {
            lock(&self.breaker).probe_started();
        }
    }

    /// Counts a request in flight until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
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

    /// Takes what the shared state says (read at `now`) into this view.
    pub fn mirror(&self, now: Instant, shared: &SharedSnapshot) {
        *lock(&self.window) = MinuteWindow {
            start: Some(
                now.checked_sub(WINDOW.saturating_sub(shared.resets_in))
                    .unwrap_or(now),
            ),
            requests: shared.requests,
            tokens: shared.tokens,
        };
        // No shared sample yet: this instance's own average is still the best guess.
        for (average, shared) in [
            (&self.latency_us, shared.latency_us),
            (&self.ttft_us, shared.ttft_us),
        ] {
            if shared > 0 {
                average.store(shared, Ordering::Relaxed);
            }
        }
        lock(&self.breaker).mirror(now, shared.breaker);
        *lock(&self.refreshed) = Some(now);
    }

    /// Whether this view is older than `max_age` (or was never refreshed).
    pub fn stale(&self, now: Instant, max_age: Duration) -> bool {
        lock(&self.refreshed).is_none_or(|at| now.duration_since(at) >= max_age)
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
