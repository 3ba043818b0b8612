//! Configuration hot reload: on SIGHUP, or when the config file's modification time or size
//! changes (polled every second), the file is read again with the start-up loader and, when
//! valid, a new router and price book are swapped into [`AppState`]. Requests in flight keep
//! the snapshot they loaded; new requests see the new one. An invalid file is rejected with
//! every issue logged, and the running configuration stays.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::app::{AppState, build_router};
use crate::config::GatewayConfig;

/// How often the config file's modification time and size are compared.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Loads and validates the configuration as at start-up (logging every issue with its key
/// path); `None` when it is invalid.
pub type Loader = Arc<dyn Fn() -> Option<GatewayConfig> + Send + Sync>;

/// Watches for reload triggers until the process ends. `path` is the config file (`None`:
/// the embedded demo, which only SIGHUP "reloads", as a no-op).
pub fn spawn(app: Arc<AppState>, running: GatewayConfig, path: Option<PathBuf>, load: Loader) {
    tokio::spawn(async move {
        let mut reloader = Reloader {
            app,
            started: running.clone(),
            current: running,
            path,
            load,
        };
        reloader.watch().await;
    });
}

struct Reloader {
    app: Arc<AppState>,
    /// What was built at start: the parts only a restart applies are compared to it.
    started: GatewayConfig,
    /// The configuration of the router being served.
    current: GatewayConfig,
    path: Option<PathBuf>,
    load: Loader,
}

/// What identifies a version of the file without reading it.
type Fingerprint = Option<(SystemTime, u64)>;

fn fingerprint(path: &std::path::Path) -> Fingerprint {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Reloader {
    async fn watch(&mut self) {
        let mut hangup = hangup_signals();
        let mut seen = self.path.as_deref().and_then(fingerprint);
        let mut poll = tokio::time::interval(POLL_INTERVAL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let cause = tokio::select! {
                Some(()) = next_hangup(&mut hangup) => "SIGHUP",
                _ = poll.tick() => {
                    let Some(path) = &self.path else { continue };
                    let now = fingerprint(path);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    "file change"
                }
            };
            // A SIGHUP also takes the file's current version as seen.
            if cause == "SIGHUP" {
                seen = self.path.as_deref().and_then(fingerprint);
            }
            self.reload(cause);
        }
    }

    fn reload(&mut self, cause: &str) {
        if self.path.is_none() {
            tracing::info!(cause, "no config file (embedded demo): nothing to reload");
            return;
        }
        let Some(config) = (self.load)() else {
            tracing::error!(
                cause,
                "configuration reload rejected (see the errors above); the running configuration stays"
            );
            return;
        };
        // The router's state (Redis or in-process) is kept when its backend did not change:
        // cooldowns and usage carry over, for every deployment id that still exists.
        let state = (config.router.redis == self.current.router.redis)
            .then(|| self.app.router.load().shared_state().clone());
        let (router, prices) = match build_router(&config, state, &self.app.metrics) {
            Ok(built) => built,
            Err(error) => {
                tracing::error!(
                    cause,
                    error = %error.message,
                    "configuration reload rejected; the running configuration stays"
                );
                return;
            }
        };
        for setting in restart_only_changes(&self.started, &config) {
            tracing::warn!(
                setting,
                "changed in the config file: takes effect only after a restart"
            );
        }
        self.app.router.store(Arc::new(router));
        self.app.prices.store(Arc::new(prices));
        tracing::info!(
            cause,
            models_before = self.current.model_names().len(),
            models_after = config.model_names().len(),
            deployments = config.deployments.len(),
            "configuration reloaded"
        );
        self.current = config;
    }
}

/// The settings built once at start that differ between `started` and `new`, by name.
fn restart_only_changes(started: &GatewayConfig, new: &GatewayConfig) -> Vec<&'static str> {
    let (a, b) = (&started.server, &new.server);
    [
        ("listen address", a.host != b.host || a.port != b.port),
        ("master_key", a.master_key != b.master_key),
        (
            "max_request_size_mb",
            a.max_request_bytes != b.max_request_bytes,
        ),
        (
            "database_url",
            started.policy.database_url != new.policy.database_url,
        ),
        ("data_dir", started.policy.data_dir != new.policy.data_dir),
        (
            "policy settings (budgets, spend logs, fail mode)",
            (
                started.policy.disable_spend_logs,
                started.policy.max_budget,
                &started.policy.budget_duration,
                started.policy.fail_closed,
            ) != (
                new.policy.disable_spend_logs,
                new.policy.max_budget,
                &new.policy.budget_duration,
                new.policy.fail_closed,
            ),
        ),
        (
            "Redis (policy limits)",
            started.router.redis != new.router.redis,
        ),
        ("cache", started.cache != new.cache),
        (
            "request-log sinks (callbacks)",
            started.log_sinks != new.log_sinks,
        ),
        ("trace export", started.tracing != new.tracing),
        ("guardrails", started.guardrails != new.guardrails),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signals() -> Hangup {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; only file changes reload");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signals() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(hangup: &mut Hangup) -> Option<()> {
    match hangup {
        Some(stream) => stream.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) -> Option<()> {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_only_settings_are_named() {
        let base = GatewayConfig::default();
        type Edit = fn(&mut GatewayConfig);
        let cases: [(Edit, &[&str]); 6] = [
            (|_| {}, &[]),
            (|c| c.server.port = 1, &["listen address"]),
            (
                |c| c.server.master_key = Some("sk-x".into()),
                &["master_key"],
            ),
            (
                |c| c.policy.database_url = Some("sqlite://x".into()),
                &["database_url"],
            ),
            (
                |c| c.deployments = GatewayConfig::default().deployments,
                &[],
            ),
            (
                |c| c.tracing.endpoint = Some("http://collector:4318/v1/traces".into()),
                &["trace export"],
            ),
        ];
        for (edit, expected) in cases {
            let mut new = base.clone();
            edit(&mut new);
            assert_eq!(restart_only_changes(&base, &new), expected);
        }
    }
}
