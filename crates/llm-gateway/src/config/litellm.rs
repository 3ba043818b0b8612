//! LiteLLM's `config.yaml`, accepted unchanged.
//!
//! Supported today: `model_list[].model_name`, `model_list[].litellm_params.{model, api_base,
//! api_key, api_version, timeout, stream_timeout, max_retries, rpm, tpm, organization,
//! extra_headers, mock_response, *_cost_per_token}`, `model_list[].model_info`,
//! `general_settings.{master_key, max_request_size_mb, database_url, disable_spend_logs}` (and
//! our `data_dir`, `rate_limit_fail_mode`), `litellm_settings.{request_timeout, max_budget,
//! budget_duration}`, `environment_variables`, and `os.environ/NAME` values. Every other key is
//! reported by its path as unsupported.

use llm_providers::{AwsSettings, ProviderTarget, Secret, VertexSettings, hosts};
use llm_types::ModelRef;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeMap;

use super::cache::RawCacheParams;
use super::env_refs;
use super::issues::{Report, join, parse_section};
use super::log_sinks::{self, LitellmCallbacks};
use super::router::{RawRouter, outer_redis};
use super::tracing::TracingConfig;
use super::validated::{
    DeploymentConfig, GatewayConfig, PolicyConfig, RawPrices, ServerSettings, check_duration,
    check_spec, check_target, dollars, fail_mode, mb_to_bytes, parse_guardrails, seconds,
};
use llm_router::DeploymentSpec;

#[derive(Debug, Deserialize)]
struct RawEntry {
    model_name: String,
    litellm_params: Value,
    #[serde(default)]
    model_info: Option<BTreeMap<String, Value>>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawParams {
    model: String,
    api_base: Option<String>,
    api_key: Option<String>,
    api_version: Option<String>,
    #[serde(default, deserialize_with = "number_like")]
    timeout: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    stream_timeout: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    max_retries: Option<u32>,
    #[serde(default, deserialize_with = "number_like")]
    rpm: Option<u64>,
    #[serde(default, deserialize_with = "number_like")]
    tpm: Option<u64>,
    #[serde(default, deserialize_with = "number_like")]
    max_parallel_requests: Option<u32>,
    #[serde(default, deserialize_with = "number_like")]
    weight: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    order: Option<u32>,
    #[serde(default, deserialize_with = "number_like")]
    input_cost_per_token: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    output_cost_per_token: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    cache_read_input_token_cost: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    cache_creation_input_token_cost: Option<f64>,
    #[serde(default, deserialize_with = "number_like")]
    output_cost_per_reasoning_token: Option<f64>,
    organization: Option<String>,
    #[serde(default)]
    extra_headers: BTreeMap<String, String>,
    mock_response: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    drop_params: Option<bool>,
    #[serde(default)]
    additional_drop_params: Vec<String>,
    vertex_project: Option<String>,
    vertex_location: Option<String>,
    /// A JSON string, a file path, or (YAML) an inline mapping.
    vertex_credentials: Option<Value>,
    aws_access_key_id: Option<String>,
    aws_secret_access_key: Option<String>,
    aws_session_token: Option<String>,
    aws_region_name: Option<String>,
    aws_profile_name: Option<String>,
    azure_ad_token: Option<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawGeneral {
    master_key: Option<String>,
    #[serde(default, deserialize_with = "number_like")]
    max_request_size_mb: Option<f64>,
    database_url: Option<String>,
    /// Ours: where the SQLite file and the spend journal live.
    data_dir: Option<String>,
    #[serde(default, deserialize_with = "bool_like")]
    disable_spend_logs: Option<bool>,
    /// Ours: `open` (default) or `closed` when Redis is unreachable.
    rate_limit_fail_mode: Option<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawLitellmSettings {
    #[serde(default, deserialize_with = "number_like")]
    request_timeout: Option<f64>,
    #[serde(default, deserialize_with = "bool_like")]
    drop_params: Option<bool>,
    /// The response cache (`cache: true` + `cache_params`).
    #[serde(default, deserialize_with = "bool_like")]
    cache: Option<bool>,
    cache_params: Option<Value>,
    /// The gateway-wide budget and its period.
    #[serde(default, deserialize_with = "number_like")]
    max_budget: Option<f64>,
    budget_duration: Option<String>,
    /// Request-log callbacks (`success_callback`, `callbacks`, ...).
    #[serde(flatten)]
    callbacks: LitellmCallbacks,
    /// LiteLLM also reads `num_retries`, `fallbacks`, ... here; unknown keys end up in
    /// `router.unknown`.
    #[serde(flatten)]
    router: RawRouter,
}

/// Numbers as LiteLLM configs write them: a number, or a numeric string (`os.environ/...`
/// values are strings).
pub(super) fn number_like<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + serde::de::DeserializeOwned,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got `{text}`"))),
        Some(other) => T::deserialize(other)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Booleans as LiteLLM configs write them: `true` or `"true"` (from `os.environ/...`).
fn bool_like<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(text)) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got `{text}`"
            ))),
        },
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected true or false, got {other}"
        ))),
    }
}

/// Maps a LiteLLM document onto the validated config, reporting every problem and every
/// unsupported key.
pub fn parse(mut root: serde_json::Map<String, Value>, report: &mut Report) -> GatewayConfig {
    let mut config = GatewayConfig {
        format: "litellm",
        ..GatewayConfig::default()
    };
    let defined: BTreeMap<String, String> = match root.remove("environment_variables") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(value) => parse_section(report, "environment_variables", value).unwrap_or_default(),
    };
    let mut resolved = Value::Object(root);
    env_refs::resolve(&mut resolved, &defined, report, "");
    let Value::Object(root) = resolved else {
        return config;
    };

    let mut default_timeout = None;
    let mut cache_params: Option<Option<Value>> = None;
    let mut global_drop_params = false;
    let mut otel_callback = false;
    let mut entries = Vec::new();
    let (mut router, mut litellm_router) = (RawRouter::default(), RawRouter::default());
    for (key, value) in root {
        match key.as_str() {
            "model_list" => match value {
                Value::Array(items) => entries = items,
                Value::Null => {}
                _ => report.error("model_list", "must be a list of models"),
            },
            "general_settings" => {
                let general: RawGeneral =
                    parse_section(report, "general_settings", value).unwrap_or_default();
                config.policy = policy_settings(&general, config.policy, report);
                config.server = server_settings(general, report);
            }
            "litellm_settings" => {
                let settings: RawLitellmSettings =
                    parse_section(report, "litellm_settings", value).unwrap_or_default();
                default_timeout = seconds(
                    report,
                    "litellm_settings.request_timeout",
                    settings.request_timeout,
                );
                global_drop_params = settings.drop_params.unwrap_or(false);
                config.policy.max_budget =
                    dollars(report, "litellm_settings.max_budget", settings.max_budget);
                check_duration(
                    report,
                    "litellm_settings.budget_duration",
                    settings.budget_duration.as_deref(),
                );
                config.policy.budget_duration = settings.budget_duration;
                if settings.cache == Some(true) {
                    cache_params = Some(settings.cache_params);
                } else if settings.cache_params.is_some() {
                    report.notice(
                        "litellm_settings.cache_params",
                        "ignored: the cache is off (`litellm_settings.cache: true` turns it on)",
                    );
                }
                let (sinks, otel) = log_sinks::parse_litellm_with(
                    &settings.callbacks,
                    &|name| env_refs::lookup(name, &defined),
                    report,
                );
                config.log_sinks = sinks;
                otel_callback = otel;
                report.unsupported_keys("litellm_settings", settings.router.unknown.keys());
                litellm_router = settings.router;
            }
            "guardrails" => parse_guardrails(&mut config, &value, report),
            "router_settings" => {
                router = parse_section(report, "router_settings", value).unwrap_or_default();
                report.unsupported_keys("router_settings", router.unknown.keys());
            }
            _ => report_unsupported_tree(report, &key, &value),
        }
    }
    for (i, entry) in entries.into_iter().enumerate() {
        let path = format!("model_list[{i}]");
        if let Some(deployment) = deployment(entry, &path, &defined, report) {
            let mut deployment = with_default_timeout(deployment, default_timeout);
            deployment.target.drop_params |= global_drop_params;
            config.deployments.push(deployment);
        }
    }
    let groups = config
        .model_names()
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    // The config's `environment_variables` count as environment, as in LiteLLM.
    let mut env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    env.extend(defined.iter().map(|(k, v)| (k.clone(), v.clone())));
    config.tracing = TracingConfig::resolve_with(
        None,
        "litellm_settings.callbacks",
        otel_callback,
        &env,
        report,
    );
    let mut router = router.or(litellm_router);
    router.outer_redis = outer_redis(None);
    config.router = router.settings("router_settings", &groups, report);
    if let Some(params) = cache_params {
        let path = "litellm_settings.cache_params";
        let raw = match params {
            None | Some(Value::Null) => Some(RawCacheParams::default()),
            Some(value) => parse_section::<RawCacheParams>(report, path, value),
        };
        let shared = config.router.redis.as_ref().map(|r| r.url.clone());
        config.cache = raw.and_then(|raw| raw.validate(report, path, shared.as_deref(), false));
    }
    config
}

/// A section we do not support at all: name its keys (one level down) so the user sees what
/// is ignored.
fn report_unsupported_tree(report: &mut Report, key: &str, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => report.unsupported_keys(key, map.keys()),
        _ => report.unsupported(key),
    }
}

fn policy_settings(raw: &RawGeneral, policy: PolicyConfig, report: &mut Report) -> PolicyConfig {
    PolicyConfig {
        database_url: raw.database_url.clone().filter(|u| !u.is_empty()),
        data_dir: raw.data_dir.as_ref().map(std::path::PathBuf::from),
        disable_spend_logs: raw.disable_spend_logs.unwrap_or(false),
        fail_closed: fail_mode(
            report,
            "general_settings.rate_limit_fail_mode",
            raw.rate_limit_fail_mode.as_deref(),
        ),
        ..policy
    }
}

fn server_settings(raw: RawGeneral, report: &mut Report) -> ServerSettings {
    report.unsupported_keys("general_settings", raw.unknown.keys());
    let defaults = ServerSettings::default();
    let max_request_bytes = match raw.max_request_size_mb {
        Some(mb) if !(mb > 0.0 && mb <= 4096.0) => {
            report.error(
                "general_settings.max_request_size_mb",
                "must be between 0 and 4096",
            );
            defaults.max_request_bytes
        }
        Some(mb) => mb_to_bytes(mb),
        None => defaults.max_request_bytes,
    };
    ServerSettings {
        master_key: raw.master_key.filter(|k| !k.is_empty()),
        max_request_bytes,
        ..defaults
    }
}

fn deployment(
    entry: Value,
    path: &str,
    defined: &BTreeMap<String, String>,
    report: &mut Report,
) -> Option<DeploymentConfig> {
    let entry: RawEntry = parse_section(report, path, entry)?;
    report.unsupported_keys(path, entry.unknown.keys());
    if entry.model_name.trim().is_empty() {
        report.error(join(path, "model_name"), "must not be empty");
    }
    let params_path = join(path, "litellm_params");
    let params: RawParams = parse_section(report, &params_path, entry.litellm_params)?;
    report.unsupported_keys(&params_path, params.unknown.keys());
    let api_key = params
        .api_key
        .filter(|k| !k.is_empty())
        .or_else(|| default_key(&params.model, defined));
    let target = ProviderTarget {
        model: params.model,
        api_base: params.api_base.filter(|b| !b.is_empty()),
        api_key: api_key.map(Secret::new),
        api_version: params.api_version,
        organization: params.organization,
        extra_headers: params.extra_headers.into_iter().collect(),
        timeout: seconds(report, &join(&params_path, "timeout"), params.timeout),
        stream_timeout: seconds(
            report,
            &join(&params_path, "stream_timeout"),
            params.stream_timeout,
        ),
        mock_response: params.mock_response,
        drop_params: params.drop_params.unwrap_or(false),
        additional_drop_params: params.additional_drop_params,
        vertex: VertexSettings {
            project: params.vertex_project,
            location: params.vertex_location,
            credentials: params.vertex_credentials.map(|c| match c {
                Value::String(text) => Secret::new(text),
                other => Secret::new(other.to_string()),
            }),
        },
        aws: AwsSettings {
            access_key_id: params.aws_access_key_id,
            secret_access_key: params.aws_secret_access_key.map(Secret::new),
            session_token: params.aws_session_token.map(Secret::new),
            profile_name: params.aws_profile_name,
            region_name: params.aws_region_name,
        },
        azure_ad_token: params
            .azure_ad_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
    };
    check_target(report, &params_path, "model", &target);
    let model_info = entry.model_info.unwrap_or_default();
    let info_number = |key: &str| model_info.get(key).and_then(Value::as_f64);
    let input_price = params
        .input_cost_per_token
        .or_else(|| info_number("input_cost_per_token"));
    let output_price = params
        .output_cost_per_token
        .or_else(|| info_number("output_cost_per_token"));
    let prices = RawPrices {
        input_cost_per_token: input_price,
        output_cost_per_token: output_price,
        cache_read_input_token_cost: params
            .cache_read_input_token_cost
            .or_else(|| info_number("cache_read_input_token_cost")),
        cache_creation_input_token_cost: params
            .cache_creation_input_token_cost
            .or_else(|| info_number("cache_creation_input_token_cost")),
        output_cost_per_reasoning_token: params
            .output_cost_per_reasoning_token
            .or_else(|| info_number("output_cost_per_reasoning_token")),
    }
    .validate(report, &params_path);
    let spec = DeploymentSpec {
        rpm: params.rpm,
        tpm: params.tpm,
        max_parallel_requests: params.max_parallel_requests,
        weight: params.weight,
        order: params.order,
        max_input_tokens: info_number("max_input_tokens").map(|n| n as u64),
        price_per_token: input_price.zip(output_price),
        max_retries: params.max_retries,
    };
    check_spec(report, &params_path, &spec);
    Some(DeploymentConfig {
        model_name: entry.model_name,
        target,
        spec,
        model_info,
        prices,
    })
}

/// The provider's usual key variable, looked up in `environment_variables` first (LiteLLM
/// exports that section into the environment; we read it without mutating ours).
fn default_key(model: &str, defined: &BTreeMap<String, String>) -> Option<String> {
    let provider = ModelRef::parse(model).ok()?.provider;
    let name = hosts::find_host(provider)?.api_key_env?;
    defined.get(name).cloned()
}

fn with_default_timeout(
    mut deployment: DeploymentConfig,
    timeout: Option<std::time::Duration>,
) -> DeploymentConfig {
    if deployment.target.timeout.is_none() {
        deployment.target.timeout = timeout;
    }
    deployment
}
