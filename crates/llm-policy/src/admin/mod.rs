//! The admin API over the [`Store`]: LiteLLM's request and response shapes (its paths and
//! field names, float dollars on the wire) and the operations behind `/key/*`, `/user/*`,
//! `/team/*`, `/spend/logs` and `/global/spend*`, with their validation. HTTP lives in the
//! gateway; every operation here returns either a body or an OpenAI-shaped [`Error`] (400
//! naming the field, 404 for an unknown key, user or team), and says which cached keys it
//! made stale ([`Invalidate`]) so the caller can tell every instance.

mod key_types;
mod keys;
mod spend;
mod teams;
mod users;
pub mod wire;

pub use key_types::*;
pub use spend::*;
pub use teams::*;
pub use users::*;

use llm_types::{Error, ErrorKind, ErrorOrigin};

use crate::store::{Store, StoreError};

/// The admin operations, over one store at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    pub store: &'a Store,
    /// "Now" in UNIX ms: expiry and budget periods are computed from it.
    pub now_ms: i64,
}

/// What cached key lookups a change made stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidate {
    Nothing,
    /// These key hashes.
    Keys(Vec<String>),
    /// Every key (a user or team changed: its keys' effective limits changed).
    All,
}

/// A response body and the cache invalidation the change needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    pub body: T,
    pub invalidate: Invalidate,
}

impl<T> Outcome<T> {
    fn keys(body: T, hashes: Vec<String>) -> Self {
        Outcome {
            body,
            invalidate: Invalidate::Keys(hashes),
        }
    }

    fn all(body: T) -> Self {
        Outcome {
            body,
            invalidate: Invalidate::All,
        }
    }
}

impl<'a> Admin<'a> {
    pub fn new(store: &'a Store, now_ms: i64) -> Self {
        Admin { store, now_ms }
    }
}

/// A store failure as an API error: conflicts are 400 naming the field (LiteLLM answers a
/// taken alias with 400), anything else a 500 whose message never carries a key.
fn store_error(field: &'static str) -> impl Fn(StoreError) -> Error {
    move |error| match error {
        StoreError::Conflict(message) => Error::invalid_param(field, message),
        other => {
            tracing::error!(error = %other, "admin: database error");
            Error::internal(format!("database error: {other}"))
        }
    }
}

fn not_found(param: &str, message: String) -> Error {
    Error::new(ErrorKind::NotFound, ErrorOrigin::Client, message).with_param(param)
}

/// The stored hash of a key given as the raw `sk-...` key or as its hash (LiteLLM accepts
/// both).
pub fn key_hash_of(key: &str) -> String {
    let key = key.trim();
    if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        key.to_ascii_lowercase()
    } else {
        crate::keys::hash_key(key)
    }
}

/// A random id (UUID v4 text), for users and teams created without one.
fn random_id() -> Result<String, Error> {
    let key = crate::keys::generate_key()
        .map_err(|_| Error::internal("the system random generator failed"))?;
    let hex = crate::keys::hash_key(&key);
    Ok(format!(
        "{}-{}-4{}-a{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    ))
}

fn page_count(total: u64, size: u64) -> u64 {
    total.div_ceil(size.max(1))
}
