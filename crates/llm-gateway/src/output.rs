//! Everything the CLI prints to stdout (the one module allowed to): the listening line
//! scripts wait for, and the `check-config` report.
#![allow(clippy::print_stdout)] // this module is the CLI's output

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use crate::config::{GatewayConfig, IssueLevel, Report};

/// The line tests and scripts wait for, flushed at once.
pub fn listening(addr: SocketAddr) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "llm-gateway listening on http://{addr}");
    let _ = stdout.flush();
}

/// `migrate` succeeded.
pub fn migrated(database: &str) {
    println!("migrations applied to {database}");
}

/// A JSON answer (the `keys` subcommands), pretty-printed.
pub fn json(value: &serde_json::Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(_) => println!("{value}"),
    }
}

/// A fatal error, on stderr.
pub fn fatal(message: &str) {
    eprintln!("llm-gateway: {message}");
}

/// The result of `check-config`: every finding with its key path, then a verdict.
pub fn check_config_report(
    file: &Path,
    config: Option<&GatewayConfig>,
    report: &Report,
    strict: bool,
) {
    for issue in &report.issues {
        let level = match issue.level {
            IssueLevel::Error => "error",
            IssueLevel::Unsupported if strict => "error",
            IssueLevel::Unsupported => "warning",
            IssueLevel::Notice => "notice",
        };
        let message = match issue.level {
            IssueLevel::Unsupported => "unsupported key (ignored)",
            _ => issue.message.as_str(),
        };
        println!("{level}: {}: {message}", issue.path);
    }
    match config {
        Some(config) if !report.has_errors(strict) => println!(
            "{}: OK ({} format, {} model groups, {} deployments)",
            file.display(),
            config.format,
            config.model_names().len(),
            config.deployments.len()
        ),
        _ => println!("{}: INVALID", file.display()),
    }
}
