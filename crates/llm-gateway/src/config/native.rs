//! The native configuration format (YAML or TOML), strict: unknown keys are errors.
//!
//! ```yaml
//! server:
//!   master_key: ${LLM_GATEWAY_MASTER_KEY}
//!   max_request_size_mb: 16
//! policy:                       # optional: keys, budgets, spend
//!   database_url: postgres://... # default: SQLite file beside the config
//!   max_budget: 100              # gateway-wide, dollars
//!   budget_duration: 30d
//! models:
//!   - name: gpt-4o-mini
//!     model: openai/gpt-4o-mini
//!     api_key: ${OPENAI_API_KEY}
//!     timeout: 30
//! ```

use llm_providers::{AwsSettings, ProviderTarget, Secret, VertexSettings};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::cache::RawCacheParams;
use super::env_refs;
use super::issues::{Report, parse_section};
use super::log_sinks;
use super::router::{RawRouter, outer_redis};
use super::tracing::TracingConfig;
use super::validated::{
    DeploymentConfig, GatewayConfig, PolicyConfig, RawPrices, ServerSettings, check_duration,
    check_spec, check_target, dollars, fail_mode, mb_to_bytes, parse_guardrails, seconds,
};
use llm_router::DeploymentSpec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    host: Option<String>,
    port: Option<u16>,
    master_key: Option<String>,
    max_request_size_mb: Option<f64>,
}

/// `observability:`: trace export and request-log sinks, each parsed by its own module.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObservability {
    tracing: Option<Value>,
    log_sinks: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    database_url: Option<String>,
    data_dir: Option<String>,
    #[serde(default)]
    disable_spend_logs: bool,
    max_budget: Option<f64>,
    budget_duration: Option<String>,
    rate_limit_fail_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: String,
    model: String,
    api_base: Option<String>,
    api_key: Option<String>,
    api_version: Option<String>,
    organization: Option<String>,
    #[serde(default)]
    extra_headers: BTreeMap<String, String>,
    timeout: Option<f64>,
    stream_timeout: Option<f64>,
    max_retries: Option<u32>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    mock_response: Option<String>,
    #[serde(default)]
    drop_params: bool,
    #[serde(default)]
    additional_drop_params: Vec<String>,
    vertex_project: Option<String>,
    vertex_location: Option<String>,
    vertex_credentials: Option<String>,
    aws_access_key_id: Option<String>,
    aws_secret_access_key: Option<String>,
    aws_session_token: Option<String>,
    aws_region_name: Option<String>,
    aws_profile_name: Option<String>,
    azure_ad_token: Option<String>,
    max_parallel_requests: Option<u32>,
    weight: Option<f64>,
    order: Option<u32>,
    max_input_tokens: Option<u64>,
    input_cost_per_token: Option<f64>,
    output_cost_per_token: Option<f64>,
    cache_read_input_token_cost: Option<f64>,
    cache_creation_input_token_cost: Option<f64>,
    output_cost_per_reasoning_token: Option<f64>,
}

/// Maps a native document onto the validated config, reporting every problem.
pub fn parse(root: serde_json::Map<String, Value>, report: &mut Report) -> GatewayConfig {
    let mut config = GatewayConfig {
        format: "native",
        ..GatewayConfig::default()
    };
    let mut resolved = Value::Object(root);
    env_refs::resolve(&mut resolved, &BTreeMap::new(), report, "");
    let Value::Object(root) = resolved else {
        return config;
    };
    let mut router = None;
    let mut redis_url = None;
    let mut cache = None;
    let mut tracing_section = None;
    for (key, value) in root {
        match key.as_str() {
            "router" => router = parse_section::<RawRouter>(report, "router", value),
            "redis_url" => redis_url = parse_section::<Option<String>>(report, "redis_url", value),
            "cache" => cache = parse_section::<RawCacheParams>(report, "cache", value),
            "guardrails" => parse_guardrails(&mut config, &value, report),
            "observability" => {
                if let Some(section) =
                    parse_section::<RawObservability>(report, "observability", value)
                {
                    tracing_section = section.tracing;
                    if let Some(sinks) = section.log_sinks {
                        config.log_sinks =
                            log_sinks::parse_native(sinks, "observability.log_sinks", report);
                    }
                }
            }
            "policy" => {
                if let Some(policy) = parse_section::<RawPolicy>(report, "policy", value) {
                    config.policy = policy_settings(policy, report);
                }
            }
            "server" => {
                if let Some(server) = parse_section::<RawServer>(report, "server", value) {
                    config.server = server_settings(server, report);
                }
            }
            "models" => match value {
                Value::Array(models) => {
                    for (i, model) in models.into_iter().enumerate() {
                        let path = format!("models[{i}]");
                        if let Some(raw) = parse_section::<RawModel>(report, &path, model) {
                            config.deployments.push(deployment(raw, &path, report));
                        }
                    }
                }
                _ => report.error("models", "must be a list of models"),
            },
            other => report.error(
                other,
                "unknown key (expected `server`, `policy`, `cache`, `guardrails`, \
                 `observability`, `router`, `models` or `redis_url`)",
            ),
        }
    }
    config.tracing =
        TracingConfig::resolve(tracing_section, "observability.tracing", false, report);
    // Without a `router:` section the defaults apply, with a top-level or environment Redis.
    let mut router = router.unwrap_or_default();
    router.outer_redis = outer_redis(redis_url.flatten());
    for key in router.unknown.keys() {
        report.error(format!("router.{key}"), "unknown key");
    }
    let groups = config
        .model_names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    config.router = router.settings("router", &groups, report);
    if let Some(raw) = cache {
        let shared = config.router.redis.as_ref().map(|r| r.url.clone());
        config.cache = raw.validate(report, "cache", shared.as_deref(), true);
    }
    config
}

fn policy_settings(raw: RawPolicy, report: &mut Report) -> PolicyConfig {
    check_duration(
        report,
        "policy.budget_duration",
        raw.budget_duration.as_deref(),
    );
    PolicyConfig {
        database_url: raw.database_url.filter(|u| !u.is_empty()),
        data_dir: raw.data_dir.map(std::path::PathBuf::from),
        disable_spend_logs: raw.disable_spend_logs,
        max_budget: dollars(report, "policy.max_budget", raw.max_budget),
        budget_duration: raw.budget_duration,
        fail_closed: fail_mode(
            report,
            "policy.rate_limit_fail_mode",
            raw.rate_limit_fail_mode.as_deref(),
        ),
    }
}

fn server_settings(raw: RawServer, report: &mut Report) -> ServerSettings {
    let defaults = ServerSettings::default();
    let max_request_bytes = match raw.max_request_size_mb {
        Some(mb) if !(mb > 0.0 && mb <= 4096.0) => {
            report.error("server.max_request_size_mb", "must be between 0 and 4096");
            defaults.max_request_bytes
        }
        Some(mb) => mb_to_bytes(mb),
        None => defaults.max_request_bytes,
    };
    ServerSettings {
        host: raw.host.unwrap_or(defaults.host),
        port: raw.port.unwrap_or(defaults.port),
        master_key: raw.master_key.filter(|k| !k.is_empty()),
        max_request_bytes,
    }
}

fn deployment(raw: RawModel, path: &str, report: &mut Report) -> DeploymentConfig {
    if raw.name.trim().is_empty() {
        report.error(format!("{path}.name"), "must not be empty");
    }
    let target = ProviderTarget {
        model: raw.model,
        api_base: raw.api_base,
        api_key: raw.api_key.filter(|k| !k.is_empty()).map(Secret::new),
        api_version: raw.api_version,
        organization: raw.organization,
        extra_headers: raw.extra_headers.into_iter().collect(),
        timeout: seconds(report, &format!("{path}.timeout"), raw.timeout),
        stream_timeout: seconds(
            report,
            &format!("{path}.stream_timeout"),
            raw.stream_timeout,
        ),
        mock_response: raw.mock_response,
        drop_params: raw.drop_params,
        additional_drop_params: raw.additional_drop_params,
        vertex: VertexSettings {
            project: raw.vertex_project,
            location: raw.vertex_location,
            credentials: raw.vertex_credentials.map(Secret::new),
        },
        aws: AwsSettings {
            access_key_id: raw.aws_access_key_id,
            secret_access_key: raw.aws_secret_access_key.map(Secret::new),
            session_token: raw.aws_session_token.map(Secret::new),
            profile_name: raw.aws_profile_name,
            region_name: raw.aws_region_name,
        },
        azure_ad_token: raw
            .azure_ad_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
    };
    check_target(report, path, "model", &target);
    let prices = RawPrices {
        input_cost_per_token: raw.input_cost_per_token,
        output_cost_per_token: raw.output_cost_per_token,
        cache_read_input_token_cost: raw.cache_read_input_token_cost,
        cache_creation_input_token_cost: raw.cache_creation_input_token_cost,
        output_cost_per_reasoning_token: raw.output_cost_per_reasoning_token,
    }
    .validate(report, path);
    let spec = DeploymentSpec {
        rpm: raw.rpm,
        tpm: raw.tpm,
        max_parallel_requests: raw.max_parallel_requests,
        weight: raw.weight,
        order: raw.order,
        max_input_tokens: raw.max_input_tokens,
        price_per_token: raw.input_cost_per_token.zip(raw.output_cost_per_token),
        max_retries: raw.max_retries,
    };
    check_spec(report, path, &spec);
    DeploymentConfig {
        model_name: raw.name,
        target,
        spec,
        model_info: BTreeMap::new(),
        prices,
    }
}
