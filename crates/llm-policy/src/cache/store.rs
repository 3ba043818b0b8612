//! [`ResponseCache`]: the response cache the gateway holds, in-process or in Redis.
//!
//! The cache never fails a request: a Redis error or timeout is a miss on read and a skipped
//! store on write, counted in [`ResponseCache::errors`] and warned about at most every
//! [`WARN_EVERY`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::control::CacheControl;
use super::local::LocalStore;
use super::redis::{RedisCacheError, RedisStore};

/// Default bound of the in-process cache: 64 MiB of cached bytes.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default prefix of the Redis keys.
pub const DEFAULT_REDIS_PREFIX: &str = "llmgw:cache:";
/// Default lifetime of an entry when neither the config nor the request sets one (LiteLLM's
/// in-memory default).
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// The longest an entry is kept, whatever a request asks for.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// The deadline of every Redis call.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How often, at most, a Redis failure is logged as a warning.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Why a cache could not be built (a configuration error, reported at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    #[error("response cache: invalid Redis configuration: {0}")]
    Config(String),
}

enum Backend {
    Local(LocalStore),
    Redis(RedisStore),
}

/// The response cache: bytes by key (see [`super::cache_key`]), each with a TTL.
pub struct ResponseCache {
    backend: Backend,
    default_ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
    /// When the last Redis failure was warned about.
    last_warning: Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("backend", &self.backend_name())
            .field("default_ttl", &self.default_ttl)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    fn with_backend(backend: Backend, default_ttl: Duration) -> ResponseCache {
        ResponseCache {
            backend,
            default_ttl: default_ttl.min(MAX_TTL),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            last_warning: Mutex::new(None),
        }
    }

    /// An in-process cache holding at most `max_bytes` of keys and values (least useful
    /// entries are evicted first, as moka decides).
    pub fn local(max_bytes: u64, default_ttl: Duration) -> ResponseCache {
        Self::with_backend(Backend::Local(LocalStore::new(max_bytes)), default_ttl)
    }

    /// A cache in the Redis at `url` (`redis://[:password@]host:port[/db]`), under keys
    /// `<prefix><key>`. Builds the connection pool without connecting: a Redis that is down
    /// at start-up only makes misses. The prefix must not be empty, since `flush_all` deletes
    /// everything under it.
    pub fn redis(
        url: &str,
        prefix: &str,
        default_ttl: Duration,
    ) -> Result<ResponseCache, CacheError> {
        if prefix.is_empty() {
            return Err(CacheError::Config(
                "the key prefix must not be empty (flushall deletes everything under it)".into(),
            ));
        }
        let store = RedisStore::new(url, prefix.to_owned(), DEFAULT_REDIS_TIMEOUT)
            .map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self::with_backend(Backend::Redis(store), default_ttl))
    }

    /// Sets the deadline of every Redis call (default [`DEFAULT_REDIS_TIMEOUT`]); no effect
    /// on the in-process cache.
    pub fn with_redis_timeout(mut self, timeout: Duration) -> ResponseCache {
        if let Backend::Redis(store) = &mut self.backend {
            store.set_timeout(timeout);
        }
        self
    }

    /// `"local"` or `"redis"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Local(_) => "local",
            Backend::Redis(_) => "redis",
        }
    }

    /// The TTL of entries stored without one.
    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    /// The cached bytes of `key`, if present, not expired and, with `max_age`, stored at most
    /// that long ago. Counts a hit or a miss; a Redis failure is a miss (and an error).
    pub async fn get(&self, key: &str, max_age: Option<Duration>) -> Option<Vec<u8>> {
        let found = match &self.backend {
            Backend::Local(store) => store.get(key, max_age).await,
            Backend::Redis(store) => match store.get(key).await {
                Ok(Some((stored_at_ms, bytes))) => {
                    let age_ms = llm_types::unix_now_ms().saturating_sub(stored_at_ms).max(0);
                    let fresh = max_age
                        .is_none_or(|max| u128::from(age_ms.unsigned_abs()) <= max.as_millis());
                    fresh.then_some(bytes)
                }
                Ok(None) => None,
                Err(error) => {
                    self.failed("get", &error);
                    None
                }
            },
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores `bytes` under `key` for `ttl` (`None`: the default TTL; at most [`MAX_TTL`]; a
    /// zero TTL stores nothing). A Redis failure skips the store (and counts an error).
    pub async fn put(&self, key: &str, bytes: Vec<u8>, ttl: Option<Duration>) {
        let ttl = ttl.unwrap_or(self.default_ttl).min(MAX_TTL);
        if ttl.is_zero() {
            return;
        }
        match &self.backend {
            Backend::Local(store) => store.put(key, bytes, ttl).await,
            Backend::Redis(store) => {
                if let Err(error) = store.put(key, llm_types::unix_now_ms(), &bytes, ttl).await {
                    self.failed("put", &error);
                }
            }
        }
    }

    /// [`Self::get`] as the request's controls allow: nothing (and no count) with `no-cache`,
    /// else only an entry younger than its `s-maxage` / `max-age`.
    pub async fn lookup(&self, key: &str, control: &CacheControl) -> Option<Vec<u8>> {
        if !control.may_read() {
            return None;
        }
        self.get(key, control.max_age).await
    }

    /// [`Self::put`] as the request's controls allow: nothing with `no-store` (or `ttl: 0`),
    /// else for the request's `ttl` or the default.
    pub async fn store(&self, key: &str, bytes: Vec<u8>, control: &CacheControl) {
        if control.may_store() {
            self.put(key, bytes, control.ttl).await;
        }
    }

    /// Removes `keys`; returns how many were cached (0 when Redis failed: see [`Self::errors`]).
    pub async fn delete(&self, keys: &[String]) -> u64 {
        match &self.backend {
            Backend::Local(store) => store.delete(keys).await,
            Backend::Redis(store) => store.delete(keys).await.unwrap_or_else(|error| {
                self.failed("delete", &error);
                0
            }),
        }
    }

    /// Removes every entry of this cache (in Redis: the keys under its prefix, nothing else);
    /// returns how many there were (what was deleted before a Redis failure).
    pub async fn flush_all(&self) -> u64 {
        match &self.backend {
            Backend::Local(store) => store.flush_all().await,
            Backend::Redis(store) => store.flush_all().await.unwrap_or_else(|error| {
                self.failed("flush", &error);
                0
            }),
        }
    }

    /// Whether the backend answers: `Ok("local")`, `Ok("redis")`, or why Redis does not.
    pub async fn ping(&self) -> Result<&'static str, String> {
        match &self.backend {
            Backend::Local(_) => Ok("local"),
            Backend::Redis(store) => match store.ping().await {
                Ok(()) => Ok("redis"),
                Err(error) => {
                    self.failed("ping", &error);
                    Err(error.to_string())
                }
            },
        }
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Lookups not answered (absent, expired, too old, or Redis failed).
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Redis calls that failed or timed out.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The bytes the in-process cache holds, after pending evictions (`None` for Redis).
    pub async fn local_size(&self) -> Option<u64> {
        match &self.backend {
            Backend::Local(store) => Some(store.weighted_size().await),
            Backend::Redis(_) => None,
        }
    }

    /// Counts a Redis failure and warns about it unless a warning went out recently.
    fn failed(&self, operation: &'static str, error: &RedisCacheError) {
        let errors = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        let now = tokio::time::Instant::now();
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|at| now.duration_since(at) >= WARN_EVERY) {
            *last = Some(now);
            drop(last);
            tracing::warn!(
                operation,
                %error,
                errors_so_far = errors,
                "response cache: Redis failed; serving without the cache"
            );
        }
    }
}
