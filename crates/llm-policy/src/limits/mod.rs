//! Rate limits and budget reservations: one admission check per request over several
//! *scopes* (the key, its user, its team, global), settled once when the request ends.
//!
//! Two backends with the same semantics: [`LocalLimiter`] (this process only) and
//! [`RedisLimiter`] (exact across gateway instances: one Lua script per admit, one per
//! settle). The facade [`Limiter`] uses Redis when configured and falls back to the local
//! limiter (fail-open, the default) or refuses ([`Denial::Unavailable`], fail-closed) when
//! Redis errs or does not answer within [`LimitSettings::redis_timeout`].
//!
//! # Semantics (both backends)
//!
//! Time is the caller's `now_ms` (UNIX ms), never Redis's clock: instances must keep their
//! clocks in sync (NTP), as they must for budget periods anyway.
//!
//! - **rpm**: fixed 60 s windows (`now_ms / 60000`). The request counts when admitted; a
//!   scope with `count >= rpm` refuses (`which = "requests"`), Retry-After = until the window
//!   ends. A burst of 5N against rpm N admits exactly N.
//! - **tpm**: the tokens settled in the current window; refuses when they are already
//!   `>= tpm` (LiteLLM's rule: the request that crosses the limit is let through). Settle adds
//!   the tokens to the window the request was *admitted* in (a past window is never read
//!   again). Retry-After = until the window ends.
//! - **max_parallel**: a slot is held from admit to settle; refuses when `held >= max`,
//!   Retry-After 1 s. Slots expire after [`LimitSettings::slot_ttl`] so a crashed instance
//!   cannot hold them forever.
//! - **budget**: spend is counted per (scope id, period end) so a new period starts from zero
//!   (`None`: a lifetime budget). The counter starts at [`Budget::seed`] (the spend SQL knows)
//!   the first time it is seen: Redis `SET NX`; locally `max(counter, seed)` on every check,
//!   so a key-cache reload never lowers it while other instances' spend reaches SQL. A scope
//!   with a `max` refuses with [`Denial::BudgetExceeded`] when `spent >= max` (Retry-After:
//!   the period end, none for a lifetime budget), or when `spent + reserved_by_others +
//!   reserve > max` (Retry-After 1 s when the others' reservations are what does not fit,
//!   else the period end). So a concurrent burst overshoots by at most one request's
//!   estimate error. Reservations expire after [`LimitSettings::reservation_ttl`] and are
//!   swept before each check. Spend counters live until the period end plus one day
//!   (lifetime ones one day after their last use; the seed restores them).
//! - Checks run scope by scope in the order given and, within a scope, budget, requests,
//!   tokens, parallel requests; the first refusal is returned and nothing is applied
//!   anywhere (a team's refusal leaves the key's counters untouched).
//! - A zero limit refuses everything.
//! - [`Limiter::settle`] runs exactly once per admitted request, also on failure (tokens 0,
//!   cost 0): it releases the reservation and the slot, adds the tokens to the tpm windows
//!   and the cost to every budget's counter, and reports the soft budgets this settle
//!   crossed (`before < soft <= after`). It is idempotent by request id (settle twice =
//!   once), and settling a ticket whose reservation or slot expired still counts its cost
//!   but never takes a counter below zero.
//! - Money in Redis is compared as Lua numbers: exact up to 2^53 nano-dollars ($9 million).
//!
//! # Redis keys
//!
//! Under the prefix `P` (default `llmgw:policy:`) and the scope id `S`, every key with a TTL:
//!
//! | key | type | meaning | expiry |
//! |---|---|---|---|
//! | `P{S}:rpm:{window}` | string | requests admitted in the window | window end + 60 s |
//! | `P{S}:tpm:{window}` | string | tokens settled for the window | window end + 60 s |
//! | `P{S}:par` | sorted set | request id → slot expiry (ms) | slot TTL after last admit |
//! | `P{S}:res`, `P{S}:resamt`, `P{S}:restot` | sorted set, hash, string | reservations: request id → expiry, request id → amount, their sum | reservation TTL after last admit |
//! | `P{S}:spend:{period end or life}` | string | spend (nano-dollars) | period end + 1 day / 1 day |
//! | `Psettled:{window}` | set | request ids settled, by admit window | window end + max TTL + 60 s |

mod facade;
mod local;
mod redis;
mod rules;
mod scripts;

pub use facade::Limiter;
pub use local::LocalLimiter;
pub use redis::{RedisLimitError, RedisLimiter};

use llm_types::money::NanoDollars;
use std::time::Duration;

/// Which kind of scope a limit belongs to (for messages and headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Key,
    User,
    Team,
    Global,
}

impl ScopeKind {
    /// `key`, `user`, `team`, `global`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Key => "key",
            ScopeKind::User => "user",
            ScopeKind::Team => "team",
            ScopeKind::Global => "global",
        }
    }
}

/// The limits of one scope for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLimits {
    /// Stable across instances: `key:<token_hash>`, `user:<id>`, `team:<id>`, `global`.
    pub id: String,
    pub kind: ScopeKind,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_parallel: Option<u64>,
    pub budget: Option<Budget>,
}

impl ScopeLimits {
    /// A scope without any limit (set the fields you need).
    pub fn new(id: impl Into<String>, kind: ScopeKind) -> ScopeLimits {
        ScopeLimits {
            id: id.into(),
            kind,
            rpm: None,
            tpm: None,
            max_parallel: None,
            budget: None,
        }
    }
}

/// A budget of one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// `None`: spend is tracked (soft budget alerts, [`Limiter::spent`]) but never refused.
    pub max: Option<NanoDollars>,
    /// Crossing it is reported by [`Limiter::settle`]; it never refuses.
    pub soft: Option<NanoDollars>,
    /// End (ms) of the current period ([`crate::period::current_period_end`]), or `None`:
    /// a lifetime budget.
    pub period_end_ms: Option<i64>,
    /// Spend SQL already knows for this period: the counter starts there.
    pub seed: NanoDollars,
}

/// One request's admission check.
#[derive(Debug, Clone, Copy)]
pub struct AdmitRequest<'a> {
    /// The gateway's request id (unique; settle is idempotent by it).
    pub request_id: &'a str,
    pub scopes: &'a [ScopeLimits],
    /// Budget reserved until settle (estimated prompt tokens × input price + max output
    /// tokens × output price).
    pub reserve: NanoDollars,
    pub now_ms: i64,
}

/// The answer to [`Limiter::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Admitted(Admitted),
    Denied(Denial),
}

/// An admitted request: settle its ticket exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub ticket: Ticket,
    pub headers: RateHeaders,
}

/// The tightest scope's figures for the `x-ratelimit-*` headers (`None`: no such limit).
/// Requests and tokens are chosen separately: the scope with the fewest remaining.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit_requests: Option<u64>,
    pub remaining_requests: Option<u64>,
    pub reset_requests_ms: Option<u64>,
    pub limit_tokens: Option<u64>,
    pub remaining_tokens: Option<u64>,
    pub reset_tokens_ms: Option<u64>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    RateLimited {
        scope: ScopeKind,
        /// `requests`, `tokens` or `parallel_requests`.
        which: &'static str,
        limit: u64,
        retry_after_ms: u64,
        headers: RateHeaders,
    },
    BudgetExceeded {
        scope: ScopeKind,
        spent: NanoDollars,
        max: NanoDollars,
        /// Until the period ends (`None`: a lifetime budget), or 1 s when other requests'
        /// reservations are what does not fit.
        retry_after_ms: Option<u64>,
    },
    /// Redis is unreachable and the limiter is fail-closed.
    Unavailable,
}

/// Which backend admitted a request (its settle goes to the same one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    Redis,
}

/// What an admitted request holds, for its settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub(crate) request_id: String,
    pub(crate) admitted_ms: i64,
    pub(crate) scopes: Vec<TicketScope>,
    pub(crate) reserved: NanoDollars,
    pub(crate) backend: Backend,
}

impl Ticket {
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The budget reserved for this request.
    pub fn reserved(&self) -> NanoDollars {
        self.reserved
    }
}

/// One scope of a ticket: what settle must touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TicketScope {
    pub(crate) id: String,
    pub(crate) kind: ScopeKind,
    pub(crate) tpm: bool,
    pub(crate) parallel: bool,
    pub(crate) budget: Option<Budget>,
}

/// The outcome of a settle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Soft budgets this settle crossed (an alert event each).
    pub soft_crossed: Vec<SoftCrossing>,
    /// The ticket was already settled: nothing was counted again.
    pub duplicate: bool,
}

/// A soft budget crossed by a settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftCrossing {
    pub scope_id: String,
    pub kind: ScopeKind,
    pub spent: NanoDollars,
    pub soft: NanoDollars,
}

/// Tunables of the limiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// Prefix of every Redis key.
    pub key_prefix: String,
    /// How long a parallel-request slot lives without a settle.
    pub slot_ttl: Duration,
    /// How long a budget reservation lives without a settle.
    pub reservation_ttl: Duration,
    /// How long one Redis call may take before it counts as an error.
    pub redis_timeout: Duration,
    /// On a Redis error: admit on the local limiter (`true`) or refuse with
    /// [`Denial::Unavailable`].
    pub fail_open: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            key_prefix: "llmgw:policy:".to_owned(),
            slot_ttl: Duration::from_secs(600),
            reservation_ttl: Duration::from_secs(600),
            redis_timeout: Duration::from_millis(250),
            fail_open: true,
        }
    }
}
