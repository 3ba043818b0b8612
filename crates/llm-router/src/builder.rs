//! [`RouterBuilder`]: a router from Rust code, one call per setting.
//!
//! ```
//! use llm_providers::{AnyProvider, ProviderTarget, http_client::build_http_client};
//! use llm_router::{Deployment, Router, Strategy};
//!
//! # fn main() -> Result<(), llm_types::Error> {
//! let http = build_http_client()?;
//! let mock = |name: &str| AnyProvider::build(&ProviderTarget::new(format!("mock/{name}")), &http);
//! let router = Router::builder()
//!     .deployment(Deployment::new("a", "chat", "mock/a", mock("a")?))
//!     .deployment(Deployment::new("b", "chat", "mock/b", mock("b")?))
//!     .deployment(Deployment::new("c", "backup", "mock/c", mock("c")?))
//!     .strategy(Strategy::LeastBusy)
//!     .num_retries(1)
//!     .fallbacks("chat", ["backup"])
//!     .build();
//! assert_eq!(router.model_names().collect::<Vec<_>>(), ["chat", "backup"]);
//! # Ok(()) }
//! ```

use llm_providers::{AnyProvider, Provider};
use std::time::Duration;

use crate::breaker::BreakerPolicy;
use crate::deployment::Deployment;
use crate::router::Router;
use crate::settings::{RetryPolicy, RouterSettings};
use crate::strategy::Strategy;

/// Collects deployments and settings, then builds a [`Router`].
pub struct RouterBuilder<P: Provider = AnyProvider> {
    deployments: Vec<Deployment<P>>,
    settings: RouterSettings,
}

impl<P: Provider> Default for RouterBuilder<P> {
    fn default() -> Self {
        RouterBuilder {
            deployments: Vec::new(),
            settings: RouterSettings::default(),
        }
    }
}

impl<P: Provider> RouterBuilder<P> {
    /// Adds a deployment (its `model_name` is its group).
    pub fn deployment(mut self, deployment: Deployment<P>) -> Self {
        self.deployments.push(deployment);
        self
    }

    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.settings.strategy = strategy;
        self
    }

    pub fn num_retries(mut self, retries: u32) -> Self {
        self.settings.num_retries = retries;
        self
    }

    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry_policy = policy;
        self
    }

    /// Groups tried, in order, when `group` fails.
    pub fn fallbacks<const N: usize>(mut self, group: &str, fallbacks: [&str; N]) -> Self {
        self.settings
            .fallbacks
            .insert(group.to_owned(), fallbacks.map(str::to_owned).to_vec());
        self
    }

    /// Groups tried when a prompt exceeds `group`'s context window.
    pub fn context_window_fallbacks<const N: usize>(
        mut self,
        group: &str,
        fallbacks: [&str; N],
    ) -> Self {
        self.settings
            .context_window_fallbacks
            .insert(group.to_owned(), fallbacks.map(str::to_owned).to_vec());
        self
    }

    pub fn cooldown(mut self, allowed_fails: u32, cooldown: Duration) -> Self {
        self.settings.breaker = BreakerPolicy {
            allowed_fails,
            cooldown,
        };
        self
    }

    /// Bounds every request (all attempts together).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// Every setting at once (e.g. from a configuration file).
    pub fn settings(mut self, settings: RouterSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn build(self) -> Router<P> {
        Router::with_settings(self.deployments, self.settings)
    }
}

impl<P: Provider> Router<P> {
    /// A [`RouterBuilder`].
    pub fn builder() -> RouterBuilder<P> {
        RouterBuilder::default()
    }
}
