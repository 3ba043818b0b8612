//! Shared by the limiter tests: the real Redis on 127.0.0.1:6379 (its availability check and a
//! key prefix per test) and scope builders.
#![allow(dead_code)]

use deadpool_redis::{Config, Runtime};
use llm_policy::limits::{Budget, LimitSettings, Limiter, ScopeKind, ScopeLimits};
use llm_types::money::NanoDollars;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const URL: &str = "redis://127.0.0.1:6379";

/// A window-aligned test clock origin (the limiter takes the caller's time).
pub const T: i64 = 1_000 * 60_000;

/// Whether Redis is there; without it the test fails saying how to start it, unless
/// `LLMGW_SKIP_REDIS_TESTS=1` asks to skip.
pub fn redis_available() -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 6379));
    if std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok() {
        return true;
    }
    if std::env::var("LLMGW_SKIP_REDIS_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: Redis is not reachable on 127.0.0.1:6379 and \
             LLMGW_SKIP_REDIS_TESTS=1: the Redis rate limits and budgets are NOT tested !!!!!!!!\n"
        );
        return false;
    }
    panic!(
        "Redis is not reachable on 127.0.0.1:6379. Start it with \
         `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
         (or set LLMGW_SKIP_REDIS_TESTS=1 to skip the Redis tests)"
    );
}

/// A key prefix no other test (or run) uses.
pub fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "llmgw-test:limits:{test}:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn settings(prefix: &str) -> LimitSettings {
    LimitSettings {
        key_prefix: prefix.to_owned(),
        // Generous: the tests run beside others on two cores.
        redis_timeout: Duration::from_secs(2),
        ..LimitSettings::default()
    }
}

/// A limiter on its own pool (one gateway instance).
pub fn redis_limiter(prefix: &str) -> Limiter {
    Limiter::with_redis_url(URL, settings(prefix)).unwrap()
}

pub async fn connection() -> deadpool_redis::Connection {
    let pool = Config::from_url(URL)
        .create_pool(Some(Runtime::Tokio1))
        .unwrap();
    pool.get().await.unwrap()
}

/// The test's keys.
pub async fn keys(prefix: &str) -> Vec<String> {
    let mut connection = connection().await;
    deadpool_redis::redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap()
}

/// Deletes the test's keys (they would expire anyway).
pub async fn clean(prefix: &str) {
    let keys = keys(prefix).await;
    if !keys.is_empty() {
        let mut connection = connection().await;
        let _: i64 = deadpool_redis::redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}

pub fn scope(id: &str, kind: ScopeKind) -> ScopeLimits {
    ScopeLimits::new(id, kind)
}

pub fn rpm(mut scope: ScopeLimits, n: u64) -> ScopeLimits {
    scope.rpm = Some(n);
    scope
}

pub fn tpm(mut scope: ScopeLimits, n: u64) -> ScopeLimits {
    scope.tpm = Some(n);
    scope
}

pub fn parallel(mut scope: ScopeLimits, n: u64) -> ScopeLimits {
    scope.max_parallel = Some(n);
    scope
}

/// A budget of `max` nano-dollars (`None`: tracked only) ending at `period_end`.
pub fn budget(
    mut scope: ScopeLimits,
    max: Option<i64>,
    soft: Option<i64>,
    period_end: Option<i64>,
    seed: i64,
) -> ScopeLimits {
    scope.budget = Some(Budget {
        max: max.map(NanoDollars),
        soft: soft.map(NanoDollars),
        period_end_ms: period_end,
        seed: NanoDollars(seed),
    });
    scope
}
