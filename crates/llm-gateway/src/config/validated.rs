//! The validated configuration both formats map onto, and the checks shared by both.

use llm_providers::{Family, ProviderTarget, hosts, provider_names};
use llm_router::{DeploymentSpec, RouterSettings};
use llm_types::ModelRef;
use llm_types::catalog::{Prices, TokenPrice};
use llm_types::money::NanoDollars;
use std::collections::BTreeMap;
use std::time::Duration;

use super::issues::Report;

/// Default request body limit (`general_settings.max_request_size_mb`).
pub const DEFAULT_MAX_REQUEST_MB: f64 = 16.0;

/// Server settings after file, environment and flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub master_key: Option<String>,
    pub max_request_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            host: "0.0.0.0".to_owned(),
            port: 4000,
            master_key: None,
            max_request_bytes: mb_to_bytes(DEFAULT_MAX_REQUEST_MB),
        }
    }
}

pub fn mb_to_bytes(mb: f64) -> usize {
    (mb * 1024.0 * 1024.0) as usize
}

/// Keys, budgets and spend (`general_settings.database_url`, ... / native `policy:`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyConfig {
    /// `postgres://...` or `sqlite://...`; `None`: a SQLite file in the data directory.
    pub database_url: Option<String>,
    /// Where the SQLite file and the spend journal live; relative paths are taken from the
    /// config file's directory. `None`: the config file's directory.
    pub data_dir: Option<std::path::PathBuf>,
    /// No spend log rows (budgets and limits still hold).
    pub disable_spend_logs: bool,
    /// Gateway-wide budget (`litellm_settings.max_budget`) and its period.
    pub max_budget: Option<NanoDollars>,
    pub budget_duration: Option<String>,
    /// When Redis is configured but unreachable: refuse (`true`) or keep serving on
    /// in-process limits (`false`, the default).
    pub fail_closed: bool,
}

/// `open` / `closed` (what to do when Redis is unreachable); `true` means closed.
pub fn fail_mode(report: &mut Report, path: &str, mode: Option<&str>) -> bool {
    match mode {
        None | Some("open") => false,
        Some("closed") => true,
        Some(other) => {
            report.error(path, format!("`{other}`: expected `open` or `closed`"));
            false
        }
    }
}

/// Checks a budget period string.
pub fn check_duration(report: &mut Report, path: &str, duration: Option<&str>) {
    if let Some(text) = duration
        && llm_policy::period::parse_duration(text).is_none()
    {
        report.error(
            path,
            format!("`{text}` is not a duration (use e.g. `30s`, `15m`, `1h`, `1d`, `30d`)"),
        );
    }
}

/// A dollar amount from a config number, exactly (`0.000002` stays that, not a float's
/// neighbour).
pub fn dollars(report: &mut Report, path: &str, value: Option<f64>) -> Option<NanoDollars> {
    let value = value?;
    match NanoDollars::parse_dollars(&format!("{value}")) {
        Some(amount) if amount.0 >= 0 => Some(amount),
        _ => {
            report.error(
                path,
                "must be a non-negative dollar amount with at most 9 decimals",
            );
            None
        }
    }
}

/// A per-token price from a config number (`input_cost_per_token: 0.0000025`).
pub fn token_price(report: &mut Report, path: &str, value: Option<f64>) -> Option<TokenPrice> {
    let value = value?;
    match TokenPrice::parse_per_token(&format!("{value}")) {
        Some(price) => Some(price),
        None => {
            report.error(path, "must be a non-negative price per token");
            None
        }
    }
}

/// The five LiteLLM price keys of a deployment, as given (floats from YAML).
#[derive(Debug, Default, Clone, Copy)]
pub struct RawPrices {
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    pub cache_read_input_token_cost: Option<f64>,
    pub cache_creation_input_token_cost: Option<f64>,
    pub output_cost_per_reasoning_token: Option<f64>,
}

impl RawPrices {
    /// Exact prices; `path` is where the keys live (for errors).
    pub fn validate(self, report: &mut Report, path: &str) -> Prices {
        let mut price = |key: &str, value| token_price(report, &format!("{path}.{key}"), value);
        Prices {
            input: price("input_cost_per_token", self.input_cost_per_token),
            output: price("output_cost_per_token", self.output_cost_per_token),
            cache_read: price(
                "cache_read_input_token_cost",
                self.cache_read_input_token_cost,
            ),
            cache_creation: price(
                "cache_creation_input_token_cost",
                self.cache_creation_input_token_cost,
            ),
            reasoning: price(
                "output_cost_per_reasoning_token",
                self.output_cost_per_reasoning_token,
            ),
        }
    }
}

/// One deployment of a model group.
#[derive(Debug, Clone)]
pub struct DeploymentConfig {
    /// Public model name (several entries with one name form a group).
    pub model_name: String,
    pub target: ProviderTarget,
    /// Limits and routing hints (rpm, tpm, weight, order, context window, prices, retries).
    pub spec: DeploymentSpec,
    /// `model_info` as given (id, base_model, prices...); kept for the admin API.
    pub model_info: BTreeMap<String, serde_json::Value>,
    /// Prices the config sets (`input_cost_per_token`, `cache_read_input_token_cost`, ...);
    /// the model catalog fills the rest.
    pub prices: Prices,
}

/// A usable configuration.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// `native` or `litellm`.
    pub format: &'static str,
    pub server: ServerSettings,
    pub deployments: Vec<DeploymentConfig>,
    pub router: RouterSettings,
    pub policy: PolicyConfig,
    /// The response cache, when enabled.
    pub cache: Option<super::cache::CacheConfig>,
    /// The guardrails (LiteLLM's `guardrails:` list).
    pub guardrails: Vec<llm_policy::guardrails::GuardrailSpec>,
    /// Trace export (OTLP), from the config and the `OTEL_*` environment.
    pub tracing: super::tracing::TracingConfig,
    /// Request-log sinks (webhook, OTLP, JSON lines).
    pub log_sinks: Vec<super::log_sinks::SinkConfig>,
}

/// Parses the `guardrails:` list into `config`, reporting every error by its path.
pub fn parse_guardrails(
    config: &mut GatewayConfig,
    value: &serde_json::Value,
    report: &mut Report,
) {
    match llm_policy::guardrails::GuardrailSpec::from_litellm(value) {
        Ok(specs) => config.guardrails = specs,
        Err(errors) => {
            for (path, message) in errors {
                report.error(path, message);
            }
        }
    }
}

impl GatewayConfig {
    /// Distinct public model names, in order of appearance.
    pub fn model_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for d in &self.deployments {
            if !names.contains(&d.model_name.as_str()) {
                names.push(&d.model_name);
            }
        }
        names
    }
}

/// Checks a deployment's target without any IO: the provider is known, an endpoint exists,
/// URLs and timeouts make sense.
pub fn check_target(report: &mut Report, path: &str, model_key: &str, target: &ProviderTarget) {
    let model_path = format!("{path}.{model_key}");
    let Ok(model_ref) = ModelRef::parse(&target.model) else {
        report.error(
            model_path,
            format!(
                "`{}` is not of the form `provider/model` (e.g. `openai/gpt-4o-mini`)",
                target.model
            ),
        );
        return;
    };
    let host = hosts::find_host(model_ref.provider);
    if Family::for_provider(model_ref.provider).is_none() {
        report.error(
            model_path,
            format!(
                "unknown provider `{}`; supported providers: {}",
                model_ref.provider,
                provider_names().join(", ")
            ),
        );
        return;
    }
    if let Some(base) = &target.api_base {
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
            report.error(
                format!("{path}.api_base"),
                format!("`{base}` is not an http:// or https:// URL"),
            );
        }
    } else if host.is_some_and(|h| {
        h.default_base_url.is_none() && h.api_base_env.is_none_or(|e| std::env::var(e).is_err())
    }) {
        report.error(
            format!("{path}.api_base"),
            format!(
                "provider `{}` has no default endpoint: set `api_base`",
                model_ref.provider
            ),
        );
    }
    for (name, value) in [
        ("timeout", target.timeout),
        ("stream_timeout", target.stream_timeout),
    ] {
        if value.is_some_and(|v| v.is_zero()) {
            report.error(format!("{path}.{name}"), "must be greater than 0 seconds");
        }
    }
}

/// Checks a deployment's limits and hints.
pub fn check_spec(report: &mut Report, path: &str, spec: &DeploymentSpec) {
    if spec.weight.is_some_and(|w| !(w.is_finite() && w >= 0.0)) {
        report.error(format!("{path}.weight"), "must be a number of at least 0");
    }
    if spec.rpm == Some(0) || spec.tpm == Some(0) || spec.max_parallel_requests == Some(0) {
        report.error(
            format!("{path}.rpm/tpm/max_parallel_requests"),
            "limits must be at least 1",
        );
    }
    if let Some((input, output)) = spec.price_per_token
        && !(input.is_finite() && output.is_finite() && input >= 0.0 && output >= 0.0)
    {
        report.error(
            format!("{path}.input_cost_per_token"),
            "prices must be numbers of at least 0",
        );
    }
}

/// Seconds as LiteLLM writes them (int or float) → a duration; errors for negatives.
pub fn seconds(report: &mut Report, path: &str, value: Option<f64>) -> Option<Duration> {
    let value = value?;
    if !value.is_finite() || !(0.0..=86_400.0).contains(&value) {
        report.error(
            path,
            format!("must be a number of seconds between 0 and 86400, got {value}"),
        );
        return None;
    }
    Some(Duration::from_secs_f64(value))
}
