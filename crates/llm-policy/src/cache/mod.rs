//! The response cache: repeated requests answered for free.
//!
//! - [`cache_key`]: the key of a request (a hash of what can change its answer).
//! - [`CacheControl`]: what a request asks of the cache (body `cache` object and
//!   `Cache-Control` header, as LiteLLM clients send them).
//! - [`ResponseCache`]: bytes by key with a TTL, in-process (moka, bounded by size) or in
//!   Redis (shared by every instance on the same prefix). It never fails a request: a Redis
//!   failure is a miss or a skipped store, counted and warned about.
//!
//! The cache stores opaque bytes: the gateway decides what it caches (a serialized complete
//! response; a streamed answer assembled with `llm_types::assembly::assemble`, served to a
//! streaming client with `llm_types::assembly::replay`). With Redis there is no in-process
//! layer in front, so a delete or a flush reaches every instance at once.

mod control;
mod key;
mod local;
mod redis;
mod store;

pub use control::CacheControl;
pub use key::cache_key;
pub use store::{
    CacheError, DEFAULT_MAX_BYTES, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, DEFAULT_TTL,
    MAX_TTL, ResponseCache, WARN_EVERY,
};
