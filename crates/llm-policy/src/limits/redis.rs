//! The Redis limiter: the counters every gateway instance shares, changed by one atomic Lua
//! script per admit and one per settle (see [`super::scripts`] and the key table in
//! [`super`]). Every call has a deadline ([`LimitSettings::redis_timeout`]); errors are
//! returned to the facade, which decides between falling back and refusing.

use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{Script, ToRedisArgs};
use deadpool_redis::{Config, Pool, Runtime};
use llm_types::money::NanoDollars;
use std::sync::Mutex;
use std::time::Duration;

use super::rules::{self, Observed, SettledScope, Verdict};
use super::scripts::{ADMIT_FIELDS, FIXED_ARGS, SETTLE_FIELDS, Scripts};
use super::{AdmitRequest, Admitted, Backend, Decision, Denial, LimitSettings, Settled, Ticket};

/// Why a Redis call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisLimitError {
    #[error("Redis: {0}")]
    Redis(String),
    #[error("no answer from Redis within {0:?}")]
    Timeout(Duration),
    #[error("unexpected reply from a limit script: {0}")]
    Reply(String),
}

/// Rate limits and budgets shared through Redis.
#[derive(Debug)]
pub struct RedisLimiter {
    pool: Pool,
    /// One multiplexed connection serves every call; a broken one is replaced from the pool
    /// (taking a connection from the pool per call would cost a PING each).
    connection: Mutex<Option<MultiplexedConnection>>,
    settings: LimitSettings,
    scripts: Scripts,
}

impl RedisLimiter {
    pub fn new(pool: Pool, settings: LimitSettings) -> RedisLimiter {
        RedisLimiter {
            pool,
            connection: Mutex::new(None),
            settings,
            scripts: Scripts::new(),
        }
    }

    /// A limiter on a `redis://` URL; creates the pool without connecting (no IO).
    pub fn from_url(url: &str, settings: LimitSettings) -> Result<RedisLimiter, RedisLimitError> {
        let pool = Config::from_url(url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| RedisLimitError::Redis(e.to_string()))?;
        Ok(RedisLimiter::new(pool, settings))
    }

    /// Checks every scope and, when all pass, counts the request everywhere: one script.
    pub async fn admit(&self, req: &AdmitRequest<'_>) -> Result<Decision, RedisLimitError> {
        let now = req.now_ms;
        let reserve = req.reserve.0.max(0);
        let mut args: Vec<String> =
            Vec::with_capacity(FIXED_ARGS + req.scopes.len() * ADMIT_FIELDS);
        args.extend([
            self.settings.key_prefix.clone(),
            req.request_id.to_owned(),
            now.to_string(),
            reserve.to_string(),
            rules::millis(self.settings.slot_ttl).max(1).to_string(),
            rules::millis(self.settings.reservation_ttl)
                .max(1)
                .to_string(),
            rules::window_ttl_ms(now, now).to_string(),
        ]);
        let optional = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        for scope in req.scopes {
            let budget = scope.budget;
            args.extend([
                scope.id.clone(),
                optional(scope.rpm),
                optional(scope.tpm),
                optional(scope.max_parallel),
                if budget.is_some() { "1" } else { "0" }.to_owned(),
                budget
                    .and_then(|b| b.max)
                    .map_or_else(|| "-".to_owned(), |max| max.0.to_string()),
                budget.map_or(0, |b| b.seed.0).to_string(),
                rules::period_key(budget.and_then(|b| b.period_end_ms)),
                rules::spend_ttl_ms(budget.and_then(|b| b.period_end_ms), now).to_string(),
            ]);
        }
        let reply = self.run(&self.scripts.admit, &args).await?;
        let observed = parse_observed(&reply, req.scopes.len())?;
        let refused = reply.first() == Some(&1);
        Ok(match (refused, rules::evaluate(req, &observed)) {
            (false, Verdict::Admit(headers)) => Decision::Admitted(Admitted {
                ticket: rules::ticket(req, Backend::Redis),
                headers,
            }),
            (true, Verdict::Refuse(denial)) => Decision::Denied(denial),
            // The script and the rules disagree (a bug): say so, and follow the script,
            // which is what Redis now holds.
            (false, Verdict::Refuse(denial)) => {
                tracing::warn!(?denial, "limit script admitted what the rules refuse");
                Decision::Admitted(Admitted {
                    ticket: rules::ticket(req, Backend::Redis),
                    headers: Default::default(),
                })
            }
            (true, Verdict::Admit(_)) => {
                tracing::warn!(?observed, "limit script refused what the rules admit");
                Decision::Denied(Denial::Unavailable)
            }
        })
    }

    /// Releases what the ticket holds and counts its tokens and cost: one script,
    /// idempotent by request id.
    pub async fn settle(
        &self,
        ticket: &Ticket,
        tokens: u64,
        cost: NanoDollars,
        now_ms: i64,
    ) -> Result<Settled, RedisLimitError> {
        let mut args: Vec<String> =
            Vec::with_capacity(FIXED_ARGS + ticket.scopes.len() * SETTLE_FIELDS);
        args.extend([
            self.settings.key_prefix.clone(),
            ticket.request_id.clone(),
            rules::window(ticket.admitted_ms).to_string(),
            tokens.to_string(),
            cost.0.max(0).to_string(),
            rules::settled_ttl_ms(&self.settings, ticket.admitted_ms, now_ms).to_string(),
            rules::window_ttl_ms(ticket.admitted_ms, now_ms).to_string(),
        ]);
        let flag = |on: bool| if on { "1" } else { "0" }.to_owned();
        for scope in &ticket.scopes {
            let period = scope.budget.and_then(|b| b.period_end_ms);
            args.extend([
                scope.id.clone(),
                flag(scope.tpm),
                flag(scope.parallel),
                flag(scope.budget.is_some()),
                scope.budget.map_or(0, |b| b.seed.0).to_string(),
                rules::period_key(period),
                rules::spend_ttl_ms(period, now_ms).to_string(),
            ]);
        }
        let reply = self.run(&self.scripts.settle, &args).await?;
        if reply.first() == Some(&1) {
            return Ok(Settled {
                soft_crossed: Vec::new(),
                duplicate: true,
            });
        }
        if reply.len() != 1 + 2 * ticket.scopes.len() {
            return Err(RedisLimitError::Reply(format!("{reply:?}")));
        }
        let spends: Vec<SettledScope> = reply[1..]
            .chunks_exact(2)
            .map(|pair| SettledScope {
                before: pair[0],
                after: pair[1],
            })
            .collect();
        Ok(Settled {
            soft_crossed: rules::soft_crossings(ticket, &spends),
            duplicate: false,
        })
    }

    /// The shared spend counter of a scope for a period (`None`: Redis has none).
    pub async fn spent(
        &self,
        scope_id: &str,
        period_end_ms: Option<i64>,
    ) -> Result<Option<NanoDollars>, RedisLimitError> {
        let key = format!(
            "{}{scope_id}:spend:{}",
            self.settings.key_prefix,
            rules::period_key(period_end_ms)
        );
        let call = async {
            let mut connection = self.connection().await?;
            deadpool_redis::redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<i64>>(&mut connection)
                .await
                .map_err(|e| RedisLimitError::Redis(e.to_string()))
        };
        let value = self.deadline(call).await?;
        Ok(value.map(NanoDollars))
    }

    /// One PING within the deadline (readiness probes).
    pub async fn ping(&self) -> Result<(), RedisLimitError> {
        let call = async {
            let mut connection = self.connection().await?;
            deadpool_redis::redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map(drop)
                .map_err(|e| RedisLimitError::Redis(e.to_string()))
        };
        self.deadline(call).await
    }

    /// Runs a script with its arguments (EVALSHA, loading it once when Redis lacks it).
    async fn run<A: ToRedisArgs + Sync>(
        &self,
        script: &Script,
        args: &[A],
    ) -> Result<Vec<i64>, RedisLimitError> {
        let call = async {
            let mut connection = self.connection().await?;
            let mut invocation = script.prepare_invoke();
            for arg in args {
                invocation.arg(arg);
            }
            invocation
                .invoke_async::<Vec<i64>>(&mut connection)
                .await
                .map_err(|e| RedisLimitError::Redis(e.to_string()))
        };
        self.deadline(call).await
    }

    /// Bounds a call by the timeout; on any error the connection is dropped (it may be
    /// broken) and the next call takes a new one from the pool.
    async fn deadline<T>(
        &self,
        call: impl Future<Output = Result<T, RedisLimitError>>,
    ) -> Result<T, RedisLimitError> {
        let timeout = self.settings.redis_timeout;
        let outcome = match tokio::time::timeout(timeout, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(RedisLimitError::Timeout(timeout)),
        };
        if outcome.is_err() {
            *lock(&self.connection) = None;
        }
        outcome
    }

    async fn connection(&self) -> Result<MultiplexedConnection, RedisLimitError> {
        if let Some(connection) = lock(&self.connection).clone() {
            return Ok(connection);
        }
        let object = self
            .pool
            .get()
            .await
            .map_err(|e| RedisLimitError::Redis(e.to_string()))?;
        let connection = deadpool_redis::Connection::take(object);
        *lock(&self.connection) = Some(connection.clone());
        Ok(connection)
    }
}

/// The snapshot in an admit reply: five numbers per scope after the verdict.
fn parse_observed(reply: &[i64], scopes: usize) -> Result<Vec<Observed>, RedisLimitError> {
    if reply.len() != 1 + 5 * scopes {
        return Err(RedisLimitError::Reply(format!("{reply:?}")));
    }
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(reply[1..]
        .chunks_exact(5)
        .map(|s| Observed {
            requests: count(s[0]),
            tokens: count(s[1]),
            parallel: count(s[2]),
            spent: s[3],
            reserved: s[4].max(0),
        })
        .collect())
}

/// Locks a mutex, recovering from poisoning (it only caches a connection).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
