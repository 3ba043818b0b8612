//! The Redis backend: every gateway instance on the same Redis and prefix shares the entries.
//!
//! Keys are `<prefix><cache key>`, written with `SET .. PX <ttl>` so Redis expires them. The
//! value is a version byte, the UNIX milliseconds it was stored at (8 bytes, big-endian, for
//! `s-maxage`) and then the cached bytes. Every call is bounded by a timeout; a failure is
//! returned to the facade, which turns it into a miss or a skipped store.

use deadpool_redis::redis::{self, aio::MultiplexedConnection};
use deadpool_redis::{Config, Pool, Runtime};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The first byte of a stored value: the layout below.
const VERSION: u8 = 1;
/// Version byte + `stored_at_ms`.
const HEADER_LEN: usize = 9;
/// Keys a `SCAN` step asks for; each step's `DEL` removes at most this many.
const SCAN_COUNT: usize = 500;

/// Why a Redis call failed (never shown to clients: the cache only ever misses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum RedisCacheError {
    #[error("Redis: {0}")]
    Redis(String),
    #[error("no answer from Redis within {0:?}")]
    Timeout(Duration),
}

/// A stored value: the bytes and when they were stored.
pub(super) fn encode(stored_at_ms: i64, bytes: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(HEADER_LEN + bytes.len());
    value.push(VERSION);
    value.extend_from_slice(&stored_at_ms.to_be_bytes());
    value.extend_from_slice(bytes);
    value
}

/// `(stored_at_ms, bytes)` of a stored value; `None` for a value not written by this layout.
pub(super) fn decode(mut value: Vec<u8>) -> Option<(i64, Vec<u8>)> {
    if value.len() < HEADER_LEN || value[0] != VERSION {
        return None;
    }
    let stored_at = i64::from_be_bytes(value[1..HEADER_LEN].try_into().ok()?);
    value.drain(..HEADER_LEN);
    Some((stored_at, value))
}

/// A glob pattern matching exactly the keys that start with `prefix` (`SCAN MATCH` treats
/// `*?[]\` as pattern characters).
pub(super) fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

/// The Redis store of one gateway instance.
pub(super) struct RedisStore {
    pool: Pool,
    /// One multiplexed connection serves every call; a failed call drops it and the next one
    /// takes a new one from the pool (taking one per call would cost a PING each).
    connection: Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    timeout: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RedisStore {
    /// A store on a `redis://` URL; builds the pool without connecting (no IO).
    pub(super) fn new(
        url: &str,
        prefix: String,
        timeout: Duration,
    ) -> Result<RedisStore, RedisCacheError> {
        let pool = Config::from_url(url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| RedisCacheError::Redis(e.to_string()))?;
        Ok(RedisStore {
            pool,
            connection: Mutex::new(None),
            prefix,
            timeout,
        })
    }

    pub(super) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The stored value of `key`: `(stored_at_ms, bytes)`, `None` when absent or unreadable.
    pub(super) async fn get(&self, key: &str) -> Result<Option<(i64, Vec<u8>)>, RedisCacheError> {
        let mut command = redis::cmd("GET");
        command.arg(self.key(key));
        let value: Option<Vec<u8>> = self.query(&command).await?;
        Ok(value.and_then(decode))
    }

    pub(super) async fn put(
        &self,
        key: &str,
        stored_at_ms: i64,
        bytes: &[u8],
        ttl: Duration,
    ) -> Result<(), RedisCacheError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(key))
            .arg(encode(stored_at_ms, bytes))
            .arg("PX")
            .arg(millis);
        self.query::<()>(&command).await
    }

    pub(super) async fn delete(&self, keys: &[String]) -> Result<u64, RedisCacheError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut command = redis::cmd("DEL");
        for key in keys {
            command.arg(self.key(key));
        }
        self.query(&command).await
    }

    /// Deletes every key under the prefix, `SCAN` step by `SCAN` step (never `FLUSHALL`: the
    /// Redis may hold other data, the rate limits for one). Each step has its own timeout.
    pub(super) async fn flush_all(&self) -> Result<u64, RedisCacheError> {
        let pattern = prefix_pattern(&self.prefix);
        let (mut cursor, mut deleted) = (0u64, 0u64);
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.query(&scan).await?;
            if !keys.is_empty() {
                let mut del = redis::cmd("DEL");
                for key in &keys {
                    del.arg(key.as_slice());
                }
                deleted += self.query::<u64>(&del).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    pub(super) async fn ping(&self) -> Result<(), RedisCacheError> {
        self.query::<String>(&redis::cmd("PING")).await.map(|_| ())
    }

    /// Runs one command under the timeout; on any error the connection is dropped (it may be
    /// broken, or stuck behind a Redis that does not answer).
    async fn query<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, RedisCacheError> {
        let call = async {
            let mut connection = self.connection().await?;
            command
                .query_async::<T>(&mut connection)
                .await
                .map_err(|e| RedisCacheError::Redis(e.to_string()))
        };
        let outcome = match tokio::time::timeout(self.timeout, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(RedisCacheError::Timeout(self.timeout)),
        };
        if outcome.is_err() {
            *lock(&self.connection) = None;
        }
        outcome
    }

    async fn connection(&self) -> Result<MultiplexedConnection, RedisCacheError> {
        if let Some(connection) = lock(&self.connection).clone() {
            return Ok(connection);
        }
        let object = self
            .pool
            .get()
            .await
            .map_err(|e| RedisCacheError::Redis(e.to_string()))?;
        let connection = deadpool_redis::Connection::take(object);
        *lock(&self.connection) = Some(connection.clone());
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_redis_values_round_trip_and_foreign_ones_are_refused() {
        let cases: [(i64, &[u8]); 3] = [
            (0, b""),
            (1_700_000_000_123, b"{\"id\":\"x\"}"),
            (i64::MAX, &[0, 1, 255]),
        ];
        for (stored_at, bytes) in cases {
            assert_eq!(
                decode(encode(stored_at, bytes)),
                Some((stored_at, bytes.to_vec()))
            );
        }
        for foreign in [&b""[..], b"{\"id\":1}", &[VERSION, 0, 0]] {
            assert_eq!(decode(foreign.to_vec()), None, "{foreign:?}");
        }
    }

    #[test]
    fn cache_flush_pattern_matches_only_the_prefix() {
        let cases = [
            ("llmgw:cache:", "llmgw:cache:*"),
            ("a*b?c[d]e\\", "a\\*b\\?c\\[d\\]e\\\\*"),
            ("", "*"),
        ];
        for (prefix, pattern) in cases {
            assert_eq!(prefix_pattern(prefix), pattern);
        }
    }
}
