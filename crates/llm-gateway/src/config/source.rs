//! Reading a configuration: file (YAML or TOML via figment), format detection, then
//! `LLM_GATEWAY_*` environment overrides of the server settings.

use figment::Figment;
use figment::providers::{Env, Format, Toml, Yaml};
use serde::Deserialize;
use std::path::Path;

use super::issues::Report;
use super::validated::{GatewayConfig, mb_to_bytes};
use super::{litellm, native};

/// The offline demo configuration (mock provider, no keys), served when no file is given.
pub const DEMO_CONFIG: &str = include_str!("../../../../examples/demo.yaml");

/// Server settings from the environment (`LLM_GATEWAY_HOST`, `_PORT`, `_MASTER_KEY`,
/// `_MAX_REQUEST_SIZE_MB`); they override the file.
#[derive(Debug, Default, Deserialize)]
struct EnvOverrides {
    host: Option<String>,
    port: Option<u16>,
    master_key: Option<String>,
    max_request_size_mb: Option<f64>,
}

/// Loads and validates the file at `path`. The config is `None` only when the file could not
/// be read or parsed at all; check `report.has_errors` before using it.
pub fn load_file(path: &Path) -> (Option<GatewayConfig>, Report) {
    let figment = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Figment::from(Toml::file_exact(path)),
        _ => Figment::from(Yaml::file_exact(path)),
    };
    load(figment)
}

/// Loads and validates YAML text (the embedded demo, tests).
pub fn load_str(yaml: &str) -> (Option<GatewayConfig>, Report) {
    load(Figment::from(Yaml::string(yaml)))
}

fn load(figment: Figment) -> (Option<GatewayConfig>, Report) {
    let mut report = Report::default();
    let root = match figment.extract::<serde_json::Value>() {
        Ok(serde_json::Value::Object(root)) => root,
        Ok(_) => {
            report.error("(root)", "the configuration must be a mapping of keys");
            return (None, report);
        }
        Err(error) => {
            report.error("(file)", error.to_string());
            return (None, report);
        }
    };
    let mut config = if root.contains_key("model_list") {
        litellm::parse(root, &mut report)
    } else {
        native::parse(root, &mut report)
    };
    apply_env_overrides(&mut config, &mut report);
    if config.deployments.is_empty() && !report.has_errors(false) {
        report.notice(
            "(models)",
            "no models are configured; every LLM request will be a 404",
        );
    }
    (Some(config), report)
}

fn apply_env_overrides(config: &mut GatewayConfig, report: &mut Report) {
    let env = Figment::from(Env::prefixed("LLM_GATEWAY_").only(&[
        "host",
        "port",
        "master_key",
        "max_request_size_mb",
    ]));
    match env.extract::<EnvOverrides>() {
        Ok(overrides) => {
            let server = &mut config.server;
            if let Some(host) = overrides.host {
                server.host = host;
            }
            if let Some(port) = overrides.port {
                server.port = port;
            }
            if let Some(key) = overrides.master_key.filter(|k| !k.is_empty()) {
                server.master_key = Some(key);
            }
            if let Some(mb) = overrides.max_request_size_mb {
                server.max_request_bytes = mb_to_bytes(mb);
            }
        }
        Err(error) => report.error("(environment LLM_GATEWAY_*)", error.to_string()),
    }
    // LiteLLM reads the database from `DATABASE_URL`; it wins over the file, as there.
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        config.policy.database_url = Some(url);
    }
    if let Ok(dir) = std::env::var("LLM_GATEWAY_DATA_DIR")
        && !dir.is_empty()
    {
        config.policy.data_dir = Some(dir.into());
    }
    // LiteLLM deployments often keep the master key in the environment only.
    if config.server.master_key.is_none()
        && let Ok(key) = std::env::var("LITELLM_MASTER_KEY")
        && !key.is_empty()
    {
        config.server.master_key = Some(key);
    }
}
