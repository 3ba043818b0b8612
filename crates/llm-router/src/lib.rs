//! Routing for llm-gateway and for Rust applications: model groups of deployments, the choice
//! among them, retries, fallbacks and cooldowns.
//!
//! A [`Router`] is built once per configuration and shared (`Arc`); it owns every deployment's
//! prebuilt adapter and live state. A request goes to its model group; a [`Strategy`] picks a
//! deployment among those available (fitting the prompt, not cooling down, under their
//! limits, lowest `order` tier first); a retryable failure is retried on another deployment
//! (or the same one after a backoff honouring `Retry-After`) as the [`RetryPolicy`] allows;
//! when the group gives up, the request falls back to the groups configured for that kind of
//! failure.
//!
//! What the router learns about deployments (cooldowns, usage of the minute, latency) lives
//! behind the [`SharedState`] trait: in-process ([`LocalState`]) or in Redis
//! ([`RedisState`]), shared by every gateway instance.

mod attempt;
mod breaker;
mod builder;
mod deployment;
mod events;
mod redis_scripts;
mod redis_state;
mod retry;
mod router;
mod settings;
mod shared;
mod state;
mod strategy;
mod wildcard;

pub use breaker::{Admission, BreakerPolicy, SharedBreaker};
pub use builder::RouterBuilder;
pub use deployment::{Deployment, DeploymentSpec};
pub use events::RouterEvents;
pub use redis_state::{OPERATION_TIMEOUT, RETRY_DELAY, RedisState, VIEW_MAX_AGE};
pub use retry::{MAX_HELD_RETRY_AFTER, backoff, wait_before_retry};
pub use router::{FailedAttempt, Routed, Router};
pub use settings::{
    DEFAULT_MAX_FALLBACKS, DEFAULT_NUM_RETRIES, RedisSettings, RequestOptions, RetryPolicy,
    RouterSettings,
};
pub use shared::{Attempt, LocalState, SharedState, Verdict, shared_state};
pub use state::{DeploymentState, MinuteUsage, SharedSnapshot};
pub use strategy::Strategy;
pub use wildcard::WildcardFactory;
