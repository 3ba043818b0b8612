//! The `llm-gateway` binary: parses the command line and hands over to [`llm_gateway::cli`].

fn main() -> std::process::ExitCode {
    llm_gateway::cli::main()
}
