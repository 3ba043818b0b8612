//! [`Limiter`]: Redis when configured, else this process's counters. When Redis errs or does
//! not answer in time, the error is counted ([`Limiter::redis_errors`]), a warning is logged
//! (at most once per [`WARN_EVERY`]), Redis is left alone for [`RETRY_DELAY`], and meanwhile
//! requests are admitted on the local limiter (fail-open) or refused with
//! [`Denial::Unavailable`] (fail-closed). A ticket settles on the backend that admitted it;
//! a Redis settle that fails is lost for Redis: its slot and reservation expire, and the
//! shared spend counter misses that cost until it is next created from the seed (the spend
//! log in SQL, written by the journal, still has it).

use llm_types::money::NanoDollars;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    AdmitRequest, Backend, Decision, Denial, LimitSettings, LocalLimiter, RedisLimitError,
    RedisLimiter, Settled, Ticket,
};

/// While Redis keeps failing, one warning per this long.
pub const WARN_EVERY: Duration = Duration::from_secs(10);
/// After an error, how long Redis is not asked.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Rate limits and budget reservations of the gateway. Cheap to clone (one shared state).
#[derive(Debug, Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    local: LocalLimiter,
    redis: Option<RedisLimiter>,
    fail_open: bool,
    errors: AtomicU64,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    retry_at: Option<Instant>,
    last_warning: Option<Instant>,
    errors_since_warning: u64,
}

impl Limiter {
    /// This process's counters only.
    pub fn local(settings: LimitSettings) -> Limiter {
        Limiter::build(settings, None)
    }

    /// Shared counters in the Redis of `pool` (no IO until the first request).
    pub fn with_redis(pool: deadpool_redis::Pool, settings: LimitSettings) -> Limiter {
        let redis = RedisLimiter::new(pool, settings.clone());
        Limiter::build(settings, Some(redis))
    }

    /// Shared counters in the Redis at `url` (`redis://host:port/db`; no IO yet).
    pub fn with_redis_url(url: &str, settings: LimitSettings) -> Result<Limiter, RedisLimitError> {
        let redis = RedisLimiter::from_url(url, settings.clone())?;
        Ok(Limiter::build(settings, Some(redis)))
    }

    fn build(settings: LimitSettings, redis: Option<RedisLimiter>) -> Limiter {
        Limiter {
            inner: Arc::new(Inner {
                fail_open: settings.fail_open,
                local: LocalLimiter::new(settings),
                redis,
                errors: AtomicU64::new(0),
                health: Mutex::default(),
            }),
        }
    }

    /// Whether the limiter's Redis answers a PING in time; `None` without Redis.
    pub async fn redis_ready(&self) -> Option<Result<(), String>> {
        let redis = self.inner.redis.as_ref()?;
        Some(redis.ping().await.map_err(|e| e.to_string()))
    }

    /// Whether requests are refused while Redis fails (`rate_limit_fail_mode: closed`).
    pub fn fail_closed(&self) -> bool {
        !self.inner.fail_open
    }

    /// `redis` or `local`: where admissions go while Redis answers.
    pub fn backend_name(&self) -> &'static str {
        if self.inner.redis.is_some() {
            "redis"
        } else {
            "local"
        }
    }

    /// Checks every scope of the request and, when all pass, counts it everywhere.
    pub async fn admit(&self, req: AdmitRequest<'_>) -> Decision {
        if let Some(redis) = self.inner.usable_redis() {
            match redis.admit(&req).await {
                Ok(decision) => {
                    self.inner.succeeded();
                    return decision;
                }
                Err(error) => self.inner.failed(&error),
            }
        }
        if self.inner.redis.is_some() && !self.inner.fail_open {
            return Decision::Denied(Denial::Unavailable);
        }
        self.inner.local.admit(&req)
    }

    /// Exactly once per admitted request (also on failure, with tokens 0 / cost 0): releases
    /// the reservation and the parallel slot, adds `tokens` to the tpm window and `cost` to
    /// every budget. Returns the soft budgets this settle crossed.
    pub async fn settle(
        &self,
        ticket: Ticket,
        tokens: u64,
        cost: NanoDollars,
        now_ms: i64,
    ) -> Settled {
        match (ticket.backend, &self.inner.redis) {
            (Backend::Redis, Some(redis)) => {
                match redis.settle(&ticket, tokens, cost, now_ms).await {
                    Ok(settled) => {
                        self.inner.succeeded();
                        settled
                    }
                    Err(error) => {
                        self.inner.failed(&error);
                        Settled::default()
                    }
                }
            }
            _ => self.inner.local.settle(&ticket, tokens, cost, now_ms),
        }
    }

    /// Current spend of a budget scope for a period (`None`: not counted yet). From Redis
    /// when configured and answering, else from this process.
    pub async fn spent(&self, scope_id: &str, period_end_ms: Option<i64>) -> Option<NanoDollars> {
        if let Some(redis) = self.inner.usable_redis() {
            match redis.spent(scope_id, period_end_ms).await {
                Ok(spent) => {
                    self.inner.succeeded();
                    return spent;
                }
                Err(error) => self.inner.failed(&error),
            }
        }
        self.inner.local.spent(scope_id, period_end_ms)
    }

    /// Redis calls that failed or timed out since start (a metric).
    pub fn redis_errors(&self) -> u64 {
        self.inner.errors.load(Ordering::Relaxed)
    }
}

impl Inner {
    /// Redis, unless it failed less than [`RETRY_DELAY`] ago.
    fn usable_redis(&self) -> Option<&RedisLimiter> {
        let redis = self.redis.as_ref()?;
        let health = lock(&self.health);
        health
            .retry_at
            .is_none_or(|at| Instant::now() >= at)
            .then_some(redis)
    }

    fn failed(&self, error: &RedisLimitError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut health = lock(&self.health);
        health.retry_at = Some(now + RETRY_DELAY);
        health.errors_since_warning += 1;
        if health
            .last_warning
            .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
        {
            let fallback = if self.fail_open {
                "admitting on this instance's local limits"
            } else {
                "refusing requests (fail-closed)"
            };
            tracing::warn!(
                %error,
                errors = health.errors_since_warning,
                "Redis for rate limits and budgets failed: {fallback} until it answers again"
            );
            health.last_warning = Some(now);
            health.errors_since_warning = 0;
        }
    }

    fn succeeded(&self) {
        let mut health = lock(&self.health);
        if health.retry_at.take().is_some() {
            tracing::warn!(
                "Redis for rate limits and budgets answers again: limits are shared again"
            );
        }
    }
}

/// Locks a mutex, recovering from poisoning (it only holds timestamps).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
