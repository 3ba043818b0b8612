//! The router's state behind a trait: what one instance learns about a deployment (cooldowns,
//! usage of the current minute, latency) and, with Redis, what every instance learns.
//!
//! Two implementations: [`LocalState`] (in-process, the default) and [`crate::RedisState`]
//! (shared by every gateway instance using the same Redis and key prefix). Both hand out one
//! [`DeploymentState`] per deployment id, so routers built on the same backend (two
//! instances in a test, or the router before and after a configuration reload) see the same
//! cooldowns and counters.
//!
//! Reads are synchronous, from the [`DeploymentState`] views, so strategies never wait. Writes
//! that decide something go through the backend: [`SharedState::begin`] admits and counts a
//! request (for Redis: one atomic script that also refreshes the views of the whole group),
//! [`SharedState::failed`] records a failure and decides the cooldown. Successes and token
//! counts are written behind (Redis: batched off the request path).

use futures_util::future::BoxFuture;
use llm_types::ErrorKind;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use crate::breaker::{Admission, BreakerPolicy};
use crate::settings::RedisSettings;
use crate::state::DeploymentState;

/// A request about to start on `chosen`, a deployment of `group`.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Every deployment of the group (Redis refreshes their views in the same round trip).
    pub group: &'a [&'a DeploymentState],
    pub chosen: &'a DeploymentState,
    /// What the chosen deployment's view said.
    pub admission: Admission,
    /// Every deployment is cooling down and this one recovers first: take it anyway.
    pub forced: bool,
    /// The chosen deployment's limits, checked against the combined usage.
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

/// Whether a request may go to the chosen deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; `Probe` when it is the half-open breaker's one probe.
    Admitted(Admission),
    /// The shared state says no (cooling down, a probe is out, or over its limits); the
    /// group's views are now up to date, so pick again.
    Refused,
}

/// Where the router keeps what it learns about deployments.
pub trait SharedState: Send + Sync + fmt::Debug {
    /// `in-process` or `redis`, for logs.
    fn name(&self) -> &'static str;

    /// The live state of deployment `id`: the same for every router on this backend.
    fn deployment(&self, id: &str) -> Arc<DeploymentState>;

    /// Brings `group`'s views up to date if they may be stale (before a choice among them).
    fn refresh<'a>(&'a self, group: &'a [&'a DeploymentState]) -> BoxFuture<'a, ()>;

    /// Admits and counts a request.
    fn begin<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Verdict>;

    /// Records a failed attempt; resolves to whether the deployment is now cooling down.
    fn failed<'a>(
        &'a self,
        state: &'a DeploymentState,
        kind: ErrorKind,
        policy: &'a BreakerPolicy,
    ) -> BoxFuture<'a, bool>;

    /// Records a success after `latency` (streams: to the first chunk).
    fn succeeded(&self, state: &DeploymentState, latency: Duration, stream: bool);

    /// Adds tokens used to the deployment's minute.
    fn add_tokens(&self, state: &DeploymentState, tokens: u64);

    /// Waits until every write recorded so far reached the store (tests, shutdown).
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Operations on the shared store that failed (and fell back to local state) so far.
    fn errors(&self) -> u64 {
        0
    }
}

/// The state backend `settings` ask for: Redis when configured, else in-process. Creating
/// the Redis pool does no IO; an invalid URL is an error.
pub fn shared_state(redis: Option<&RedisSettings>) -> Result<Arc<dyn SharedState>, String> {
    Ok(match redis {
        Some(settings) => Arc::new(crate::redis_state::RedisState::new(settings)?),
        None => Arc::new(LocalState::default()),
    })
}

/// In-process state: exact for one instance, nothing shared with others.
#[derive(Debug, Default)]
pub struct LocalState {
    deployments: Mutex<HashMap<Arc<str>, Arc<DeploymentState>>>,
}

impl LocalState {
    pub fn new() -> Self {
        LocalState::default()
    }

    /// The operations of this backend, also the fallback of the Redis one.
    pub(crate) fn begin_now(attempt: &Attempt<'_>) -> Verdict {
        let admission = if attempt.forced {
            Admission::Yes
        } else {
            attempt.admission
        };
        attempt.chosen.count(Instant::now(), admission);
        Verdict::Admitted(admission)
    }
}

impl SharedState for LocalState {
    fn name(&self) -> &'static str {
        "in-process"
    }

    fn deployment(&self, id: &str) -> Arc<DeploymentState> {
        let mut map = self
            .deployments
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(Arc::from(id))
            .or_insert_with(|| Arc::new(DeploymentState::new(id)))
            .clone()
    }

    fn refresh<'a>(&'a self, _group: &'a [&'a DeploymentState]) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }

    fn begin<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Verdict> {
        Box::pin(std::future::ready(LocalState::begin_now(&attempt)))
    }

    fn failed<'a>(
        &'a self,
        state: &'a DeploymentState,
        kind: ErrorKind,
        policy: &'a BreakerPolicy,
    ) -> BoxFuture<'a, bool> {
        Box::pin(std::future::ready(state.failed(
            Instant::now(),
            kind,
            policy,
        )))
    }

    fn succeeded(&self, state: &DeploymentState, latency: Duration, stream: bool) {
        state.succeeded(Instant::now(), latency, stream);
    }

    fn add_tokens(&self, state: &DeploymentState, tokens: u64) {
        state.add_tokens(Instant::now(), tokens);
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
pub(crate) mod tests;
