//! The servers under test as child processes: start, find their port, wait until ready,
//! read their memory use, and always kill them, also when the bench fails half-way.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::{Instant, timeout};

/// How long a server may take to print its address and then to become ready.
const STARTUP: Duration = Duration::from_secs(30);

/// A running server. Dropping it kills the process, so no early return leaves one behind.
#[derive(Debug)]
pub struct Server {
    pub name: &'static str,
    pub addr: SocketAddr,
    pid: u32,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Best effort: the process may already be gone, and Drop cannot report anyway.
        let _ = self.child.start_kill();
    }
}

impl Server {
    /// Starts `cmd`, which must print `<name> listening on http://ADDR` on stdout; its stderr
    /// goes to `log` (a server's per-request logs would drown the report).
    pub async fn start(name: &'static str, mut cmd: Command, log: &Path) -> Result<Self, String> {
        let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        let pid = child.id().ok_or_else(|| format!("{name} exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| format!("{name}: no stdout pipe"))?;
        // From here on the guard owns the child: any error below kills it.
        let mut server = Server {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pid,
            child,
        };

        let mut lines = BufReader::new(stdout).lines();
        let found = timeout(STARTUP, async {
            while let Some(line) = lines.next_line().await.ok().flatten() {
                if let Some(addr) = parse_listening_line(&line, name) {
                    return Some(addr);
                }
            }
            None
        })
        .await;
        server.addr = match found {
            Ok(Some(addr)) => addr,
            Ok(None) => {
                let status = timeout(Duration::from_secs(2), server.child.wait()).await;
                return Err(format!(
                    "{name} closed stdout without printing `{name} listening on http://ADDR` \
                     (exit: {status:?}); see {}",
                    log.display()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "{name} printed no `listening on` line in {STARTUP:?}; see {}",
                    log.display()
                ));
            }
        };
        // Keep draining stdout: a full pipe would block the server on its next print.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(server)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `GET <base>/<path>` until it answers 200.
    pub async fn wait_ready(&self, client: &reqwest::Client, path: &str) -> Result<(), String> {
        let url = format!("{}{path}", self.base_url());
        let deadline = Instant::now() + STARTUP;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            // Polling another process: there is no event to wait on.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "{} not ready at {url} after {STARTUP:?}: {last}",
            self.name
        ))
    }

    /// The server's current and peak resident memory.
    pub fn memory(&self) -> Result<Memory, String> {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        Memory::parse(&status).ok_or_else(|| format!("{path}: no VmRSS/VmHWM lines"))
    }

    /// Kills the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// Parses `<name> listening on http://127.0.0.1:PORT` (surrounding whitespace tolerated).
pub fn parse_listening_line(line: &str, name: &str) -> Option<SocketAddr> {
    let rest = line.trim().strip_prefix(name)?;
    let addr = rest.strip_prefix(" listening on http://")?;
    addr.trim_end_matches('/').parse().ok()
}

/// Resident memory of a process, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss_kib: u64,
    /// `VmHWM`: the peak resident size ("high water mark").
    pub peak_rss_kib: u64,
}

impl Memory {
    pub fn parse(status: &str) -> Option<Self> {
        Some(Memory {
            rss_kib: status_field_kib(status, "VmRSS")?,
            peak_rss_kib: status_field_kib(status, "VmHWM")?,
        })
    }
}

/// The value of a `Name:   1234 kB` line of a `/proc/<pid>/status` text.
fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let number = value.trim().strip_suffix("kB")?;
        number.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_lines() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "mock-upstream listening on http://127.0.0.1:41234",
                "mock-upstream",
                Some("127.0.0.1:41234"),
            ),
            (
                "llm-gateway listening on http://127.0.0.1:8080\n",
                "llm-gateway",
                Some("127.0.0.1:8080"),
            ),
            (
                "llm-gateway listening on http://[::1]:4000/",
                "llm-gateway",
                Some("[::1]:4000"),
            ),
            // Another server's line, a log line, a missing port, a bad port.
            (
                "mock-upstream listening on http://127.0.0.1:1",
                "llm-gateway",
                None,
            ),
            (
                "INFO llm-gateway listening on http://127.0.0.1:1",
                "llm-gateway",
                None,
            ),
            (
                "llm-gateway listening on http://127.0.0.1",
                "llm-gateway",
                None,
            ),
            (
                "llm-gateway listening on http://127.0.0.1:99999",
                "llm-gateway",
                None,
            ),
            ("", "llm-gateway", None),
        ];
        for &(line, name, want) in cases {
            let want = want.map(|a| a.parse::<SocketAddr>().unwrap());
            assert_eq!(parse_listening_line(line, name), want, "{line:?}");
        }
    }

    #[test]
    fn memory_from_proc_status() {
        let status = "Name:\tllm-gateway\nUmask:\t0022\nState:\tS (sleeping)\n\
                      VmPeak:\t  812344 kB\nVmSize:\t  812340 kB\nVmHWM:\t   24560 kB\n\
                      VmRSS:\t   20112 kB\nRssAnon:\t    9000 kB\nThreads:\t3\n";
        assert_eq!(
            Memory::parse(status),
            Some(Memory {
                rss_kib: 20112,
                peak_rss_kib: 24560
            })
        );
        assert_eq!(Memory::parse("Name:\tx\nVmRSS:\t 1 kB\n"), None, "no VmHWM");
        assert_eq!(Memory::parse("VmRSS:\tlots kB\nVmHWM:\t2 kB\n"), None);
        // `VmRSSx` is not `VmRSS`.
        assert_eq!(
            status_field_kib("VmRSSx:\t5 kB\nVmRSS:\t7 kB\n", "VmRSS"),
            Some(7)
        );
    }

    #[test]
    fn memory_of_this_process() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let mem = Memory::parse(&status).unwrap();
        assert!(
            mem.rss_kib > 0 && mem.peak_rss_kib >= mem.rss_kib,
            "{mem:?}"
        );
    }
}
