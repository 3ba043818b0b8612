//! Request-log sinks: the native `observability.log_sinks` list and LiteLLM's
//! `success_callback` / `failure_callback` / `callbacks` names.
//!
//! Both end as the same [`SinkConfig`]s. LiteLLM's names read their settings from the
//! environment the way LiteLLM does (`GENERIC_LOGGER_ENDPOINT`, `LANGFUSE_*`), through a
//! lookup function so tests never touch the process environment.

use llm_providers::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::issues::{Report, parse_section};
use super::tracing::{header_pairs, traces_url};

/// One configured sink.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// Unique among the sinks; the `sink` label in `/metrics`.
    pub name: String,
    pub target: SinkTarget,
    pub when: SinkWhen,
    /// Records per delivery at most.
    pub batch_size: usize,
    /// How long a partial batch waits for more records before it goes out.
    pub flush_interval: Duration,
    /// Records waiting beyond this are dropped (and counted), never waited for.
    pub queue_capacity: usize,
    /// The same bound in bytes (records with their message content, as
    /// [`crate::request_log::RequestRecord::approx_bytes`] counts them): a sink that is
    /// down holds at most this much memory, however large the prompts.
    pub queue_max_bytes: u64,
    /// Retries of a failed delivery before its batch is dropped.
    pub max_retries: u32,
    /// The first retry's delay; each next one doubles, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Bounds one HTTP delivery attempt.
    pub timeout: Duration,
    /// Leave message content out of what this sink gets.
    pub redact_content: bool,
}

/// Where a sink delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkTarget {
    /// A JSON array of records, POSTed to `url`.
    Webhook {
        url: String,
        headers: Vec<(String, Secret)>,
    },
    /// An OTLP/HTTP protobuf `ExportTraceServiceRequest` (one span per record), POSTed to
    /// `endpoint` (ends in `/v1/traces`).
    Otlp {
        endpoint: String,
        headers: Vec<(String, Secret)>,
    },
    /// One JSON object per line.
    Jsonl(JsonlTarget),
}

/// Where a JSON-lines sink writes.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonlTarget {
    Stdout,
    Stderr,
    /// Appended to (created when missing).
    File(PathBuf),
}

/// Which finished requests a sink gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkWhen {
    Success,
    Failure,
    All,
}

impl SinkWhen {
    /// Whether a request that `succeeded` (or not) goes to the sink.
    pub fn takes(self, succeeded: bool) -> bool {
        match self {
            SinkWhen::All => true,
            SinkWhen::Success => succeeded,
            SinkWhen::Failure => !succeeded,
        }
    }
}

pub const DEFAULT_BATCH_SIZE: usize = 100;
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
pub const DEFAULT_QUEUE_MAX_BYTES: u64 = 64 << 20;
pub const DEFAULT_MAX_RETRIES: u32 = 5;
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl SinkConfig {
    /// A sink named `name` delivering to `target`, every other setting at its default.
    pub fn new(name: impl Into<String>, target: SinkTarget) -> SinkConfig {
        SinkConfig {
            name: name.into(),
            target,
            when: SinkWhen::All,
            batch_size: DEFAULT_BATCH_SIZE,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            queue_max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff: DEFAULT_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            timeout: DEFAULT_TIMEOUT,
            redact_content: false,
        }
    }
}

/// LiteLLM's callback settings, as found in `litellm_settings`.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct LitellmCallbacks {
    pub success_callback: Option<Value>,
    pub failure_callback: Option<Value>,
    pub callbacks: Option<Value>,
    pub turn_off_message_logging: Option<Value>,
    pub callback_settings: Option<Value>,
}

/// One entry of the native list, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    when: Option<String>,
    batch_size: Option<usize>,
    flush_interval_ms: Option<u64>,
    queue_capacity: Option<usize>,
    queue_max_bytes: Option<u64>,
    max_retries: Option<u32>,
    backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    redact_content: bool,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    path: Option<String>,
}

/// The native `observability.log_sinks` list at `path`.
pub fn parse_native(value: Value, path: &str, report: &mut Report) -> Vec<SinkConfig> {
    let items = match value {
        Value::Null => return Vec::new(),
        Value::Array(items) => items,
        _ => {
            report.error(path, "must be a list of sinks");
            return Vec::new();
        }
    };
    let mut sinks: Vec<SinkConfig> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(raw) = parse_section::<RawSink>(report, &at, item) else {
            continue;
        };
        let Some(sink) = native_sink(raw, &at, report) else {
            continue;
        };
        if sinks.iter().any(|s| s.name == sink.name) {
            report.error(
                format!("{at}.name"),
                format!("another sink is already named `{}`", sink.name),
            );
            continue;
        }
        sinks.push(sink);
    }
    sinks
}

/// One validated native entry; every problem reported under `at`.
fn native_sink(raw: RawSink, at: &str, report: &mut Report) -> Option<SinkConfig> {
    let errors_before = report.issues.len();
    let misplaced = |field: &str, present: bool, report: &mut Report| {
        if present {
            report.error(
                format!("{at}.{field}"),
                format!("not a setting of a `{}` sink", raw.kind),
            );
        }
    };
    let target = match raw.kind.as_str() {
        "webhook" | "otlp" => {
            misplaced("path", raw.path.is_some(), report);
            let url = match raw.url.as_deref() {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some(url.to_owned())
                }
                Some(url) => {
                    report.error(
                        format!("{at}.url"),
                        format!("`{url}` is not an http:// or https:// URL"),
                    );
                    None
                }
                None => {
                    report.error(format!("{at}.url"), "required for this sink type");
                    None
                }
            };
            let headers = raw
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Secret::new(v.as_str())))
                .collect();
            match (raw.kind.as_str(), url) {
                (_, None) => None,
                ("webhook", Some(url)) => Some(SinkTarget::Webhook { url, headers }),
                (_, Some(url)) => Some(SinkTarget::Otlp {
                    endpoint: traces_url(&url),
                    headers,
                }),
            }
        }
        "jsonl" => {
            misplaced("url", raw.url.is_some(), report);
            misplaced("headers", !raw.headers.is_empty(), report);
            Some(SinkTarget::Jsonl(match raw.path.as_deref() {
                None | Some("stdout" | "-") => JsonlTarget::Stdout,
                Some("stderr") => JsonlTarget::Stderr,
                Some(file) => JsonlTarget::File(PathBuf::from(file)),
            }))
        }
        other => {
            report.error(
                format!("{at}.type"),
                format!("unknown sink type `{other}` (webhook, otlp or jsonl)"),
            );
            None
        }
    };
    let when = match raw.when.as_deref() {
        None | Some("all") => SinkWhen::All,
        Some("success") => SinkWhen::Success,
        Some("failure") => SinkWhen::Failure,
        Some(other) => {
            report.error(
                format!("{at}.when"),
                format!("`{other}` is not one of success, failure, all"),
            );
            SinkWhen::All
        }
    };
    let mut positive = |field: &str, value: Option<u64>, default: u64| match value {
        Some(0) => {
            report.error(format!("{at}.{field}"), "must be at least 1");
            default
        }
        Some(n) => n,
        None => default,
    };
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let batch_size = positive(
        "batch_size",
        raw.batch_size.map(count),
        count(DEFAULT_BATCH_SIZE),
    );
    let queue_capacity = positive(
        "queue_capacity",
        raw.queue_capacity.map(count),
        count(DEFAULT_QUEUE_CAPACITY),
    );
    let queue_max_bytes = positive(
        "queue_max_bytes",
        raw.queue_max_bytes,
        DEFAULT_QUEUE_MAX_BYTES,
    );
    let flush_ms = positive(
        "flush_interval_ms",
        raw.flush_interval_ms,
        millis(DEFAULT_FLUSH_INTERVAL),
    );
    let backoff_ms = positive("backoff_ms", raw.backoff_ms, millis(DEFAULT_BACKOFF));
    let max_backoff_ms = positive(
        "max_backoff_ms",
        raw.max_backoff_ms,
        millis(DEFAULT_MAX_BACKOFF),
    );
    let timeout_ms = positive("timeout_ms", raw.timeout_ms, millis(DEFAULT_TIMEOUT));
    let target = target?;
    if report.issues.len() > errors_before {
        return None;
    }
    Some(SinkConfig {
        name: raw.name.unwrap_or_else(|| raw.kind.clone()),
        target,
        when,
        batch_size: usize::try_from(batch_size).unwrap_or(usize::MAX),
        flush_interval: Duration::from_millis(flush_ms),
        queue_capacity: usize::try_from(queue_capacity).unwrap_or(usize::MAX),
        queue_max_bytes,
        max_retries: raw.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
        backoff: Duration::from_millis(backoff_ms),
        max_backoff: Duration::from_millis(max_backoff_ms.max(backoff_ms)),
        timeout: Duration::from_millis(timeout_ms),
        redact_content: raw.redact_content,
    })
}

/// The sinks LiteLLM's callback names ask for, and whether `otel` was among them (that one
/// turns on trace export instead of a sink). Settings (`GENERIC_LOGGER_ENDPOINT`,
/// `LANGFUSE_*`) are read through `env`: the config's `environment_variables`, then the
/// process environment.
pub fn parse_litellm_with(
    callbacks: &LitellmCallbacks,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> (Vec<SinkConfig>, bool) {
    const BASE: &str = "litellm_settings";
    // Every name, with where it was first seen and whether it logs successes / failures.
    let mut wanted: Vec<(String, String, bool, bool)> = Vec::new();
    for (key, list, success, failure) in [
        ("success_callback", &callbacks.success_callback, true, false),
        ("failure_callback", &callbacks.failure_callback, false, true),
        ("callbacks", &callbacks.callbacks, true, true),
    ] {
        for (path, name) in names(list.as_ref(), &format!("{BASE}.{key}"), report) {
            let name = canonical(&name).unwrap_or(name);
            match wanted.iter_mut().find(|w| w.0 == name) {
                Some(entry) => {
                    entry.2 |= success;
                    entry.3 |= failure;
                }
                None => wanted.push((name, path, success, failure)),
            }
        }
    }
    let redact_all = match &callbacks.turn_off_message_logging {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            report.error(
                format!("{BASE}.turn_off_message_logging"),
                format!("expected true or false, got {other}"),
            );
            false
        }
    };
    let settings = callback_settings(callbacks.callback_settings.as_ref(), report);
    let mut sinks = Vec::new();
    let mut otel = false;
    for (name, path, success, failure) in wanted {
        let target = match name.as_str() {
            "otel" => {
                otel = true;
                continue;
            }
            "generic_api" => generic_api(env, &path, report),
            "langfuse" => langfuse(env, &path, report),
            _ => {
                report.unsupported(format!("{path} ({name})"));
                continue;
            }
        };
        let Some(target) = target else { continue };
        let mut sink = SinkConfig::new(name.clone(), target);
        sink.when = match (success, failure) {
            (true, false) => SinkWhen::Success,
            (false, true) => SinkWhen::Failure,
            _ => SinkWhen::All,
        };
        sink.redact_content = redact_all || settings.get(&name) == Some(&false);
        sinks.push(sink);
    }
    (sinks, otel)
}

/// LiteLLM's names for the same sink, folded to the one we name it by.
fn canonical(name: &str) -> Option<String> {
    match name {
        "generic_api" | "generic" | "webhook" => Some("generic_api".to_owned()),
        "langfuse" | "langfuse_otel" => Some("langfuse".to_owned()),
        _ => None,
    }
}

/// The callback names of one list (a YAML list, or one name), each with its key path.
fn names(value: Option<&Value>, path: &str, report: &mut Report) -> Vec<(String, String)> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(name)) => vec![(path.to_owned(), name.trim().to_owned())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let at = format!("{path}[{i}]");
                match item {
                    Value::String(name) => Some((at, name.trim().to_owned())),
                    _ => {
                        report.error(at, "must be a callback name");
                        None
                    }
                }
            })
            .collect(),
        Some(_) => {
            report.error(path, "must be a list of callback names");
            Vec::new()
        }
    }
}

/// `callback_settings: {NAME: {message_logging: false}}`: per callback, whether content is
/// logged. Other settings are reported as unsupported.
fn callback_settings(value: Option<&Value>, report: &mut Report) -> BTreeMap<String, bool> {
    const PATH: &str = "litellm_settings.callback_settings";
    let mut logging = BTreeMap::new();
    let Some(Value::Object(map)) = value else {
        if !matches!(value, None | Some(Value::Null)) {
            report.error(PATH, "must be a map of callback names to settings");
        }
        return logging;
    };
    for (name, settings) in map {
        let name_key = canonical(name).unwrap_or_else(|| name.clone());
        let Value::Object(settings) = settings else {
            report.error(format!("{PATH}.{name}"), "must be a map of settings");
            continue;
        };
        for (key, value) in settings {
            match (key.as_str(), value) {
                ("message_logging", Value::Bool(on)) => {
                    logging.insert(name_key.clone(), *on);
                }
                ("message_logging", _) => {
                    report.error(format!("{PATH}.{name}.{key}"), "expected true or false");
                }
                _ => report.unsupported(format!("{PATH}.{name}.{key}")),
            }
        }
    }
    logging
}

/// LiteLLM's generic API logger: `GENERIC_LOGGER_ENDPOINT`, `GENERIC_LOGGER_HEADERS`
/// (`k=v,k2=v2`).
fn generic_api(
    env: &dyn Fn(&str) -> Option<String>,
    path: &str,
    report: &mut Report,
) -> Option<SinkTarget> {
    let Some(url) = env("GENERIC_LOGGER_ENDPOINT").filter(|u| !u.trim().is_empty()) else {
        report.error(
            path,
            "the generic_api callback needs GENERIC_LOGGER_ENDPOINT (the URL to POST logs to)",
        );
        return None;
    };
    let headers = env("GENERIC_LOGGER_HEADERS")
        .map(|text| header_list(&text))
        .unwrap_or_default();
    Some(SinkTarget::Webhook {
        url: url.trim().to_owned(),
        headers,
    })
}

/// `k=v,k2=v2` as header pairs (blank and malformed parts skipped; no percent-decoding,
/// as LiteLLM reads them).
fn header_list(text: &str) -> Vec<(String, Secret)> {
    header_pairs(text)
        .map(|(name, value)| (name.to_owned(), Secret::new(value)))
        .collect()
}

/// Langfuse's OTLP endpoint with Basic auth from its key pair. The host is
/// `LANGFUSE_OTEL_HOST`, `LANGFUSE_HOST` or `LANGFUSE_BASE_URL`, else Langfuse Cloud.
fn langfuse(
    env: &dyn Fn(&str) -> Option<String>,
    path: &str,
    report: &mut Report,
) -> Option<SinkTarget> {
    use base64::Engine as _;
    let key = |name: &str| env(name).filter(|v| !v.is_empty());
    let (Some(public), Some(secret)) = (key("LANGFUSE_PUBLIC_KEY"), key("LANGFUSE_SECRET_KEY"))
    else {
        report.error(
            path,
            "the langfuse callback needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY",
        );
        return None;
    };
    let host = ["LANGFUSE_OTEL_HOST", "LANGFUSE_HOST", "LANGFUSE_BASE_URL"]
        .into_iter()
        .find_map(key)
        .unwrap_or_else(|| "https://cloud.langfuse.com".to_owned());
    let host = host.trim().trim_end_matches('/');
    let endpoint = if host.ends_with("/api/public/otel") {
        format!("{host}/v1/traces")
    } else {
        format!("{host}/api/public/otel/v1/traces")
    };
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{public}:{secret}"));
    Some(SinkTarget::Otlp {
        endpoint,
        headers: vec![(
            "authorization".to_owned(),
            Secret::new(format!("Basic {token}")),
        )],
    })
}

#[cfg(test)]
mod tests;
