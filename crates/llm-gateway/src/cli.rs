//! The command line: `llm-gateway [--config FILE] [--host H] [--port N]` serves;
//! `llm-gateway check-config FILE [--strict]` validates a configuration and exits;
//! `llm-gateway migrate [--config FILE]` applies the database migrations and exits;
//! `llm-gateway keys create|list|revoke` manages virtual keys through a running gateway.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{self, GatewayConfig, Report};
use crate::{output, server};

/// One OpenAI-format API in front of every LLM provider.
#[derive(Debug, Parser)]
#[command(name = "llm-gateway", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Configuration file (native or LiteLLM `config.yaml`; YAML or TOML). Without one, the
    /// offline demo configuration (mock provider) is served.
    #[arg(long, short = 'c', env = "LLM_GATEWAY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file and LLM_GATEWAY_HOST).
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free one (overrides the file and LLM_GATEWAY_PORT).
    #[arg(long)]
    port: Option<u16>,
    /// Log format on stderr.
    #[arg(long, value_parser = ["pretty", "json"], default_value = "pretty", env = "LLM_GATEWAY_LOG_FORMAT")]
    log_format: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a configuration file: exit 0 when usable (unsupported keys are warnings),
    /// 1 when invalid, printing every problem with its key path.
    CheckConfig {
        file: PathBuf,
        /// Treat unsupported keys as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Create, list or revoke virtual keys through a running gateway's admin API.
    Keys(crate::cli_keys::KeysArgs),
    /// Apply the database migrations (the server also applies them at start) and exit.
    Migrate {
        /// Configuration file naming the database (`general_settings.database_url`, or the
        /// SQLite file beside it); `DATABASE_URL` overrides it.
        #[arg(long, short = 'c', env = "LLM_GATEWAY_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::CheckConfig { file, strict }) => check_config(&file, strict),
        Some(Command::Migrate { config }) => migrate(config.as_deref()),
        Some(Command::Keys(args)) => crate::cli_keys::run(args),
        None => serve(cli),
    }
}

fn check_config(file: &std::path::Path, strict: bool) -> ExitCode {
    let (config, report) = config::load_file(file);
    output::check_config_report(file, config.as_ref(), &report, strict);
    if config.is_none() || report.has_errors(strict) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Loads the configuration at `path` (or the demo); on an invalid one says so and gives `None`.
fn load(path: Option<&std::path::Path>) -> Option<GatewayConfig> {
    let config = resolve(path);
    if config.is_none() {
        invalid();
    }
    config
}

/// Loads the configuration at `path` (or the demo), logging every issue with its key path,
/// and places the data directory: relative to the config file's directory, the config
/// file's directory by default.
fn resolve(path: Option<&std::path::Path>) -> Option<GatewayConfig> {
    let (config, report) = match path {
        Some(path) => config::load_file(path),
        None => {
            tracing::warn!(
                "no --config given: serving the offline demo configuration (mock provider)"
            );
            config::load_str(config::DEMO_CONFIG)
        }
    };
    let mut config = usable(config, &report)?;
    let base = path
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    config.policy.data_dir = Some(match config.policy.data_dir.take() {
        Some(dir) if dir.is_relative() => base.join(dir),
        Some(dir) => dir,
        None => base,
    });
    Some(config)
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            output::fatal(&format!("cannot start the async runtime: {error}"));
            None
        }
    }
}

fn migrate(path: Option<&std::path::Path>) -> ExitCode {
    init_logging("pretty");
    let Some(config) = load(path) else {
        return ExitCode::FAILURE;
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let settings = crate::app::policy_settings(&config);
    let result = runtime.block_on(async {
        let store = llm_policy::store::Store::connect(&settings.database_url)
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        store.close().await;
        Ok::<_, String>(())
    });
    match result {
        Ok(()) => {
            output::migrated(&llm_policy::store::redact_url(&settings.database_url));
            ExitCode::SUCCESS
        }
        Err(error) => {
            output::fatal(&format!("migration failed: {error}"));
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> ExitCode {
    init_logging(&cli.log_format);
    let (path, host, port) = (cli.config.clone(), cli.host, cli.port);
    // The same loading (data directory, flags over the file) at start and at each reload.
    let reload_path = path.clone();
    let reload: crate::reload::Loader = std::sync::Arc::new(move || {
        let mut config = resolve(reload_path.as_deref())?;
        if let Some(host) = &host {
            config.server.host.clone_from(host);
        }
        if let Some(port) = port {
            config.server.port = port;
        }
        Some(config)
    });
    let Some(config) = reload() else {
        invalid();
        return ExitCode::FAILURE;
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(server::run(config, path, reload)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::fatal(&error);
            ExitCode::FAILURE
        }
    }
}

/// Logs every finding; the config is usable unless one is an error.
fn usable(config: Option<GatewayConfig>, report: &Report) -> Option<GatewayConfig> {
    for issue in &report.issues {
        match issue.level {
            config::IssueLevel::Error => tracing::error!(path = %issue.path, "{}", issue.message),
            config::IssueLevel::Unsupported => {
                tracing::warn!(path = %issue.path, "unsupported config key ignored")
            }
            config::IssueLevel::Notice => tracing::info!(path = %issue.path, "{}", issue.message),
        }
    }
    if report.has_errors(false) {
        return None;
    }
    config
}

fn invalid() {
    output::fatal(
        "the configuration is invalid (see the errors above; `llm-gateway check-config FILE` lists them)",
    );
}

fn init_logging(format: &str) {
    crate::telemetry::init_logging(format);
}
