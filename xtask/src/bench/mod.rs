//! `cargo xtask bench`: what the gateway costs on top of its upstream.
//!
//! Builds release binaries, starts the mock upstream and the gateway in front of it, and runs
//! the same load against both: a closed loop for throughput ([`load`]) and an open loop at a
//! fixed rate for latency percentiles ([`open`]). The difference is the gateway's added latency.
//! Results go to stdout as a table and to `<target>/bench/last.json`.
//!
//! The load generator shares the machine with both servers, so numbers compare runs on one
//! machine; they are not absolute capacities.

mod extras;
mod load;
mod open;
mod policy;
mod procs;
mod report;
mod stats;
mod telemetry;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::workspace::{self, run_step};
use load::Target;
use procs::Server;
use report::{Report, Scenario};

/// Runs over this error ratio fail: their numbers describe error paths, not the gateway.
const MAX_ERROR_RATIO: f64 = 0.01;

const MASTER_KEY: &str = "sk-bench-master";
const UPSTREAM_KEY: &str = "sk-bench-upstream";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub profile: &'static str,
    pub warmup: Duration,
    pub duration: Duration,
    pub concurrency: usize,
    pub rate: u32,
    pub direct_only: bool,
    /// Native wire families to bench through the gateway too (`--family anthropic`): their
    /// translation cost next to the OpenAI passthrough.
    pub families: Vec<String>,
    /// Also bench a gateway with a virtual key, rate limits and spend logging on.
    pub policy: bool,
    /// Also bench the response cache (hit and miss paths) and a PII guardrail.
    pub extras: bool,
    /// Also bench a gateway exporting traces (OTLP) and shipping request logs to a webhook.
    pub telemetry: bool,
}

impl Options {
    /// About a minute of measuring after the build.
    const QUICK: Options = Options {
        profile: "quick",
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(5),
        concurrency: 64,
        rate: 500,
        direct_only: false,
        families: Vec::new(),
        policy: false,
        extras: false,
        telemetry: false,
    };

    /// Long enough for stable tails.
    const FULL: Options = Options {
        profile: "full",
        warmup: Duration::from_secs(3),
        duration: Duration::from_secs(30),
        concurrency: 64,
        rate: 1000,
        direct_only: false,
        families: Vec::new(),
        policy: false,
        extras: false,
        telemetry: false,
    };

    pub fn parse(args: &[String]) -> Result<Self, String> {
        const USAGE: &str = "usage: cargo xtask bench [--quick|--full] [--duration SECS] \
                             [--concurrency N] [--rate N] [--direct-only] [--family NAME]... \
                             [--policy] [--extras] [--telemetry]";
        // Profile first, so explicit values override it whatever the order.
        let mut opts = if args.iter().any(|a| a == "--full") {
            Options::FULL
        } else {
            Options::QUICK
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                let v = args
                    .next()
                    .ok_or_else(|| format!("{name} needs a value; {USAGE}"))?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{name}: `{v}` is not a positive integer")),
                }
            };
            match arg.as_str() {
                "--quick" | "--full" => {}
                "--duration" => opts.duration = Duration::from_secs(value(arg)?),
                "--concurrency" => {
                    opts.concurrency = usize::try_from(value(arg)?).map_err(|e| e.to_string())?;
                }
                "--rate" => opts.rate = u32::try_from(value(arg)?).map_err(|e| e.to_string())?,
                "--direct-only" => opts.direct_only = true,
                "--policy" => opts.policy = true,
                "--extras" => opts.extras = true,
                "--telemetry" => opts.telemetry = true,
                "--family" => {
                    let name = args
                        .next()
                        .ok_or_else(|| format!("--family needs a value; {USAGE}"))?;
                    if family_model(name).is_none() {
                        return Err(format!(
                            "--family: unknown family `{name}`; known: {}",
                            FAMILIES
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    opts.families.push(name.clone());
                }
                other => return Err(format!("unknown option `{other}`; {USAGE}")),
            }
        }
        Ok(opts)
    }
}

pub fn run(opts: &Options) -> Result<(), String> {
    let root = workspace::root();
    let target_dir = workspace::target_dir(&root);
    let mut args = vec!["build", "--release", "-p", "llm-mock-upstream"];
    if !opts.direct_only {
        args.extend(["-p", "llm-gateway"]);
    }
    run_step(
        &format!("cargo {}", args.join(" ")),
        workspace::cargo(&root).args(&args),
    )?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let report = runtime.block_on(measure(opts, &target_dir))?;

    report.print();
    let json = target_dir.join("bench/last.json");
    report.write_json(&json)?;
    println!("results written to {}", json.display());
    report.check(MAX_ERROR_RATIO)?;
    if !opts.families.is_empty() {
        // The translation alone, in-process: per-chunk cost without servers or network.
        let example = [
            "run",
            "--release",
            "--quiet",
            "-p",
            "llm-providers",
            "--example",
            "stream_translation",
        ];
        run_step(
            "stream translation micro-benchmark",
            workspace::cargo(&root).args(example),
        )?;
    }
    Ok(())
}

/// Starts the servers, runs every scenario, and stops the servers (on error too: the
/// [`Server`] guards kill them when dropped).
async fn measure(opts: &Options, target_dir: &Path) -> Result<Report, String> {
    let out = target_dir.join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let release = target_dir.join("release");
    let client = load::client(opts.concurrency)?;

    let mut mock_cmd = tokio::process::Command::new(release.join("mock-upstream"));
    mock_cmd.args(["--port", "0"]);
    let mock = Server::start("mock-upstream", mock_cmd, &out.join("mock-upstream.log")).await?;
    let mut scenarios = Vec::new();
    for stream in [false, true] {
        let target = Target {
            url: format!("{}/v1/chat/completions", mock.base_url()),
            auth: format!("Bearer {UPSTREAM_KEY}"),
            body: request_body("gpt-4o-mini", stream),
            stream,
        };
        scenarios.push(scenario("direct", target, opts, &client).await?);
    }

    let mut memory = Vec::new();
    if !opts.direct_only {
        let config = out.join("gateway-config.yaml");
        std::fs::write(&config, gateway_config(mock.addr.port(), &opts.families))
            .map_err(|e| format!("{}: {e}", config.display()))?;
        let mut gw_cmd = tokio::process::Command::new(release.join("llm-gateway"));
        gw_cmd
            .arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", "0"]);
        let gateway = Server::start("llm-gateway", gw_cmd, &out.join("llm-gateway.log")).await?;
        gateway.wait_ready(&client, "/health/readiness").await?;
        let groups = std::iter::once(("gateway".to_owned(), "bench".to_owned())).chain(
            opts.families
                .iter()
                .map(|f| (format!("gateway/{f}"), format!("bench-{f}"))),
        );
        for (via, group) in groups {
            // A handful of labels per run: leaking them keeps `Scenario` simple and `Copy`-free.
            let via: &'static str = Box::leak(via.into_boxed_str());
            for stream in [false, true] {
                let target = Target {
                    url: format!("{}/v1/chat/completions", gateway.base_url()),
                    auth: format!("Bearer {MASTER_KEY}"),
                    body: request_body(&group, stream),
                    stream,
                };
                scenarios.push(scenario(via, target, opts, &client).await?);
            }
        }
        memory.push((gateway.name, gateway.memory()?));
        gateway.stop().await;
        if opts.policy {
            let config = policy::gateway_config(mock.addr.port());
            let gateway = start_gateway(&release, &out.join("policy"), &config, &client).await?;
            let key = policy::generate_key(&client, &gateway.base_url()).await?;
            for stream in [false, true] {
                let target = Target {
                    url: format!("{}/v1/chat/completions", gateway.base_url()),
                    auth: format!("Bearer {key}"),
                    body: request_body("bench", stream),
                    stream,
                };
                scenarios.push(scenario("gateway/key+limits+spend", target, opts, &client).await?);
            }
            memory.push(("llm-gateway (key+limits+spend)", gateway.memory()?));
            gateway.stop().await;
        }
        if opts.extras {
            let config = extras::gateway_config(mock.addr.port());
            let gateway = start_gateway(&release, &out.join("extras"), &config, &client).await?;
            for (via, extra) in extras::SCENARIOS {
                for stream in [false, true] {
                    let target = Target {
                        url: format!("{}/v1/chat/completions", gateway.base_url()),
                        auth: format!("Bearer {MASTER_KEY}"),
                        body: request_body_with("bench", stream, extra),
                        stream,
                    };
                    scenarios.push(scenario(via, target, opts, &client).await?);
                }
            }
            memory.push(("llm-gateway (cache+guardrails)", gateway.memory()?));
            gateway.stop().await;
        }
        if opts.telemetry {
            let collector = telemetry::Collector::start().await?;
            let config = telemetry::gateway_config(mock.addr.port());
            let gateway = start_gateway_with(
                &release,
                &out.join("telemetry"),
                &config,
                &telemetry::environment(collector.addr),
                &client,
            )
            .await?;
            for stream in [false, true] {
                let target = Target {
                    url: format!("{}/v1/chat/completions", gateway.base_url()),
                    auth: format!("Bearer {MASTER_KEY}"),
                    body: request_body("bench", stream),
                    stream,
                };
                scenarios.push(scenario("gateway/traces+webhook", target, opts, &client).await?);
            }
            memory.push(("llm-gateway (traces+webhook)", gateway.memory()?));
            gateway.stop().await;
            let (posts, bytes) = collector.received();
            if posts == 0 {
                return Err("--telemetry: the collector received nothing".into());
            }
            println!("telemetry collector received {posts} POSTs, {bytes} bytes");
        }
    }
    memory.push((mock.name, mock.memory()?));
    mock.stop().await;

    Ok(Report::new(opts, scenarios, memory))
}

/// Starts one more gateway on `config`, in a fresh `dir` (its database, journal and log), and
/// waits until it is ready.
async fn start_gateway(
    release: &Path,
    dir: &Path,
    config: &str,
    client: &reqwest::Client,
) -> Result<Server, String> {
    start_gateway_with(release, dir, config, &[], client).await
}

/// Like [`start_gateway`], with `env` added to the gateway's environment.
async fn start_gateway_with(
    release: &Path,
    dir: &Path,
    config: &str,
    env: &[(&str, String)],
    client: &reqwest::Client,
) -> Result<Server, String> {
    policy::fresh_dir(dir)?;
    let path = dir.join("gateway-config.yaml");
    std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut command = tokio::process::Command::new(release.join("llm-gateway"));
    command
        .arg("--config")
        .arg(&path)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .envs(env.iter().map(|(k, v)| (*k, v)));
    let gateway = Server::start("llm-gateway", command, &dir.join("llm-gateway.log")).await?;
    gateway.wait_ready(client, "/health/readiness").await?;
    Ok(gateway)
}

/// One target: a preflight request (fail fast and say why, rather than measure errors for a
/// minute), then the closed loop, then the open loop.
async fn scenario(
    via: &'static str,
    target: Target,
    opts: &Options,
    client: &reqwest::Client,
) -> Result<Scenario, String> {
    let name = format!(
        "{} {via}",
        if target.stream {
            "stream"
        } else {
            "non-stream"
        }
    );
    load::send(client, &target, tokio::time::Instant::now())
        .await
        .map_err(|e| {
            format!(
                "{name}: preflight request to {} failed: {}",
                target.url, e.detail
            )
        })?;
    let target = Arc::new(target);
    println!(
        "==> {name}: closed loop at concurrency {} for {}s, then open loop at {} req/s for {}s \
         (each after {}s warm-up)",
        opts.concurrency,
        opts.duration.as_secs(),
        opts.rate,
        opts.duration.as_secs(),
        opts.warmup.as_secs()
    );
    let closed = load::closed_loop(
        client,
        &target,
        opts.concurrency,
        opts.warmup,
        opts.duration,
    )
    .await;
    let open = open::open_loop(client, &target, opts.rate, opts.warmup, opts.duration).await;
    Ok(Scenario {
        name,
        via,
        stream: target.stream,
        closed,
        open,
    })
}

fn request_body(model: &str, stream: bool) -> Bytes {
    request_body_with(model, stream, "")
}

/// The bench request with `extra` JSON members appended (`,"cache":{...}`).
fn request_body_with(model: &str, stream: bool, extra: &str) -> Bytes {
    let stream = if stream { r#","stream":true"# } else { "" };
    Bytes::from(format!(
        r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello from the benchmark, please echo this short sentence back"}}],"max_tokens":64{stream}{extra}}}"#
    ))
}

/// Native families the mock upstream speaks: name → the model string of a bench deployment
/// (its `api_base` is the mock's root; the family's own paths follow).
/// `pair` is not a wire family but a two-deployment OpenAI group: the router's choice,
/// counters and breaker bookkeeping per request, next to the single-deployment `bench`.
const FAMILIES: &[(&str, &str)] = &[
    ("anthropic", "anthropic/claude-bench"),
    ("pair", "openai/gpt-4o-mini"),
];

fn family_model(name: &str) -> Option<&'static str> {
    FAMILIES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

/// The `model_list` every bench gateway starts with: the group `bench` on the mock.
fn bench_model_list(mock_port: u16) -> String {
    format!(
        "model_list:
  - model_name: bench
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:{mock_port}/v1
      api_key: {UPSTREAM_KEY}
"
    )
}

/// A LiteLLM-format config: the benchmark also exercises the config users migrate with.
fn gateway_config(mock_port: u16, families: &[String]) -> String {
    let mut config = bench_model_list(mock_port);
    for family in families {
        let copies = if family == "pair" { 2 } else { 1 };
        for _ in 0..copies {
            let Some(model) = family_model(family) else {
                continue;
            };
            config.push_str(&format!(
                "  - model_name: bench-{family}
    litellm_params:
      model: {model}
      api_base: http://127.0.0.1:{mock_port}
      api_key: {UPSTREAM_KEY}
"
            ));
        }
    }
    // The plain gateway: no spend log (`--policy` measures the gateway with it).
    config.push_str(&format!(
        "general_settings:\n  master_key: {MASTER_KEY}\n  disable_spend_logs: true\n"
    ));
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        assert_eq!(parse(&[]).unwrap(), Options::QUICK);
        assert_eq!(parse(&["--quick"]).unwrap(), Options::QUICK);
        assert_eq!(parse(&["--full"]).unwrap(), Options::FULL);
        let custom = parse(&[
            "--duration",
            "2",
            "--full",
            "--concurrency",
            "8",
            "--rate",
            "50",
        ]);
        let custom = custom.unwrap();
        assert_eq!(custom.profile, "full");
        assert_eq!(custom.duration, Duration::from_secs(2));
        assert_eq!((custom.concurrency, custom.rate), (8, 50));
        assert!(parse(&["--direct-only"]).unwrap().direct_only);
        assert!(parse(&["--policy"]).unwrap().policy);
        assert!(parse(&["--extras"]).unwrap().extras);
        assert_eq!(
            parse(&["--family", "anthropic"]).unwrap().families,
            ["anthropic"]
        );
        for bad in [
            &["--family"][..],
            &["--family", "carrier-pigeon"],
            &["--duration"][..],
            &["--duration", "0"],
            &["--rate", "fast"],
            &["--concurrency", "-1"],
            &["--slow"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn request_bodies_are_json() {
        for (model, stream) in [("bench", false), ("gpt-4o-mini", true)] {
            let body: serde_json::Value =
                serde_json::from_slice(&request_body(model, stream)).unwrap();
            assert_eq!(body["model"], model);
            assert_eq!(body["max_tokens"], 64);
            assert_eq!(body["stream"].as_bool(), stream.then_some(true));
            assert_eq!(body["messages"][0]["role"], "user");
        }
    }

    #[test]
    fn gateway_config_points_at_the_mock() {
        let config = gateway_config(4321, &[]);
        assert!(
            config.contains("api_base: http://127.0.0.1:4321/v1\n"),
            "{config}"
        );
        assert!(config.contains("master_key: sk-bench-master\n"), "{config}");
        let pair = gateway_config(4321, &["pair".to_owned()]);
        assert_eq!(
            pair.matches("model_name: bench-pair\n").count(),
            2,
            "{pair}"
        );
        let with_family = gateway_config(4321, &["anthropic".to_owned()]);
        assert!(
            with_family
                .contains("model: anthropic/claude-bench\n      api_base: http://127.0.0.1:4321\n")
        );
    }
}
