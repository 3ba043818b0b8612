//! Trace export settings: the native `observability.tracing` section, the standard
//! `OTEL_*` environment variables, and LiteLLM's `callbacks: ["otel"]`.
//!
//! Export is on when any of the three asks for it: the native section is present, LiteLLM's
//! `otel` callback is listed, or an OTLP endpoint variable is set (the OpenTelemetry
//! convention: pointing `OTEL_EXPORTER_OTLP_ENDPOINT` at a collector is enough).
//! `OTEL_SDK_DISABLED=true` and `OTEL_TRACES_EXPORTER=none` turn it off whatever else says.
//! The section's keys win over the environment. Only OTLP over HTTP with protobuf is spoken;
//! asking for gRPC is a configuration error that says so.
//!
//! The environment is read once, into a map, by [`TracingConfig::resolve`]; everything else is
//! a pure function of that map, so tests never touch the process environment.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::issues::{Report, parse_section};

/// The collector's default OTLP/HTTP traces URL, used when export is asked for without one.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// The `service.name` resource attribute when nothing names the service.
pub const DEFAULT_SERVICE_NAME: &str = "llm-gateway";

/// Which traces are kept, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum SamplerConfig {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    /// A sampled parent is followed; a root is always sampled (the OpenTelemetry default).
    #[default]
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

impl SamplerConfig {
    /// Whether a parent's sampling decision is followed.
    pub fn parent_based(self) -> bool {
        matches!(
            self,
            SamplerConfig::ParentBasedAlwaysOn
                | SamplerConfig::ParentBasedAlwaysOff
                | SamplerConfig::ParentBasedTraceIdRatio(_)
        )
    }

    /// The share of root traces kept (`0.0`: none, `1.0`: all).
    pub fn root_ratio(self) -> f64 {
        match self {
            SamplerConfig::AlwaysOn | SamplerConfig::ParentBasedAlwaysOn => 1.0,
            SamplerConfig::AlwaysOff | SamplerConfig::ParentBasedAlwaysOff => 0.0,
            SamplerConfig::TraceIdRatio(ratio) | SamplerConfig::ParentBasedTraceIdRatio(ratio) => {
                ratio
            }
        }
    }
}

/// Where and how spans are exported; `endpoint: None` means no export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracingConfig {
    /// The full OTLP/HTTP traces URL (ends in `/v1/traces` unless given per signal).
    pub endpoint: Option<String>,
    /// Headers sent with every export (e.g. a collector's API key), in order.
    pub headers: Vec<(String, String)>,
    /// The `service.name` resource attribute (empty: [`DEFAULT_SERVICE_NAME`]).
    pub service_name: String,
    pub sampler: SamplerConfig,
    /// Whether message content goes on the spans (`gen_ai.input.messages`, ...).
    pub capture_content: bool,
}

/// The native section, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracing {
    endpoint: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    service_name: Option<String>,
    sample_ratio: Option<f64>,
    capture_content: Option<bool>,
}

/// The process environment as a map (what [`TracingConfig::resolve_with`] reads).
pub type Env = BTreeMap<String, String>;

impl TracingConfig {
    /// The `service.name` spans are exported under.
    pub fn service_name(&self) -> &str {
        if self.service_name.is_empty() {
            DEFAULT_SERVICE_NAME
        } else {
            &self.service_name
        }
    }

    /// The settings of `section` (native `observability.tracing`, `None` when absent) over
    /// the `OTEL_*` environment; `otel_callback` is LiteLLM's `callbacks: ["otel"]`.
    pub fn resolve(
        section: Option<Value>,
        path: &str,
        otel_callback: bool,
        report: &mut Report,
    ) -> TracingConfig {
        let env: Env = std::env::vars().collect();
        TracingConfig::resolve_with(section, path, otel_callback, &env, report)
    }

    /// [`TracingConfig::resolve`] over the environment `env`.
    pub fn resolve_with(
        section: Option<Value>,
        path: &str,
        otel_callback: bool,
        env: &Env,
        report: &mut Report,
    ) -> TracingConfig {
        let present = section.is_some();
        let raw = match section {
            // `tracing:` with nothing under it turns export on with every default.
            None | Some(Value::Null) => RawTracing::default(),
            Some(value) => parse_section::<RawTracing>(report, path, value).unwrap_or_default(),
        };
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let litellm = |name: &str| get(name).filter(|_| otel_callback);

        let capture_content = raw.capture_content.unwrap_or(false)
            || get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut config = TracingConfig {
            capture_content,
            ..TracingConfig::default()
        };

        let disabled = get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        // (URL, where it came from, whether it is a base the signal path is appended to).
        let endpoint = raw
            .endpoint
            .as_deref()
            .map(|e| (e, format!("{path}.endpoint"), true))
            .or_else(|| {
                get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                    .map(|e| (e, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".to_owned(), false))
            })
            .or_else(|| {
                get("OTEL_EXPORTER_OTLP_ENDPOINT")
                    .map(|e| (e, "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), true))
            })
            .or_else(|| litellm("OTEL_ENDPOINT").map(|e| (e, "OTEL_ENDPOINT".to_owned(), true)));
        let wanted = present || otel_callback || endpoint.is_some();
        if disabled || !wanted {
            return config;
        }

        config.endpoint = match endpoint {
            None => Some(DEFAULT_ENDPOINT.to_owned()),
            Some((url, _, _)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                let at = endpoint.map_or_else(String::new, |(_, at, _)| at);
                report.error(at, format!("`{url}` is not an http:// or https:// URL"));
                None
            }
            Some((url, _, true)) => Some(traces_url(url)),
            Some((url, _, false)) => Some(url.to_owned()),
        };
        check_protocol(env, report);

        config.headers = match raw.headers {
            Some(headers) => headers.into_iter().collect(),
            None => get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
                .or_else(|| get("OTEL_EXPORTER_OTLP_HEADERS"))
                .or_else(|| litellm("OTEL_HEADERS"))
                .map(parse_headers)
                .unwrap_or_default(),
        };
        config.service_name = raw
            .service_name
            .filter(|s| !s.trim().is_empty())
            .or_else(|| get("OTEL_SERVICE_NAME").map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        config.sampler = match raw.sample_ratio {
            Some(ratio) if (0.0..=1.0).contains(&ratio) => ratio_sampler(ratio),
            Some(ratio) => {
                report.error(
                    format!("{path}.sample_ratio"),
                    format!("must be between 0 and 1, got {ratio}"),
                );
                SamplerConfig::default()
            }
            None => env_sampler(env, report),
        };
        config
    }
}

/// The sampler of `sample_ratio`: parent-based (a caller's decision is followed), so one
/// trace is never cut in half between services.
fn ratio_sampler(ratio: f64) -> SamplerConfig {
    if ratio >= 1.0 {
        SamplerConfig::ParentBasedAlwaysOn
    } else {
        SamplerConfig::ParentBasedTraceIdRatio(ratio)
    }
}

/// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
fn env_sampler(env: &Env, report: &mut Report) -> SamplerConfig {
    let Some(name) = env.get("OTEL_TRACES_SAMPLER").map(|v| v.trim()) else {
        return SamplerConfig::default();
    };
    let ratio = |report: &mut Report| match env.get("OTEL_TRACES_SAMPLER_ARG").map(|v| v.trim()) {
        None | Some("") => 1.0,
        Some(arg) => match arg.parse::<f64>() {
            Ok(ratio) if (0.0..=1.0).contains(&ratio) => ratio,
            _ => {
                report.error(
                    "OTEL_TRACES_SAMPLER_ARG",
                    format!("must be a ratio between 0 and 1, got `{arg}`"),
                );
                1.0
            }
        },
    };
    match name.to_ascii_lowercase().as_str() {
        "" | "parentbased_always_on" => SamplerConfig::ParentBasedAlwaysOn,
        "always_on" => SamplerConfig::AlwaysOn,
        "always_off" => SamplerConfig::AlwaysOff,
        "parentbased_always_off" => SamplerConfig::ParentBasedAlwaysOff,
        "traceidratio" => SamplerConfig::TraceIdRatio(ratio(report)),
        "parentbased_traceidratio" => SamplerConfig::ParentBasedTraceIdRatio(ratio(report)),
        other => {
            report.error(
                "OTEL_TRACES_SAMPLER",
                format!(
                    "unknown sampler `{other}` (expected always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off or parentbased_traceidratio)"
                ),
            );
            SamplerConfig::default()
        }
    }
}

/// Fails on any protocol but `http/protobuf` (the signal's variable over the general one).
fn check_protocol(env: &Env, report: &mut Report) {
    let found = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .into_iter()
    .find_map(|name| {
        let value = env.get(name)?.trim();
        (!value.is_empty()).then_some((name, value))
    });
    if let Some((name, value)) = found
        && value != "http/protobuf"
    {
        report.error(
            name,
            format!(
                "OTLP protocol `{value}` is not supported: the gateway exports over \
                 http/protobuf (a collector's port 4318); set it to `http/protobuf` or unset it"
            ),
        );
    }
}

/// A base URL with the traces path appended (once, and not when it is already there): for
/// the trace export and for OTLP log sinks alike.
pub(super) fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

/// `k1=v1,k2=v2`, values percent-decoded (the OTLP headers format).
fn parse_headers(input: &str) -> Vec<(String, String)> {
    header_pairs(input)
        .map(|(name, value)| (name.to_owned(), percent_decode(value)))
        .collect()
}

/// The trimmed `name`/`value` pairs of `k1=v1,k2=v2`: blank names and parts without `=`
/// skipped (the OTLP variables and LiteLLM's `GENERIC_LOGGER_HEADERS` share the shape).
pub(super) fn header_pairs(input: &str) -> impl Iterator<Item = (&str, &str)> {
    input
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .filter(|(name, _)| !name.is_empty())
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| value.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Resolves and returns the config with the paths of the errors reported.
    fn resolve(
        section: Option<Value>,
        callback: bool,
        pairs: &[(&str, &str)],
    ) -> (TracingConfig, Vec<String>) {
        let mut report = Report::default();
        let config = TracingConfig::resolve_with(
            section,
            "observability.tracing",
            callback,
            &env(pairs),
            &mut report,
        );
        let errors = report
            .issues
            .iter()
            .filter(|i| i.level == super::super::IssueLevel::Error)
            .map(|i| i.path.clone())
            .collect();
        (config, errors)
    }

    #[test]
    fn endpoint_comes_from_section_env_or_callback() {
        // (section, otel callback, env, expected endpoint)
        type Case<'a> = (
            Option<Value>,
            bool,
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (None, false, &[], None),
            // LiteLLM's variables mean nothing without its callback.
            (None, false, &[("OTEL_ENDPOINT", "http://c:4318")], None),
            (
                None,
                false,
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")],
                Some("http://c:4318/v1/traces"),
            ),
            (
                None,
                false,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom"),
                ],
                Some("http://t:1/custom"),
            ),
            (
                Some(json!({"endpoint": "https://s/otlp"})),
                false,
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")],
                Some("https://s/otlp/v1/traces"),
            ),
            (Some(json!({})), false, &[], Some(DEFAULT_ENDPOINT)),
            (Some(Value::Null), false, &[], Some(DEFAULT_ENDPOINT)),
            (None, true, &[], Some(DEFAULT_ENDPOINT)),
            (
                None,
                true,
                &[("OTEL_ENDPOINT", "http://l:4318/v1/traces")],
                Some("http://l:4318/v1/traces"),
            ),
            (
                None,
                false,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_SDK_DISABLED", "true"),
                ],
                None,
            ),
            (
                Some(json!({})),
                true,
                &[("OTEL_TRACES_EXPORTER", "none")],
                None,
            ),
        ];
        for (section, callback, pairs, expected) in cases {
            let (config, errors) = resolve(section.clone(), *callback, pairs);
            assert_eq!(
                config.endpoint.as_deref(),
                *expected,
                "{section:?} {pairs:?}"
            );
            assert!(errors.is_empty(), "{section:?} {pairs:?}: {errors:?}");
        }
    }

    #[test]
    fn bad_values_are_reported_at_their_path() {
        // (section, env, expected error paths)
        type Case<'a> = (Option<Value>, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                Some(json!({"endpoint": "http://c", "colour": "red"})),
                &[],
                &["observability.tracing.colour"],
            ),
            (
                Some(json!({"sample_ratio": 1.5})),
                &[],
                &["observability.tracing.sample_ratio"],
            ),
            (
                Some(json!({"endpoint": "c:4318"})),
                &[],
                &["observability.tracing.endpoint"],
            ),
            (Some(json!("yes")), &[], &["observability.tracing"]),
            (
                None,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ],
                &["OTEL_EXPORTER_OTLP_PROTOCOL"],
            ),
            (
                None,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                    ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
                ],
                &[],
            ),
            // The protocol only matters when something is exported.
            (None, &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")], &[]),
            (
                Some(json!({})),
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                &["OTEL_TRACES_SAMPLER"],
            ),
            (
                Some(json!({})),
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "half"),
                ],
                &["OTEL_TRACES_SAMPLER_ARG"],
            ),
        ];
        for (section, pairs, expected) in cases {
            let (_, errors) = resolve(section.clone(), false, pairs);
            let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(errors, expected, "{section:?} {pairs:?}");
        }
    }

    #[test]
    fn samplers() {
        // (section, env, expected sampler)
        type Case<'a> = (Value, &'a [(&'a str, &'a str)], SamplerConfig);
        let cases: &[Case] = &[
            (json!({}), &[], SamplerConfig::ParentBasedAlwaysOn),
            (
                json!({}),
                &[("OTEL_TRACES_SAMPLER", "always_on")],
                SamplerConfig::AlwaysOn,
            ),
            (
                json!({}),
                &[("OTEL_TRACES_SAMPLER", "always_off")],
                SamplerConfig::AlwaysOff,
            ),
            (
                json!({}),
                &[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
                ],
                SamplerConfig::TraceIdRatio(0.25),
            ),
            (
                json!({}),
                &[("OTEL_TRACES_SAMPLER", "traceidratio")],
                SamplerConfig::TraceIdRatio(1.0),
            ),
            (
                json!({}),
                &[
                    ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
                ],
                SamplerConfig::ParentBasedTraceIdRatio(0.1),
            ),
            (
                json!({}),
                &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
                SamplerConfig::ParentBasedAlwaysOff,
            ),
            // The section wins over the environment.
            (
                json!({"sample_ratio": 0.5}),
                &[("OTEL_TRACES_SAMPLER", "always_off")],
                SamplerConfig::ParentBasedTraceIdRatio(0.5),
            ),
            (
                json!({"sample_ratio": 1}),
                &[],
                SamplerConfig::ParentBasedAlwaysOn,
            ),
        ];
        for (section, pairs, expected) in cases {
            let (config, errors) = resolve(Some(section.clone()), false, pairs);
            assert_eq!(config.sampler, *expected, "{section} {pairs:?}");
            assert!(errors.is_empty(), "{section} {pairs:?}: {errors:?}");
        }
    }

    #[test]
    fn headers_service_name_and_content_capture() {
        let pairs = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=a%20b, x-team = t1,broken",
            ),
            ("OTEL_SERVICE_NAME", "edge"),
            ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "TRUE"),
        ];
        let (config, errors) = resolve(None, false, &pairs);
        assert!(errors.is_empty(), "{errors:?}");
        let expected = TracingConfig {
            endpoint: Some("http://c:4318/v1/traces".to_owned()),
            headers: vec![
                ("api-key".to_owned(), "a b".to_owned()),
                ("x-team".to_owned(), "t1".to_owned()),
            ],
            service_name: "edge".to_owned(),
            sampler: SamplerConfig::ParentBasedAlwaysOn,
            capture_content: true,
        };
        assert_eq!(config, expected);

        // The section's values win; LiteLLM's OTEL_HEADERS count under its callback.
        let section = json!({
            "headers": {"authorization": "Bearer x"},
            "service_name": "gw",
            "capture_content": false,
        });
        let (config, _) = resolve(Some(section), false, &pairs);
        assert_eq!(
            config.headers,
            vec![("authorization".to_owned(), "Bearer x".to_owned())]
        );
        assert_eq!(config.service_name, "gw");
        // The environment's switch still turns capture on.
        assert!(config.capture_content);
        let (config, _) = resolve(None, true, &[("OTEL_HEADERS", "k=v")]);
        assert_eq!(config.headers, vec![("k".to_owned(), "v".to_owned())]);
        assert_eq!(config.service_name, DEFAULT_SERVICE_NAME);
        assert!(!config.capture_content);
    }
}
