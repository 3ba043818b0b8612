//! The built stage of configuration: adapters, HTTP client and router, shared by all requests.

use arc_swap::ArcSwap;
use llm_policy::MasterKey;
use llm_providers::{AnyProvider, http_client::build_http_client};
use llm_router::{Deployment, Router};
use llm_types::Error;
use std::sync::Arc;

use crate::config::GatewayConfig;

/// State every handler shares. The router sits behind an `ArcSwap` so a reload can swap it
/// without disturbing requests in flight.
pub struct AppState {
    pub router: ArcSwap<Router>,
    pub master_key: Option<MasterKey>,
    pub max_request_bytes: usize,
    /// UNIX seconds at start, for `created` in the models list.
    pub started: u64,
}

impl AppState {
    /// Builds every deployment's adapter once, sharing one pooled HTTP client.
    pub fn build(config: &GatewayConfig) -> Result<Arc<AppState>, Error> {
        Ok(Arc::new(AppState {
            router: ArcSwap::from_pointee(build_router(config)?),
            master_key: config.server.master_key.as_deref().map(MasterKey::new),
            max_request_bytes: config.server.max_request_bytes,
            started: llm_types::unix_now(),
        }))
    }
}

/// The router for a configuration (every deployment's adapter prebuilt).
pub fn build_router(config: &GatewayConfig) -> Result<Router, Error> {
    let http = build_http_client()?;
    let mut per_group = std::collections::HashMap::<&str, usize>::new();
    let deployments = config
        .deployments
        .iter()
        .map(|d| {
            let index = per_group.entry(&d.model_name).or_default();
            let id = d
                .model_info
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{}#{}", d.model_name, index));
            *index += 1;
            let provider = AnyProvider::build(&d.target, &http).map_err(|mut e| {
                e.message = format!("model `{}`: {}", d.model_name, e.message).into();
                e
            })?;
            Ok(Deployment::with_spec(
                &id,
                &d.model_name,
                &d.target.model,
                d.spec.clone(),
                provider,
            ))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // Redis (when configured) is only connected on first use: an unreachable server slows
    // nothing down at start and the router works on local state until it answers.
    let state = llm_router::shared_state(config.router.redis.as_ref()).map_err(Error::internal)?;
    if let Some(redis) = &config.router.redis {
        tracing::info!(
            redis = redis.endpoint().unwrap_or_default(),
            key_prefix = redis.key_prefix,
            "router state is shared through Redis"
        );
    }
    Ok(Router::with_state(
        deployments,
        config.router.clone(),
        state,
    ))
}
