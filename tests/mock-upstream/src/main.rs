//! `mock-upstream`: the OpenAI mock as a process, for the benchmark, the offline demo and
//! Python tests. Prints one line with its URL once it listens, then serves until a signal.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use llm_mock_upstream::{MockOptions, MockServer};

const USAGE: &str =
    "usage: mock-upstream [--host 127.0.0.1] [--port 0] [--api-key KEY] [--record-limit 1000]";

#[derive(Debug)]
struct Args {
    addr: SocketAddr,
    opts: MockOptions,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = 0u16;
    let mut opts = MockOptions::default();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => host = value()?.parse().map_err(|e| format!("--host: {e}"))?,
            "--port" => port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--api-key" => opts.api_key = Some(value()?),
            "--record-limit" => {
                opts.record_limit = value()?
                    .parse()
                    .map_err(|e| format!("--record-limit: {e}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        addr: SocketAddr::new(host, port),
        opts,
    })
}

/// Resolves on SIGTERM or ctrl-c (SIGINT), whichever comes first.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("mock-upstream: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let server = match MockServer::start_on(args.addr, args.opts).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("mock-upstream: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    {
        // The listening line on stdout is this binary's interface: tests read the port from
        // it, so it is written and flushed explicitly rather than printed.
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        // Ignored write errors: a closed stdout must not stop the server the reader started.
        let _ = writeln!(
            stdout,
            "mock-upstream listening on http://{}",
            server.addr()
        );
        let _ = stdout.flush();
    }
    terminated().await;
    drop(server);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn parses_flags() {
        let args = parse(&[
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
            "--api-key",
            "k",
            "--record-limit",
            "5",
        ])
        .unwrap();
        assert_eq!(args.addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(args.opts.api_key.as_deref(), Some("k"));
        assert_eq!(args.opts.record_limit, 5);

        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(defaults.opts.api_key, None);
    }

    #[test]
    fn rejects_bad_flags() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--host", "nowhere"],
            &["--what"],
        ] {
            assert!(parse(args).is_err_and(|e| !e.is_empty()), "{args:?}");
        }
        assert_eq!(parse(&["--help"]).unwrap_err(), "");
    }
}
