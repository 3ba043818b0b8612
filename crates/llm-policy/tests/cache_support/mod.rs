//! Shared by the response-cache tests: the real Redis on 127.0.0.1:6379 (its availability
//! check and a key prefix per test), raw Redis access to look behind the cache, and the
//! backends under test.
#![allow(dead_code)]

use deadpool_redis::{Config, Runtime, redis};
use llm_policy::cache::ResponseCache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const URL: &str = "redis://127.0.0.1:6379";

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
             LLMGW_SKIP_REDIS_TESTS=1: the Redis response cache is NOT tested !!!!!!!!\n"
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
        "llmgw-test:cache:{test}:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A Redis cache on `prefix`, with a generous timeout: the tests run beside others on two
/// cores, and a slow answer must not pass for a miss.
pub fn redis_cache(prefix: &str, default_ttl: Duration) -> ResponseCache {
    ResponseCache::redis(URL, prefix, default_ttl)
        .unwrap()
        .with_redis_timeout(Duration::from_secs(2))
}

pub async fn connection() -> redis::aio::MultiplexedConnection {
    let pool = Config::from_url(URL)
        .create_pool(Some(Runtime::Tokio1))
        .unwrap();
    deadpool_redis::Connection::take(pool.get().await.unwrap())
}

/// The keys under `prefix`, sorted.
pub async fn keys(prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection().await)
        .await
        .unwrap();
    keys.sort();
    keys
}

/// Removes the test's keys (best effort; every key has a TTL anyway).
pub async fn cleanup(prefix: &str) {
    let keys = keys(prefix).await;
    if !keys.is_empty() {
        let _: Result<u64, _> = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut connection().await)
            .await;
    }
}

/// Polls `check` until it holds or `within` passes (no fixed sleeps: a short pause between
/// attempts only spares the CPU).
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The behaviour both backends share, whatever the clock: miss, hit, overwrite, delete,
/// flush, zero TTL, and the request controls (`no-cache`, `no-store`). Each case runs on a
/// fresh cache from `new_cache`.
pub async fn shared_behaviour<F, Fut>(mut new_cache: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ResponseCache>,
{
    use llm_policy::cache::CacheControl;

    let no_cache = CacheControl {
        no_cache: true,
        ..CacheControl::default()
    };
    let no_store = CacheControl {
        no_store: true,
        ..CacheControl::default()
    };
    let zero_ttl = CacheControl {
        ttl: Some(Duration::ZERO),
        ..CacheControl::default()
    };
    let plain = CacheControl::default();

    // (case, steps)
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "miss, then hit after a put",
            vec![
                Step::Get("a", None),
                Step::Put("a", "one", None),
                Step::Get("a", Some("one")),
                Step::Get("b", None),
                Step::Counts { hits: 1, misses: 2 },
            ],
        ),
        (
            "a put replaces",
            vec![
                Step::Put("a", "one", None),
                Step::Put("a", "two", Some(Duration::from_secs(60))),
                Step::Get("a", Some("two")),
            ],
        ),
        (
            "delete counts what was there",
            vec![
                Step::Put("a", "one", None),
                Step::Put("b", "two", None),
                Step::Delete(&["a", "c"], 1),
                Step::Get("a", None),
                Step::Get("b", Some("two")),
                Step::Delete(&[], 0),
            ],
        ),
        (
            "flush removes everything",
            vec![
                Step::Put("a", "one", None),
                Step::Put("b", "two", None),
                Step::Flush(2),
                Step::Get("a", None),
                Step::Get("b", None),
                Step::Flush(0),
            ],
        ),
        (
            "zero TTL stores nothing",
            vec![
                Step::Put("a", "one", Some(Duration::ZERO)),
                Step::Get("a", None),
            ],
        ),
        (
            "empty value is a hit",
            vec![Step::Put("a", "", None), Step::Get("a", Some(""))],
        ),
        (
            "no-store: not stored; no-cache: not read, but stored",
            vec![
                Step::Store("a", "one", no_store.clone()),
                Step::Lookup("a", plain.clone(), None),
                Step::Store("a", "two", zero_ttl),
                Step::Lookup("a", plain.clone(), None),
                Step::Store("a", "three", no_cache.clone()),
                Step::Lookup("a", no_cache, None),
                Step::Lookup("a", plain.clone(), Some("three")),
                Step::Lookup("a", no_store, Some("three")),
                // A no-cache lookup is not a lookup: only the three others counted.
                Step::Counts { hits: 2, misses: 2 },
            ],
        ),
    ];
    for (case, steps) in cases {
        let cache = new_cache().await;
        for (i, step) in steps.into_iter().enumerate() {
            step.run(
                &cache,
                &format!("{} / {case} / step {i}", cache.backend_name()),
            )
            .await;
        }
        assert_eq!(cache.errors(), 0, "{case}");
    }
}

/// One step of a [`shared_behaviour`] case.
pub enum Step {
    Put(&'static str, &'static str, Option<Duration>),
    /// The value expected (`None`: a miss).
    Get(&'static str, Option<&'static str>),
    Store(&'static str, &'static str, llm_policy::cache::CacheControl),
    Lookup(
        &'static str,
        llm_policy::cache::CacheControl,
        Option<&'static str>,
    ),
    Delete(&'static [&'static str], u64),
    Flush(u64),
    Counts {
        hits: u64,
        misses: u64,
    },
}

impl Step {
    pub async fn run(self, cache: &ResponseCache, what: &str) {
        let bytes = |s: &str| s.as_bytes().to_vec();
        match self {
            Step::Put(key, value, ttl) => cache.put(key, bytes(value), ttl).await,
            Step::Get(key, expected) => {
                assert_eq!(cache.get(key, None).await, expected.map(bytes), "{what}");
            }
            Step::Store(key, value, control) => cache.store(key, bytes(value), &control).await,
            Step::Lookup(key, control, expected) => {
                assert_eq!(
                    cache.lookup(key, &control).await,
                    expected.map(bytes),
                    "{what}"
                );
            }
            Step::Delete(keys, expected) => {
                let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
                assert_eq!(cache.delete(&keys).await, expected, "{what}");
            }
            Step::Flush(expected) => assert_eq!(cache.flush_all().await, expected, "{what}"),
            Step::Counts { hits, misses } => {
                assert_eq!((cache.hits(), cache.misses()), (hits, misses), "{what}");
            }
        }
    }
}
