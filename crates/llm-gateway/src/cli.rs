//! The command line: `llm-gateway [--config FILE] [--host H] [--port N]` serves;
//! `llm-gateway check-config FILE [--strict]` validates a configuration and exits.

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
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::CheckConfig { file, strict }) => check_config(&file, strict),
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

fn serve(cli: Cli) -> ExitCode {
    init_logging(&cli.log_format);
    let (config, report) = match &cli.config {
        Some(path) => config::load_file(path),
        None => {
            tracing::warn!(
                "no --config given: serving the offline demo configuration (mock provider)"
            );
            config::load_str(config::DEMO_CONFIG)
        }
    };
    let Some(mut config) = usable(config, &report) else {
        return ExitCode::FAILURE;
    };
    if let Some(host) = cli.host {
        config.server.host = host;
    }
    if let Some(port) = cli.port {
        config.server.port = port;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::fatal(&format!("cannot start the async runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
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
        output::fatal(
            "the configuration is invalid (see the errors above; `llm-gateway check-config FILE` lists them)",
        );
        return None;
    }
    config
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: escape codes in a log file or a collector are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
