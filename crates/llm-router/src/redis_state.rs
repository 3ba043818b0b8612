//! Router state shared by every gateway instance through Redis: cooldowns (breaker open,
//! half-open probe), requests and tokens of the current minute, latency averages.
//! Requests in flight stay per process.
//!
//! Round trips: admitting a request is one atomic script ([`SharedState::begin`]) that checks
//! the cooldown, claims the probe, checks rpm/tpm against the combined usage, counts the
//! request and returns the whole group's state, which refreshes this instance's views. The
//! strategies choose on those views; a view older than [`VIEW_MAX_AGE`] (an instance that was
//! idle) is refreshed by one read first. A failure is one script that records it and decides
//! the cooldown. Successes (latency) and token counts are written behind, in batches, by one
//! background task.
//!
//! When Redis is unreachable or errs, every operation falls back to the local views (so the
//! router keeps working as a single instance would), logs a warning when that starts (and at
//! most once a minute while it lasts), counts the error ([`SharedState::errors`]), and tries
//! Redis again after [`RETRY_DELAY`].

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{Script, ToRedisArgs};
use deadpool_redis::{Config, Pool, Runtime};
use futures_util::future::BoxFuture;
use llm_types::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::breaker::Admission;
use crate::breaker::{BreakerPolicy, counts_against_deployment};
use crate::redis_scripts::{Scripts, parse_group};
use crate::settings::RedisSettings;
use crate::shared::{Attempt, LocalState, SharedState, Verdict};
use crate::state::{DeploymentState, EWMA_WEIGHT};

/// How long one operation may take before Redis counts as unreachable.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(500);
/// After an error, how long the router stays on local state before trying Redis again.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);
/// A view older than this is refreshed before a choice (steady traffic keeps views fresh
/// through the admission round trips themselves).
pub const VIEW_MAX_AGE: Duration = Duration::from_secs(1);
/// While Redis stays unreachable, one warning per this long.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// Writes waiting for the background writer; beyond, they are dropped (views still count).
const WRITE_QUEUE: usize = 8192;
/// Writes per batch (one script call).
const WRITE_BATCH: usize = 256;

/// Router state in Redis, with local views.
#[derive(Debug)]
pub struct RedisState {
    link: Arc<Link>,
    views: LocalState,
    writer: OnceLock<mpsc::Sender<Write>>,
    view_max_age: Duration,
    /// Seed and counter of the unique members of the failure sets.
    nonce: (u64, AtomicU64),
}

/// The connection and what is known of its health; shared with the background writer.
#[derive(Debug)]
struct Link {
    pool: Pool,
    /// One multiplexed connection serves every request; the pool makes a new one when it
    /// breaks. (Taking a connection from the pool per operation would cost a PING each.)
    connection: Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    endpoint: String,
    scripts: Scripts,
    health: Health,
}

#[derive(Debug)]
enum Write {
    Latency {
        id: Arc<str>,
        stream: bool,
        micros: u64,
    },
    Tokens {
        id: Arc<str>,
        tokens: u64,
    },
    /// Acknowledged once every write queued before it was sent.
    Flush(oneshot::Sender<()>),
}

impl RedisState {
    /// A state on the Redis of `settings`. Creates the pool without connecting (no IO).
    pub fn new(settings: &RedisSettings) -> Result<RedisState, String> {
        let endpoint = settings.endpoint()?;
        let pool = Config::from_url(settings.url.clone())
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| format!("Redis pool: {e}"))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Ok(RedisState {
            link: Arc::new(Link {
                pool,
                connection: Mutex::new(None),
                prefix: settings.key_prefix.clone(),
                endpoint,
                scripts: Scripts::new(),
                health: Health::default(),
            }),
            views: LocalState::new(),
            writer: OnceLock::new(),
            view_max_age: VIEW_MAX_AGE,
            nonce: (seed, AtomicU64::new(0)),
        })
    }

    /// How old a view may get before a choice refreshes it first (tests: zero, every choice
    /// on fresh numbers).
    pub fn with_view_max_age(mut self, max_age: Duration) -> Self {
        self.view_max_age = max_age;
        self
    }

    /// Whether the last operation reached Redis.
    pub fn reachable(&self) -> bool {
        lock(&self.link.health.inner).down_since.is_none()
    }

    /// Queues a write for the background writer, started on first use (it needs a runtime).
    fn write(&self, write: Write) -> bool {
        let sender = match self.writer.get() {
            Some(sender) => sender,
            None => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return false;
                };
                self.writer.get_or_init(|| {
                    let (sender, receiver) = mpsc::channel(WRITE_QUEUE);
                    runtime.spawn(write_behind(self.link.clone(), receiver));
                    sender
                })
            }
        };
        sender.try_send(write).is_ok()
    }

    fn mirror(group: &[&DeploymentState], reply: &[i64], head: usize) {
        let now = Instant::now();
        match parse_group(reply, head) {
            Some(snapshots) if snapshots.len() == group.len() => {
                for (state, snapshot) in group.iter().zip(&snapshots) {
                    state.mirror(now, snapshot);
                }
            }
            _ => tracing::warn!(?reply, "unexpected reply from a router state script"),
        }
    }
}

impl SharedState for RedisState {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn deployment(&self, id: &str) -> Arc<DeploymentState> {
        self.views.deployment(id)
    }

    fn refresh<'a>(&'a self, group: &'a [&'a DeploymentState]) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let now = Instant::now();
            if !group.iter().any(|s| s.stale(now, self.view_max_age)) {
                return;
            }
            let mut args = vec![self.link.prefix.as_str()];
            args.extend(group.iter().map(|s| s.id()));
            if let Some(reply) = self.link.run(&self.link.scripts.read, &args).await {
                RedisState::mirror(group, &reply, 0);
            }
        })
    }

    fn begin<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let limits = [attempt.rpm, attempt.tpm].map(|l| l.unwrap_or(0).to_string());
            let mut args = vec![
                self.link.prefix.as_str(),
                attempt.chosen.id(),
                if attempt.forced { "1" } else { "0" },
                &limits[0],
                &limits[1],
            ];
            args.extend(attempt.group.iter().map(|s| s.id()));
            let Some(reply) = self.link.run(&self.link.scripts.begin, &args).await else {
                return LocalState::begin_now(&attempt);
            };
            RedisState::mirror(attempt.group, &reply, 1);
            match reply.first() {
                Some(0) => Verdict::Admitted(Admission::Yes),
                Some(1) => Verdict::Admitted(Admission::Probe),
                _ => Verdict::Refused,
            }
        })
    }

    fn failed<'a>(
        &'a self,
        state: &'a DeploymentState,
        kind: ErrorKind,
        policy: &'a BreakerPolicy,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if !counts_against_deployment(kind) {
                return state.failed(Instant::now(), kind, policy);
            }
            let at_once = matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Authentication | ErrorKind::PermissionDenied
            );
            let numbers = [
                policy.allowed_fails.to_string(),
                policy.cooldown.as_millis().to_string(),
                format!(
                    "{:x}-{}",
                    self.nonce.0,
                    self.nonce.1.fetch_add(1, Ordering::Relaxed)
                ),
            ];
            let args = [
                self.link.prefix.as_str(),
                state.id(),
                if at_once { "1" } else { "0" },
                &numbers[0],
                &numbers[1],
                &numbers[2],
            ];
            match self.link.run(&self.link.scripts.fail, &args).await {
                Some(reply) => {
                    RedisState::mirror(&[state], &reply, 1);
                    // Opened now, or already cooling down (maybe through another instance).
                    reply.first() == Some(&1) || state.cooling_until(Instant::now()).is_some()
                }
                None => state.failed(Instant::now(), kind, policy),
            }
        })
    }

    fn succeeded(&self, state: &DeploymentState, latency: Duration, stream: bool) {
        state.succeeded(Instant::now(), latency, stream);
        self.write(Write::Latency {
            id: state.id_arc(),
            stream,
            micros: latency.as_micros().max(1) as u64,
        });
    }

    fn add_tokens(&self, state: &DeploymentState, tokens: u64) {
        state.add_tokens(Instant::now(), tokens);
        if tokens > 0 {
            self.write(Write::Tokens {
                id: state.id_arc(),
                tokens,
            });
        }
    }

    /// Waits until every success and token count recorded so far was written.
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (done, wait) = oneshot::channel();
            if self.write(Write::Flush(done)) {
                let _ = wait.await;
            }
        })
    }

    fn errors(&self) -> u64 {
        self.link.health.errors.load(Ordering::Relaxed)
    }
}

impl Link {
    /// Runs `script` with `args`: `None` when Redis is (known to be) unreachable or errs.
    async fn run<A: ToRedisArgs + Sync>(&self, script: &Script, args: &[A]) -> Option<Vec<i64>> {
        if !self.health.usable(Instant::now()) {
            return None;
        }
        let call = async {
            let mut connection = self.connection().await?;
            let mut invocation = script.prepare_invoke();
            for arg in args {
                invocation.arg(arg);
            }
            invocation
                .invoke_async::<Vec<i64>>(&mut connection)
                .await
                .map_err(|e| e.to_string())
        };
        let outcome = match tokio::time::timeout(OPERATION_TIMEOUT, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no answer within {}ms",
                OPERATION_TIMEOUT.as_millis()
            )),
        };
        match outcome {
            Ok(reply) => {
                self.health.succeeded(&self.endpoint);
                Some(reply)
            }
            Err(error) => {
                // The connection may be broken: the next try gets a new one from the pool.
                *lock(&self.connection) = None;
                self.health.failed(Instant::now(), &self.endpoint, &error);
                None
            }
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        if let Some(connection) = lock(&self.connection).clone() {
            return Ok(connection);
        }
        let object = self.pool.get().await.map_err(|e| e.to_string())?;
        let connection = deadpool_redis::Connection::take(object);
        *lock(&self.connection) = Some(connection.clone());
        Ok(connection)
    }
}

/// The background writer: batches of successes and token counts, one script call each.
/// Ends when the [`RedisState`] is dropped (its sender with it), after the last batch.
async fn write_behind(link: Arc<Link>, mut receiver: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let weight = EWMA_WEIGHT.to_string();
    while receiver.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let mut args: Vec<String> = vec![link.prefix.clone(), weight.clone()];
        let mut flushed = Vec::new();
        for write in batch.drain(..) {
            match write {
                Write::Latency { id, stream, micros } => {
                    let what = if stream { "ttft" } else { "full" };
                    args.extend([id.to_string(), what.to_owned(), micros.to_string()]);
                }
                Write::Tokens { id, tokens } => {
                    args.extend([id.to_string(), "tok".to_owned(), tokens.to_string()]);
                }
                Write::Flush(done) => flushed.push(done),
            }
        }
        if args.len() > 2 {
            // On failure the batch is lost: latency samples and token counts are estimates
            // that the next batches correct, and the views kept them locally.
            let _ = link.run(&link.scripts.record, &args).await;
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

/// Whether Redis answers, with rate-limited logging of the transitions.
#[derive(Debug, Default)]
struct Health {
    errors: AtomicU64,
    inner: Mutex<HealthState>,
}

#[derive(Debug, Default)]
struct HealthState {
    down_since: Option<Instant>,
    retry_at: Option<Instant>,
    last_warning: Option<Instant>,
    errors_since_warning: u64,
}

impl Health {
    fn usable(&self, now: Instant) -> bool {
        lock(&self.inner).retry_at.is_none_or(|at| now >= at)
    }

    fn failed(&self, now: Instant, endpoint: &str, error: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut state = lock(&self.inner);
        state.retry_at = Some(now + RETRY_DELAY);
        state.errors_since_warning += 1;
        let first = state.down_since.is_none();
        if first || state.last_warning.is_none_or(|at| now >= at + WARN_EVERY) {
            tracing::warn!(
                redis = endpoint,
                error,
                errors = state.errors_since_warning,
                "Redis for shared router state is unreachable: routing on this instance's \
                 local state until it is back"
            );
            state.last_warning = Some(now);
            state.errors_since_warning = 0;
        }
        state.down_since.get_or_insert(now);
    }

    fn succeeded(&self, endpoint: &str) {
        let mut state = lock(&self.inner);
        if let Some(since) = state.down_since.take() {
            tracing::warn!(
                redis = endpoint,
                down_for_s = since.elapsed().as_secs(),
                "Redis for shared router state is reachable again: router state is shared again"
            );
            state.retry_at = None;
            state.errors_since_warning = 0;
        }
    }
}

/// Locks a mutex, recovering from poisoning (nothing here is left half-updated).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod tests;
