//! Configuration in three stages: raw (serde, per format), validated (pure; every error with
//! its key path at once), built (IO: HTTP clients, adapters; see [`crate::app`]).
//!
//! Two formats reach the same [`GatewayConfig`]: the native one ([`native`]) and LiteLLM's
//! `config.yaml` unchanged ([`litellm`], detected by its `model_list` key). Files are YAML or
//! TOML, read through figment; server settings are then overridden by `LLM_GATEWAY_*`
//! environment variables ([`source`]) and last by command-line flags.

mod cache;
mod env_refs;
mod issues;
mod litellm;
mod log_sinks;
mod native;
mod router;
mod source;
mod tracing;
mod validated;

pub use cache::{CacheBackend, CacheConfig};
pub use issues::{ConfigIssue, IssueLevel, Report, missing_field};
pub use log_sinks::{JsonlTarget, SinkConfig, SinkTarget, SinkWhen};
pub use source::{DEMO_CONFIG, load_file, load_str};
pub use tracing::TracingConfig;
pub use validated::{DeploymentConfig, GatewayConfig, PolicyConfig, ServerSettings};

#[cfg(test)]
mod tests;
