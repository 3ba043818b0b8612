//! The built stage of configuration: adapters, HTTP client and router, shared by all requests.

use arc_swap::ArcSwap;
use llm_policy::{Policy, PolicySettings};
use llm_providers::AnyProvider;
use llm_providers::http_client::{HttpClient, build_http_client};
use llm_router::{Deployment, DeploymentSpec, Router, WildcardFactory};
use llm_types::Error;
use std::sync::Arc;

use crate::config::{CacheBackend, CacheConfig, DeploymentConfig, GatewayConfig};
use crate::prices::PriceBook;
use llm_policy::cache::{self, ResponseCache};
use llm_policy::guardrails::Guardrails;

use crate::webhook_client::HttpWebhook;

/// The SQLite file and the journal directory, in the data directory, by default.
pub const DEFAULT_DATABASE_FILE: &str = "llm-gateway.db";
pub const JOURNAL_DIR: &str = "llm-gateway-journal";

/// State every handler shares. The router and its prices sit behind `ArcSwap`s so a reload
/// can swap them without disturbing requests in flight.
pub struct AppState {
    pub router: ArcSwap<Router>,
    pub prices: ArcSwap<PriceBook>,
    /// Keys, budgets, limits and spend.
    pub policy: Arc<Policy>,
    /// The response cache, when enabled, and the namespace of keys without their own.
    pub cache: Option<Arc<ResponseCache>>,
    pub cache_namespace: Option<String>,
    /// The configured guardrails.
    pub guardrails: Guardrails,
    /// Prometheus metrics, served at `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Where finished requests are reported (log line, trace span, request-log sinks).
    pub reporter: Arc<crate::request_log::Reporter>,
    pub max_request_bytes: usize,
    /// UNIX seconds at start, for `created` in the models list.
    pub started: u64,
}

impl AppState {
    /// Builds every deployment's adapter once, sharing one pooled HTTP client, and opens the
    /// policy store (migrating it and replaying the spend journal).
    pub async fn build(config: &GatewayConfig) -> Result<Arc<AppState>, String> {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let (router, prices) =
            build_router(config, None, &metrics).map_err(|e| e.message.to_string())?;
        let sinks = Arc::new(crate::sinks::LogSinks::start(&config.log_sinks)?);
        let reporter = Arc::new(crate::request_log::Reporter::new(
            sinks,
            config.tracing.capture_content,
        ));
        let policy = Policy::open(policy_settings(config)).await?;
        let cache = config.cache.as_ref().map(build_cache).transpose()?;
        let webhooks = Arc::new(HttpWebhook(
            build_http_client().map_err(|e| e.message.to_string())?,
        ));
        let guardrails =
            Guardrails::new(config.guardrails.clone(), webhooks).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|(path, message)| format!("{path}: {message}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
        Ok(Arc::new(AppState {
            router: ArcSwap::from_pointee(router),
            prices: ArcSwap::from_pointee(prices),
            policy: Arc::new(policy),
            cache: cache.map(Arc::new),
            cache_namespace: config.cache.as_ref().and_then(|c| c.namespace.clone()),
            guardrails,
            metrics,
            reporter,
            max_request_bytes: config.server.max_request_bytes,
            started: llm_types::unix_now(),
        }))
    }
}

/// The response cache of the configuration (no IO: Redis connects on first use).
fn build_cache(config: &CacheConfig) -> Result<ResponseCache, String> {
    let ttl = config.ttl.unwrap_or(cache::DEFAULT_TTL);
    match &config.backend {
        CacheBackend::Local { max_bytes } => Ok(ResponseCache::local(*max_bytes, ttl)),
        CacheBackend::Redis { url, prefix } => {
            ResponseCache::redis(url, prefix, ttl).map_err(|e| format!("cache: {e}"))
        }
    }
}

/// Where the policy keeps its data: `database_url`, else a SQLite file in the data directory
/// (the config file's directory unless `data_dir` says otherwise), and the spend journal
/// beside it.
pub fn policy_settings(config: &GatewayConfig) -> PolicySettings {
    let policy = &config.policy;
    let data_dir = policy.data_dir.clone().unwrap_or_else(|| ".".into());
    let database_url = policy.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            data_dir.join(DEFAULT_DATABASE_FILE).display()
        )
    });
    PolicySettings {
        database_url,
        master_key: config.server.master_key.clone(),
        journal_dir: (!policy.disable_spend_logs).then(|| data_dir.join(JOURNAL_DIR)),
        redis: config
            .router
            .redis
            .as_ref()
            .map(|redis| (redis.url.clone(), policy_key_prefix(&redis.key_prefix))),
        fail_closed: policy.fail_closed,
        max_budget: policy.max_budget,
        budget_duration: policy
            .budget_duration
            .as_deref()
            .and_then(llm_policy::period::parse_duration),
    }
}

/// The policy's Redis keys beside the router's: `llmgw:router:` becomes `llmgw:policy:`.
fn policy_key_prefix(router_prefix: &str) -> String {
    match router_prefix.strip_suffix("router:") {
        Some(base) => format!("{base}policy:"),
        None => format!("{router_prefix}policy:"),
    }
}

/// The router for a configuration (every deployment's adapter prebuilt), reporting its
/// events to `metrics`, and its prices. On the shared state of a running router when given
/// (a reload with the same Redis settings keeps cooldowns and usage instead of starting
/// afresh).
pub fn build_router(
    config: &GatewayConfig,
    state: Option<Arc<dyn llm_router::SharedState>>,
    metrics: &Arc<crate::metrics::Metrics>,
) -> Result<(Router, PriceBook), Error> {
    let mut prices = PriceBook::default();
    let http = build_http_client()?;
    let mut per_group = std::collections::HashMap::<&str, usize>::new();
    let mut deployments = Vec::new();
    let mut wildcards: Vec<(String, Vec<DeploymentConfig>)> = Vec::new();
    for d in &config.deployments {
        if d.model_name.contains('*') {
            match wildcards
                .iter_mut()
                .find(|(pattern, _)| *pattern == d.model_name)
            {
                Some((_, templates)) => templates.push(d.clone()),
                None => wildcards.push((d.model_name.clone(), vec![d.clone()])),
            }
            continue;
        }
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
        let spec = with_catalog_prices(d.spec.clone(), &d.target.model);
        prices.insert(&id, &d.model_name, &d.prices, &d.target.model);
        deployments.push(Deployment::with_spec(
            &id,
            &d.model_name,
            &d.target.model,
            spec,
            provider,
        ));
    }
    // Redis (when configured) is only connected on first use: an unreachable server slows
    // nothing down at start and the router works on local state until it answers.
    let state = match state {
        Some(state) => state,
        None => new_shared_state(config)?,
    };
    let mut router =
        Router::with_state(deployments, config.router.clone(), state).with_events(metrics.clone());
    for (pattern, templates) in wildcards {
        router = router.with_wildcard(
            &pattern,
            wildcard_factory(&pattern, templates, http.clone()),
        );
    }
    Ok((router, prices))
}

/// The router's state backend of a configuration: Redis (connected on first use) or local.
fn new_shared_state(config: &GatewayConfig) -> Result<Arc<dyn llm_router::SharedState>, Error> {
    let state = llm_router::shared_state(config.router.redis.as_ref()).map_err(Error::internal)?;
    if let Some(redis) = &config.router.redis {
        tracing::info!(
            redis = redis.endpoint().unwrap_or_default(),
            key_prefix = redis.key_prefix,
            "router state is shared through Redis"
        );
    }
    Ok(state)
}

/// Fills a deployment's prices from the model catalog when the config gives none, so
/// `cost-based-routing` works without `model_info`. (The context window is not filled: a
/// pre-call refusal must rest on what the user configured, not on an estimate against a
/// table.) Prices here only rank deployments; spend is computed in integers elsewhere.
fn with_catalog_prices(mut spec: DeploymentSpec, model: &str) -> DeploymentSpec {
    if spec.price_per_token.is_none()
        && let Some(info) = llm_types::catalog::lookup(model)
        && let (Some(input), Some(output)) = (info.prices.input, info.prices.output)
    {
        // TokenPrice counts 10^-15 dollars a token.
        spec.price_per_token = Some((input.0 as f64 / 1e15, output.0 as f64 / 1e15));
    }
    spec
}

/// Builds the deployments of one concrete model of a wildcard group (`anthropic/*` asked for
/// `anthropic/claude-3-5-haiku`): each template's `*` in `litellm_params.model` becomes the
/// part of the requested model the pattern's `*` matched.
fn wildcard_factory(
    pattern: &str,
    templates: Vec<DeploymentConfig>,
    http: HttpClient,
) -> WildcardFactory<AnyProvider> {
    let prefix = pattern.trim_end_matches('*').to_owned();
    Arc::new(move |model: &str| {
        let matched = model.strip_prefix(prefix.as_str()).unwrap_or(model);
        templates
            .iter()
            .enumerate()
            .map(|(index, template)| {
                let mut target = template.target.clone();
                target.model = template.target.model.replace('*', matched);
                let provider = AnyProvider::build(&target, &http)?;
                let id = format!("{model}#{index}");
                let spec = with_catalog_prices(template.spec.clone(), &target.model);
                Ok(Deployment::with_spec(
                    &id,
                    model,
                    &target.model,
                    spec,
                    provider,
                ))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_come_from_the_config_or_the_catalog() {
        let configured = DeploymentSpec {
            price_per_token: Some((1.0, 2.0)),
            ..DeploymentSpec::default()
        };
        let cases = [
            (configured, "openai/gpt-4o", Some((1.0, 2.0))),
            (
                DeploymentSpec::default(),
                "openai/gpt-4o",
                Some((2.5e-6, 1e-5)),
            ),
            (DeploymentSpec::default(), "mock/demo", None),
        ];
        for (spec, model, expected) in cases {
            assert_eq!(
                with_catalog_prices(spec, model).price_per_token,
                expected,
                "{model}"
            );
        }
    }
}
