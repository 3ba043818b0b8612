//! Routing for llm-gateway and for Rust applications: model groups of deployments, the choice
//! among them, retries and (in later increments) fallbacks, cooldowns and health.
//!
//! A [`Router`] is built once per configuration and shared (`Arc`); it owns every deployment's
//! prebuilt adapter. Today a group's deployments take turns (round-robin) and a retryable
//! failure is retried on the next deployment, up to the deployment's `max_retries`.

mod deployment;
mod retry;
mod router;

pub use deployment::Deployment;
pub use retry::backoff;
pub use router::{Routed, Router};
