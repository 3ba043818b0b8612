//! Wildcard model groups (`model_name: "anthropic/*"`): any model of a provider, routed
//! without listing each one.
//!
//! The router cannot build provider adapters (it is generic over the provider), so whoever
//! builds the router hands it a factory per pattern: given the concrete model a client asked
//! for (`anthropic/claude-3-5-haiku`), it returns that model's deployments. Groups made this
//! way are cached (bounded), so the adapters are built once per model, not per request.

use llm_providers::Provider;
use llm_types::Error;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::deployment::Deployment;

/// Concrete models kept per pattern; past this the cache starts over (a client cycling
/// through endless model names must not grow memory without bound).
const MAX_CACHED_MODELS: usize = 1024;

/// The deployments of one concrete model, shared by the requests routed to it.
pub(crate) type DeploymentList<P> = Arc<Vec<Arc<Deployment<P>>>>;

/// Builds the deployments serving one concrete model of a wildcard pattern.
pub type WildcardFactory<P> = Arc<dyn Fn(&str) -> Result<Vec<Deployment<P>>, Error> + Send + Sync>;

pub(crate) struct Wildcard<P: Provider> {
    /// The pattern as configured (`anthropic/*`).
    pub pattern: Arc<str>,
    /// What a model must start with (`anthropic/`; empty for `*`).
    prefix: String,
    factory: WildcardFactory<P>,
    cache: RwLock<HashMap<String, DeploymentList<P>>>,
}

impl<P: Provider> Wildcard<P> {
    pub fn new(pattern: &str, factory: WildcardFactory<P>) -> Self {
        Wildcard {
            pattern: Arc::from(pattern),
            prefix: pattern.trim_end_matches('*').to_owned(),
            factory,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Whether `model` falls under this pattern; the longer the prefix, the more specific.
    pub fn matches(&self, model: &str) -> Option<usize> {
        (model.starts_with(&self.prefix) && model.len() > self.prefix.len())
            .then_some(self.prefix.len())
    }

    /// The deployments for `model` (built on first use, then cached). `prepare` gives each new
    /// deployment its state.
    pub fn deployments(
        &self,
        model: &str,
        prepare: impl Fn(&mut Deployment<P>),
    ) -> Result<DeploymentList<P>, Error> {
        if let Some(found) = read(&self.cache).get(model) {
            return Ok(found.clone());
        }
        let mut built = (self.factory)(model)?;
        built.iter_mut().for_each(&prepare);
        let built: Arc<Vec<Arc<Deployment<P>>>> =
            Arc::new(built.into_iter().map(Arc::new).collect());
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= MAX_CACHED_MODELS {
            cache.clear();
        }
        // Another request may have built it meanwhile: keep the first, so state is shared.
        Ok(cache.entry(model.to_owned()).or_insert(built).clone())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
