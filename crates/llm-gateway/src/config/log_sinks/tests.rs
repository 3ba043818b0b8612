//! Data-driven tests of the sink settings: native entries, LiteLLM names, their environment.

use super::*;
use serde_json::json;

/// The issues of a report as `level path` strings.
fn issues(report: &Report) -> Vec<String> {
    report
        .issues
        .iter()
        .map(|i| format!("{:?} {}", i.level, i.path))
        .collect()
}

fn native(value: Value) -> (Vec<SinkConfig>, Vec<String>) {
    let mut report = Report::default();
    let sinks = parse_native(value, "observability.log_sinks", &mut report);
    (sinks, issues(&report))
}

fn webhook(url: &str, headers: &[(&str, &str)]) -> SinkTarget {
    SinkTarget::Webhook {
        url: url.to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
            .collect(),
    }
}

#[test]
fn native_entries_with_defaults_and_every_setting() {
    let (sinks, found) = native(json!([
        {"type": "webhook", "url": "http://h/logs", "headers": {"x-k": "v"}},
        {"name": "lf", "type": "otlp", "url": "https://lf/api/public/otel", "when": "failure",
         "batch_size": 5, "flush_interval_ms": 20, "queue_capacity": 7, "queue_max_bytes": 4096,
         "max_retries": 2,
         "backoff_ms": 10, "max_backoff_ms": 40, "timeout_ms": 300, "redact_content": true},
        {"name": "traces", "type": "otlp", "url": "http://c:4318/v1/traces"},
        {"name": "out", "type": "jsonl"},
        {"name": "err", "type": "jsonl", "path": "stderr"},
        {"name": "file", "type": "jsonl", "path": "/var/log/gw.jsonl", "when": "success"},
    ]));
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(
        sinks[0],
        SinkConfig::new("webhook", webhook("http://h/logs", &[("x-k", "v")]))
    );
    let lf = &sinks[1];
    assert_eq!(
        lf.target,
        SinkTarget::Otlp {
            endpoint: "https://lf/api/public/otel/v1/traces".into(),
            headers: vec![]
        }
    );
    assert_eq!(
        (
            lf.when,
            lf.batch_size,
            lf.flush_interval,
            lf.queue_capacity,
            lf.queue_max_bytes
        ),
        (SinkWhen::Failure, 5, Duration::from_millis(20), 7, 4096)
    );
    assert_eq!(
        (
            lf.max_retries,
            lf.backoff,
            lf.max_backoff,
            lf.timeout,
            lf.redact_content
        ),
        (
            2,
            Duration::from_millis(10),
            Duration::from_millis(40),
            Duration::from_millis(300),
            true
        )
    );
    let endpoint = |s: &SinkConfig| match &s.target {
        SinkTarget::Otlp { endpoint, .. } => endpoint.clone(),
        _ => String::new(),
    };
    assert_eq!(endpoint(&sinks[2]), "http://c:4318/v1/traces");
    let targets: Vec<_> = sinks[3..].iter().map(|s| s.target.clone()).collect();
    assert_eq!(
        targets,
        [
            SinkTarget::Jsonl(JsonlTarget::Stdout),
            SinkTarget::Jsonl(JsonlTarget::Stderr),
            SinkTarget::Jsonl(JsonlTarget::File("/var/log/gw.jsonl".into())),
        ]
    );
    assert_eq!(sinks[5].when, SinkWhen::Success);
}

#[test]
fn native_mistakes_are_errors_at_their_paths() {
    let cases: &[(Value, &[&str])] = &[
        (json!({"type": "jsonl"}), &["Error observability.log_sinks"]),
        (
            json!([{"type": "jsonl", "colour": "red"}]),
            &["Error observability.log_sinks[0].colour"],
        ),
        (
            json!([{"type": "kafka"}]),
            &["Error observability.log_sinks[0].type"],
        ),
        (
            json!([{"type": "webhook"}]),
            &["Error observability.log_sinks[0].url"],
        ),
        (
            json!([{"type": "webhook", "url": "ftp://x"}]),
            &["Error observability.log_sinks[0].url"],
        ),
        (
            json!([{"type": "webhook", "url": "http://x", "path": "f"}]),
            &["Error observability.log_sinks[0].path"],
        ),
        (
            json!([{"type": "jsonl", "url": "http://x"}]),
            &["Error observability.log_sinks[0].url"],
        ),
        (
            json!([{"type": "jsonl", "when": "sometimes", "batch_size": 0}]),
            &[
                "Error observability.log_sinks[0].when",
                "Error observability.log_sinks[0].batch_size",
            ],
        ),
        (
            json!([{"type": "jsonl", "queue_max_bytes": 0}]),
            &["Error observability.log_sinks[0].queue_max_bytes"],
        ),
        (
            json!([{"type": "jsonl"}, {"type": "jsonl", "path": "f"}]),
            &["Error observability.log_sinks[1].name"],
        ),
    ];
    for (value, expected) in cases {
        let (sinks, found) = native(value.clone());
        assert_eq!(found, *expected, "{value}");
        assert!(sinks.len() < 2, "{value}");
    }
}

fn litellm(callbacks: Value, env: &[(&str, &str)]) -> (Vec<SinkConfig>, bool, Vec<String>) {
    let callbacks: LitellmCallbacks = serde_json::from_value(callbacks).unwrap();
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut report = Report::default();
    let (sinks, otel) = parse_litellm_with(&callbacks, &|name| env.get(name).cloned(), &mut report);
    (sinks, otel, issues(&report))
}

const LANGFUSE_KEYS: [(&str, &str); 2] = [
    ("LANGFUSE_PUBLIC_KEY", "pk-lf-1"),
    ("LANGFUSE_SECRET_KEY", "sk-lf-2"),
];

#[test]
fn litellm_generic_api_reads_its_environment() {
    let env = [
        ("GENERIC_LOGGER_ENDPOINT", "http://logs.example/ingest"),
        (
            "GENERIC_LOGGER_HEADERS",
            "Authorization=Bearer x, X-Team=blue,bad",
        ),
    ];
    let (sinks, otel, found) = litellm(json!({"success_callback": ["generic_api"]}), &env);
    assert_eq!(found, Vec::<String>::new());
    assert!(!otel);
    let mut expected = SinkConfig::new(
        "generic_api",
        webhook(
            "http://logs.example/ingest",
            &[("Authorization", "Bearer x"), ("X-Team", "blue")],
        ),
    );
    expected.when = SinkWhen::Success;
    assert_eq!(sinks, [expected]);
}

#[test]
fn litellm_langfuse_is_otlp_with_basic_auth() {
    // base64("pk-lf-1:sk-lf-2")
    let auth = "Basic cGstbGYtMTpzay1sZi0y";
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "https://cloud.langfuse.com/api/public/otel/v1/traces"),
        (
            &[("LANGFUSE_HOST", "https://us.cloud.langfuse.com/")],
            "https://us.cloud.langfuse.com/api/public/otel/v1/traces",
        ),
        (
            &[("LANGFUSE_BASE_URL", "http://lf:3000")],
            "http://lf:3000/api/public/otel/v1/traces",
        ),
        (
            &[
                ("LANGFUSE_OTEL_HOST", "http://otel.lf/api/public/otel"),
                ("LANGFUSE_HOST", "http://other"),
            ],
            "http://otel.lf/api/public/otel/v1/traces",
        ),
    ];
    for (extra, endpoint) in cases {
        let env: Vec<_> = LANGFUSE_KEYS.iter().chain(extra.iter()).copied().collect();
        let (sinks, _, found) = litellm(
            json!({"success_callback": ["langfuse"], "failure_callback": ["langfuse_otel"]}),
            &env,
        );
        assert_eq!(found, Vec::<String>::new());
        let mut expected = SinkConfig::new(
            "langfuse",
            SinkTarget::Otlp {
                endpoint: (*endpoint).to_owned(),
                headers: vec![("authorization".into(), Secret::new(auth))],
            },
        );
        expected.when = SinkWhen::All;
        assert_eq!(sinks, [expected], "{extra:?}");
    }
}

#[test]
fn litellm_names_when_and_redaction() {
    let env = [
        LANGFUSE_KEYS[0],
        LANGFUSE_KEYS[1],
        ("GENERIC_LOGGER_ENDPOINT", "http://g"),
    ];
    // (callbacks, expected sinks as (name, when, redacted), otel, issues)
    type Case = (
        Value,
        &'static [(&'static str, SinkWhen, bool)],
        bool,
        &'static [&'static str],
    );
    let cases: Vec<Case> = vec![
        (json!({"callbacks": ["otel"]}), &[], true, &[]),
        (json!({"success_callback": "otel"}), &[], true, &[]),
        (
            json!({"failure_callback": ["webhook"]}),
            &[("generic_api", SinkWhen::Failure, false)],
            false,
            &[],
        ),
        (
            json!({"callbacks": ["langfuse", "datadog"], "success_callback": ["s3", "generic_api"]}),
            &[
                ("generic_api", SinkWhen::Success, false),
                ("langfuse", SinkWhen::All, false),
            ],
            false,
            &[
                "Unsupported litellm_settings.success_callback[0] (s3)",
                "Unsupported litellm_settings.callbacks[1] (datadog)",
            ],
        ),
        (
            json!({"success_callback": ["langfuse", "generic_api"], "turn_off_message_logging": true}),
            &[
                ("langfuse", SinkWhen::Success, true),
                ("generic_api", SinkWhen::Success, true),
            ],
            false,
            &[],
        ),
        (
            json!({"success_callback": ["langfuse", "generic_api"],
                   "callback_settings": {"langfuse": {"message_logging": false, "x": 1}}}),
            &[
                ("langfuse", SinkWhen::Success, true),
                ("generic_api", SinkWhen::Success, false),
            ],
            false,
            &["Unsupported litellm_settings.callback_settings.langfuse.x"],
        ),
        (
            json!({"success_callback": [3], "turn_off_message_logging": "maybe"}),
            &[],
            false,
            &[
                "Error litellm_settings.success_callback[0]",
                "Error litellm_settings.turn_off_message_logging",
            ],
        ),
    ];
    for (callbacks, expected, expected_otel, expected_issues) in cases {
        let (sinks, otel, found) = litellm(callbacks.clone(), &env);
        let got: Vec<_> = sinks
            .iter()
            .map(|s| (s.name.as_str(), s.when, s.redact_content))
            .collect();
        assert_eq!(got, expected, "{callbacks}");
        assert_eq!(otel, expected_otel, "{callbacks}");
        assert_eq!(found, expected_issues, "{callbacks}");
    }
}

#[test]
fn litellm_missing_environment_is_an_error() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("generic_api", &[]),
        ("langfuse", &[("LANGFUSE_PUBLIC_KEY", "pk")]),
    ];
    for (name, env) in cases {
        let (sinks, _, found) = litellm(json!({"success_callback": [name]}), env);
        assert!(sinks.is_empty());
        assert_eq!(found, ["Error litellm_settings.success_callback[0]"]);
    }
}

#[test]
fn secrets_never_print() {
    let sink = SinkConfig::new(
        "w",
        webhook("http://h", &[("authorization", "Bearer sk-1")]),
    );
    assert!(!format!("{sink:?}").contains("sk-1"));
}
