//! The bench report: a table for people, `last.json` for tools, and the error verdict.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::Options;
use super::load::{ClosedLoop, Tally};
use super::open::OpenLoop;
use super::procs::Memory;
use super::stats::Percentiles;

/// One kind of request against one server.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    /// `direct` (the mock) or `gateway` (the gateway in front of the mock).
    pub via: &'static str,
    pub stream: bool,
    pub closed: ClosedLoop,
    pub open: OpenLoop,
}

/// Gateway minus direct, at the open loop's rate.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    pub stream: bool,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_byte_p50_ms: f64,
    pub first_byte_p99_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: &'static str,
    pub unix_time: u64,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub concurrency: usize,
    pub rate: u32,
    pub scenarios: Vec<Scenario>,
    pub added_latency: Vec<Added>,
    /// Per process name, read at the end of the run.
    pub memory: BTreeMap<&'static str, Memory>,
}

impl Report {
    pub fn new(
        opts: &Options,
        scenarios: Vec<Scenario>,
        memory: Vec<(&'static str, Memory)>,
    ) -> Self {
        let added_latency = [false, true]
            .into_iter()
            .filter_map(|stream| {
                let find = |via| {
                    scenarios
                        .iter()
                        .find(|s| s.via == via && s.stream == stream)
                };
                let (direct, gateway) = (find("direct")?, find("gateway")?);
                let (d, g) = (direct.open.latency?, gateway.open.latency?);
                let (df, gf) = (direct.open.first_byte?, gateway.open.first_byte?);
                Some(Added {
                    stream,
                    p50_ms: g.p50_ms - d.p50_ms,
                    p99_ms: g.p99_ms - d.p99_ms,
                    first_byte_p50_ms: gf.p50_ms - df.p50_ms,
                    first_byte_p99_ms: gf.p99_ms - df.p99_ms,
                })
            })
            .collect();
        Report {
            profile: opts.profile,
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            warmup_s: opts.warmup.as_secs_f64(),
            duration_s: opts.duration.as_secs_f64(),
            concurrency: opts.concurrency,
            rate: opts.rate,
            scenarios,
            added_latency,
            memory: memory.into_iter().collect(),
        }
    }

    pub fn print(&self) {
        // The widest scenario name sets the first column (at least 30, as it always was).
        let w = self
            .scenarios
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0)
            .max(30);
        println!();
        println!(
            "{:<w$} {:>12} | {:>8} {:>8} {:>8} {:>10} {:>10} | {:>8}",
            "",
            format!("req/s @c{}", self.concurrency),
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "1st p50",
            "1st p99",
            "errors"
        );
        println!(
            "{:<w$} {:>12} | {:^50} |",
            "",
            "(closed)",
            format!("open loop at {} req/s", self.rate)
        );
        for s in &self.scenarios {
            let lat = cells(s.open.latency);
            let first = cells(s.open.first_byte);
            println!(
                "{:<w$} {:>12.1} | {:>8} {:>8} {:>8} {:>10} {:>10} | {:>8}",
                s.name,
                s.closed.throughput_rps,
                lat[0],
                lat[1],
                lat[2],
                first[0],
                first[2],
                s.closed.tally.errors + s.open.tally.errors
            );
        }
        println!("(1st: response headers, or the first `data:` event of a stream)");
        for s in &self.scenarios {
            for (which, tally) in [("closed", &s.closed.tally), ("open", &s.open.tally)] {
                if tally.errors > 0 {
                    println!(
                        "  {} ({which} loop) errors: {:?}; e.g. {}",
                        s.name,
                        tally.error_kinds,
                        tally.first_error.as_deref().unwrap_or("?")
                    );
                }
            }
        }
        let lag = self
            .scenarios
            .iter()
            .filter_map(|s| s.open.dispatch_lag)
            .map(|l| l.p99_ms)
            .fold(0.0, f64::max);
        println!("load generator dispatch lag p99 (a floor under the latencies): {lag:.2} ms");

        if !self.added_latency.is_empty() {
            println!();
            println!("added latency (gateway - direct) at {} req/s:", self.rate);
        }
        for a in &self.added_latency {
            println!(
                "  {:<12} p50 {:+.2} ms   p99 {:+.2} ms   (1st p50 {:+.2} ms, 1st p99 {:+.2} ms)",
                if a.stream { "stream" } else { "non-stream" },
                a.p50_ms,
                a.p99_ms,
                a.first_byte_p50_ms,
                a.first_byte_p99_ms
            );
        }
        println!();
        println!("memory at the end (peak VmHWM / current VmRSS):");
        let mw = self
            .memory
            .keys()
            .map(|name| name.len())
            .max()
            .unwrap_or(14);
        for (name, m) in &self.memory {
            println!(
                "  {name:<mw$} {:>8.1} MiB / {:>8.1} MiB",
                mib(m.peak_rss_kib),
                mib(m.rss_kib)
            );
        }
        println!();
    }

    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `Err` naming every loop whose error ratio is over `max_ratio`.
    pub fn check(&self, max_ratio: f64) -> Result<(), String> {
        let failures: Vec<String> = self
            .scenarios
            .iter()
            .flat_map(|s| {
                [("closed", &s.closed.tally), ("open", &s.open.tally)]
                    .into_iter()
                    .filter(|(_, t)| t.error_ratio() > max_ratio)
                    .map(move |(which, t)| failure(&s.name, which, t))
            })
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "too many errors (limit {:.0}%), the numbers above are not valid:\n  {}",
                max_ratio * 100.0,
                failures.join("\n  ")
            ))
        }
    }
}

fn failure(name: &str, which: &str, t: &Tally) -> String {
    format!(
        "{name} ({which} loop): {} errors of {} requests {:?}; e.g. {}",
        t.errors,
        t.ok + t.errors,
        t.error_kinds,
        t.first_error.as_deref().unwrap_or("no request completed")
    )
}

/// p50, p90, p99 in ms with 2 decimals, or `-` when nothing was measured.
fn cells(p: Option<Percentiles>) -> [String; 3] {
    match p {
        Some(p) => [p.p50_ms, p.p90_ms, p.p99_ms].map(|v| format!("{v:.2}")),
        None => ["-", "-", "-"].map(String::from),
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
