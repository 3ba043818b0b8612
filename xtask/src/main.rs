//! `cargo xtask`: project automation that would otherwise live in shell scripts.
//!
//! - `tidy`: the crate layering of the design brief and source hygiene rules, as code;
//! - `test`: the whole test suite (fmt, clippy, build, cargo test, Python e2e), what CI runs;
//! - `bench`: a load generator against the mock upstream, directly and through the gateway;
//! - `codegen`: the model price table of `llm-types`, from LiteLLM's public price data.
//!
//! Arguments are parsed by hand: a handful of flags do not justify a parser dependency.

// xtask is a command-line tool: printing to stdout is its user interface.
#![allow(clippy::print_stdout)]

mod bench;
mod codegen;
mod suite;
mod tidy;
mod workspace;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  tidy                      check crate layering and source hygiene rules
  test [--no-lint] [--no-e2e] [--e2e-only]
                            run the whole test suite: fmt, clippy, build, cargo test, e2e
  bench [--quick|--full] [--duration SECS] [--concurrency N] [--rate N] [--direct-only]
                            benchmark the gateway against the mock upstream
  codegen [--input PATH] [--output PATH] [--source LABEL] [--check]
                            regenerate the model price table of llm-types from LiteLLM's data
  help                      print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        print!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let result = match cmd.as_str() {
        "tidy" => no_args(cmd, rest).and_then(|()| tidy::run(&workspace::root())),
        "test" => suite::Options::parse(rest).and_then(|opts| suite::run(&opts)),
        "bench" => bench::Options::parse(rest).and_then(|opts| bench::run(&opts)),
        "codegen" => codegen::Options::parse(rest).and_then(|opts| codegen::run(&opts)),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask {cmd}: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn no_args(cmd: &str, rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!(
            "`{cmd}` takes no arguments, got `{arg}`\n\n{USAGE}"
        )),
    }
}
