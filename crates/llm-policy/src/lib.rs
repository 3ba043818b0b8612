//! Access policy of llm-gateway: who may call, how much they may spend and how fast, and what
//! they spent. Never names a provider.
//!
//! - [`policy`]: the facade the gateway holds ([`Policy`]): authentication from the key
//!   cache, admission, settlement.
//! - [`master_key`]: the administrator's key, checked in constant time.
//! - [`keys`], [`records`], [`store`]: virtual keys (stored hashed), users, teams and the
//!   spend log in SQLite or PostgreSQL.
//! - [`limits`]: rate limits and budget reservations, in-process or in Redis.
//! - [`journal`]: the append-only spend journal and its shipper to SQL.
//! - [`admin`]: the admin API's operations (LiteLLM's `/key/*`, `/user/*`, `/team/*`,
//!   `/spend/*` shapes) over the store.
//! - [`guardrails`]: built-in and webhook guardrails on requests, responses and streams.
//! - [`cache`]: the response cache (in-process or Redis) and its per-request controls.
//! - [`period`]: budget periods.

mod master_key;

pub mod admin;
pub mod cache;
pub mod guardrails;
pub mod journal;
pub mod keys;
pub mod limits;
pub mod period;
pub mod policy;
pub mod records;
pub mod store;

pub use master_key::{MasterKey, Presented, classify};
pub use policy::{Admission, Caller, Outcome, Policy, PolicySettings, Principal};
