//! Data-driven tests of both configuration formats: what is accepted, what is reported, and
//! where (key paths).

use super::*;
use std::time::Duration;

/// Issues as `level path` strings, the way `check-config` lists them.
fn issues(report: &Report) -> Vec<String> {
    report
        .issues
        .iter()
        .map(|i| {
            let level = match i.level {
                IssueLevel::Error => "error",
                IssueLevel::Unsupported => "unsupported",
                IssueLevel::Notice => "notice",
            };
            format!("{level} {}", i.path)
        })
        .collect()
}

#[test]
fn a_litellm_config_is_accepted_unchanged() {
    let yaml = r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/CFG_TEST_OPENAI_KEY
      organization: org-1
      timeout: 30
      stream_timeout: "12.5"
      max_retries: 2
      extra_headers: {x-team: blue}
    model_info:
      id: gpt-4o-primary
  - model_name: gpt-4o
    litellm_params:
      model: azure_ai_not_a_host/gpt-4o
  - model_name: llama
    litellm_params:
      model: groq/llama-3.1-8b-instant
      rpm: 100
      drop_params: true
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
      weight: 3
      order: 2
general_settings:
  master_key: sk-1234
  database_url: postgres://x
  max_request_size_mb: 2
litellm_settings:
  request_timeout: 45
  success_callback: ["datadog"]
router_settings:
  routing_strategy: least-busy
  num_retries: 4
  retry_policy: {RateLimitErrorRetries: 1}
  fallbacks: [{gpt-4o: [llama]}]
  context_window_fallbacks: [{llama: [gpt-4o]}]
  allowed_fails: 2
  cooldown_time: 30
  redis_host: localhost
environment_variables:
  CFG_TEST_OPENAI_KEY: sk-from-config
  GROQ_API_KEY: gsk-from-config
"#;
    let (config, report) = load_str(yaml);
    assert_eq!(
        issues(&report),
        [
            "unsupported litellm_settings.success_callback[0] (datadog)",
            "error model_list[1].litellm_params.model",
        ]
    );
    let config = config.unwrap();
    assert_eq!(config.format, "litellm");
    assert!(
        config.log_sinks.is_empty(),
        "an unsupported callback makes no sink"
    );
    assert_eq!(config.policy.database_url.as_deref(), Some("postgres://x"));
    assert_eq!(
        config.router.redis.as_ref().map(|r| r.url.as_str()),
        Some("redis://localhost:6379")
    );
    assert_eq!(config.server.master_key.as_deref(), Some("sk-1234"));
    assert_eq!(config.server.max_request_bytes, 2 << 20);
    let first = &config.deployments[0].target;
    assert_eq!(
        first.api_key.as_ref().map(|k| k.expose()),
        Some("sk-from-config")
    );
    assert_eq!(first.timeout, Some(Duration::from_secs(30)));
    assert_eq!(first.stream_timeout, Some(Duration::from_millis(12_500)));
    assert_eq!(
        first.extra_headers,
        [("x-team".to_owned(), "blue".to_owned())]
    );
    assert_eq!(config.deployments[0].spec.max_retries, Some(2));
    let llama = &config.deployments[2].spec;
    assert_eq!(
        (llama.rpm, llama.weight, llama.order),
        (Some(100), Some(3.0), Some(2))
    );
    assert_eq!(llama.price_per_token, Some((0.000001, 0.000002)));
    let router = &config.router;
    assert_eq!(router.strategy, llm_router::Strategy::LeastBusy);
    assert_eq!(router.num_retries, 4);
    assert_eq!(router.retry_policy.rate_limit, Some(1));
    assert_eq!(router.fallbacks["gpt-4o"], ["llama"]);
    assert_eq!(router.context_window_fallbacks["llama"], ["gpt-4o"]);
    assert_eq!(router.breaker.allowed_fails, 2);
    assert_eq!(router.breaker.cooldown, Duration::from_secs(30));
    assert_eq!(config.deployments[0].model_info["id"], "gpt-4o-primary");
    // The provider's usual key variable is found in environment_variables.
    let groq = &config.deployments[2].target;
    assert_eq!(
        groq.api_key.as_ref().map(|k| k.expose()),
        Some("gsk-from-config")
    );
    assert_eq!(
        groq.timeout,
        Some(Duration::from_secs(45)),
        "litellm_settings.request_timeout"
    );
    assert!(groq.drop_params && !first.drop_params);
    assert_eq!(config.model_names(), ["gpt-4o", "llama"]);
}

#[test]
fn every_error_is_reported_at_once_with_its_path() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            r#"
model_list:
  - model_name: a
    litellm_params: {model: gpt-4o}
  - model_name: b
    litellm_params: {model: openai/x, api_base: "not a url", timeout: -3}
  - model_name: c
    litellm_params: {model: hosted_vllm/llama}
  - litellm_params: {model: openai/x}
  - model_name: e
    litellm_params: {model: openai/x, api_key: os.environ/CFG_TEST_SURELY_UNSET}
  - model_name: f
    litellm_params: {model: openai/x, max_retries: many}
"#,
            vec![
                "error model_list[4].litellm_params.api_key",
                "error model_list[0].litellm_params.model",
                "error model_list[1].litellm_params.timeout",
                "error model_list[1].litellm_params.api_base",
                "error model_list[2].litellm_params.api_base",
                "error model_list[3].model_name",
                "error model_list[5].litellm_params.max_retries",
            ],
        ),
        (
            r#"
server: {port: "eighty", colour: blue}
models:
  - {name: a, model: openai/x, api_base: "http://127.0.0.1:1/v1"}
  - {name: b, model: openai/x, temperature: 1}
  - {name: c}
extra: 1
"#,
            vec![
                "error extra",
                "error models[1].temperature",
                "error models[2].model",
                "error server.colour",
            ],
        ),
        ("[1, 2]", vec!["error (file)"]),
        ("model_list: 5", vec!["error model_list"]),
        (
            r#"
model_list:
  - {model_name: a, litellm_params: {model: mock/a}}
router_settings:
  routing_strategy: fastest-please
  fallbacks: [{a: [b]}]
  retry_policy: {TeapotErrorRetries: 1}
"#,
            vec![
                "error router_settings.routing_strategy",
                "error router_settings.fallbacks.a[0]",
                "error router_settings.retry_policy.TeapotErrorRetries",
            ],
        ),
    ];
    for (yaml, expected) in cases {
        let (_, report) = load_str(yaml);
        let mut got = issues(&report);
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{yaml}");
        assert!(report.has_errors(false), "{yaml}");
    }
}

#[test]
fn native_config_with_env_references() {
    let yaml = r#"
server:
  host: 127.0.0.1
  port: 8080
  master_key: ${CFG_TEST_NATIVE_MASTER}
models:
  - name: fast
    model: groq/llama-3.1-8b-instant
    api_key: "${CFG_TEST_NATIVE_MASTER}-groq"
    timeout: 5
  - name: local
    model: mock/x
    mock_response: hi
"#;
    // Setting a variable is unsafe in edition 2024; use one the test process always has.
    let yaml = yaml.replace("CFG_TEST_NATIVE_MASTER", "CARGO_PKG_NAME");
    let (config, report) = load_str(&yaml);
    assert!(!report.has_errors(true), "{:?}", report.issues);
    let config = config.unwrap();
    assert_eq!(config.format, "native");
    assert_eq!(
        (config.server.host.as_str(), config.server.port),
        ("127.0.0.1", 8080)
    );
    assert_eq!(config.server.master_key.as_deref(), Some("llm-gateway"));
    let key = config.deployments[0]
        .target
        .api_key
        .as_ref()
        .map(|k| k.expose());
    assert_eq!(key, Some("llm-gateway-groq"));
    assert_eq!(
        config.deployments[1].target.mock_response.as_deref(),
        Some("hi")
    );
}

#[test]
fn the_embedded_demo_config_is_valid_and_strict_clean() {
    let (config, report) = load_str(DEMO_CONFIG);
    assert!(!report.has_errors(true), "{:?}", report.issues);
    assert!(
        config
            .unwrap()
            .deployments
            .iter()
            .all(|d| d.target.model.starts_with("mock/"))
    );
}

#[test]
fn strict_turns_unsupported_keys_into_errors() {
    let (_, report) = load_str("model_list: []\nrouter_settings: {model_group_alias: {a: b}}\n");
    assert!(!report.has_errors(false));
    assert!(report.has_errors(true));
}

#[test]
fn redis_for_shared_router_state_in_every_spelling() {
    let models = "models: [{name: m, model: openai/gpt-4o-mini, api_key: k}]\n";
    let litellm =
        "model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]\n";
    // (document, expected URL and key prefix, expected issues)
    type Case<'a> = (String, Option<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (models.to_owned(), None, vec![]),
        (
            format!("{models}redis_url: redis://cache:6379\n"),
            Some(("redis://cache:6379", "llmgw:router:")),
            vec![],
        ),
        (
            format!(
                "{models}router: {{redis_url: \"redis://:pw@cache/1\", redis_key_prefix: \"gw1:\"}}\n"
            ),
            Some(("redis://:pw@cache/1", "gw1:")),
            vec![],
        ),
        (
            format!("{models}redis_url: redis://a\nrouter: {{redis_url: redis://b}}\n"),
            Some(("redis://b", "llmgw:router:")),
            vec!["error redis_url"],
        ),
        (
            format!(
                "{litellm}router_settings: {{redis_host: cache, redis_port: \"6380\", redis_password: \"p@ss\"}}\n"
            ),
            Some(("redis://:p%40ss@cache:6380", "llmgw:router:")),
            vec![],
        ),
        (
            format!("{litellm}router_settings: {{redis_url: \"redis://cache:7000\"}}\n"),
            Some(("redis://cache:7000", "llmgw:router:")),
            vec![],
        ),
        (
            format!("{litellm}router_settings: {{redis_url: redis://a, redis_host: b}}\n"),
            Some(("redis://a", "llmgw:router:")),
            vec!["error router_settings.redis_url"],
        ),
        (
            format!("{litellm}router_settings: {{redis_port: 6379}}\n"),
            None,
            vec!["error router_settings.redis_host"],
        ),
        (
            format!("{litellm}router_settings: {{redis_url: \"rediss://cache\"}}\n"),
            None,
            vec!["error router_settings.redis_url"],
        ),
        (
            format!("{models}router: {{redis_key_prefix: x}}\n"),
            None,
            vec!["notice router.redis_key_prefix"],
        ),
    ];
    // `REDIS_URL` fills in when the file names no Redis (then those cases cannot be checked).
    let from_env = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
    for (yaml, expected, expected_issues) in cases {
        let expected = expected.or_else(|| from_env.as_deref().map(|url| (url, "llmgw:router:")));
        let (config, report) = load_str(&yaml);
        let redis = config.unwrap().router.redis;
        assert_eq!(
            redis
                .as_ref()
                .map(|r| (r.url.as_str(), r.key_prefix.as_str())),
            expected,
            "{yaml}"
        );
        assert_eq!(issues(&report), expected_issues, "{yaml}");
    }
}

#[test]
fn the_response_cache_in_both_formats() {
    let litellm = "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n";
    let models = "models:\n  - {name: m, model: mock/m}\n";
    let local = |mb: u64| CacheBackend::Local {
        max_bytes: mb * 1024 * 1024,
    };
    let redis = |url: &str| CacheBackend::Redis {
        url: url.to_owned(),
        prefix: "llmgw:cache:".to_owned(),
    };
    // (document, expected backend / ttl seconds / namespace, expected issues)
    type Case<'a> = (
        String,
        Option<(CacheBackend, Option<u64>, Option<&'a str>)>,
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (litellm.to_owned(), None, vec![]),
        (
            format!("{litellm}litellm_settings: {{cache: true}}\n"),
            Some((local(64), None, None)),
            vec![],
        ),
        (
            format!(
                "{litellm}litellm_settings:\n  cache: \"true\"\n  cache_params: {{type: redis, \
                 host: cache.internal, port: 6380, password: pw, ttl: 600, namespace: team-a}}\n"
            ),
            Some((
                redis("redis://:pw@cache.internal:6380"),
                Some(600),
                Some("team-a"),
            )),
            vec![],
        ),
        (
            format!(
                "{litellm}router_settings: {{redis_url: \"redis://shared:6379\"}}\n\
                 litellm_settings: {{cache: true, cache_params: {{type: redis}}}}\n"
            ),
            Some((redis("redis://shared:6379"), None, None)),
            vec![],
        ),
        (
            format!("{litellm}litellm_settings: {{cache: false, cache_params: {{type: redis}}}}\n"),
            None,
            vec!["notice litellm_settings.cache_params"],
        ),
        (
            format!("{litellm}litellm_settings: {{cache: true, cache_params: {{type: s3}}}}\n"),
            None,
            vec!["error litellm_settings.cache_params.type"],
        ),
        (
            format!(
                "{litellm}litellm_settings: {{cache: true, cache_params: {{mode: default_off}}}}\n"
            ),
            Some((local(64), None, None)),
            vec!["unsupported litellm_settings.cache_params.mode"],
        ),
        (
            format!("{litellm}litellm_settings: {{cache: true, cache_params: {{ttl: -1}}}}\n"),
            Some((local(64), None, None)),
            vec!["error litellm_settings.cache_params.ttl"],
        ),
        (
            format!("{models}cache: {{type: local, max_size_mb: 8, ttl: 30}}\n"),
            Some((local(8), Some(30), None)),
            vec![],
        ),
        (
            format!("{models}cache: {{type: redis, url: \"redis://c:1\", colour: red}}\n"),
            Some((redis("redis://c:1"), None, None)),
            vec!["error cache.colour"],
        ),
    ];
    for (yaml, expected, expected_issues) in cases {
        // A Redis from the environment would fill in where these cases name none.
        if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) && yaml.contains("type: redis}")
        {
            continue;
        }
        let (config, report) = load_str(&yaml);
        let cache = config.unwrap().cache.map(|c| {
            (
                c.backend,
                c.ttl.map(|t| t.as_secs()),
                c.namespace.map(|n| n.leak() as &str),
            )
        });
        assert_eq!(cache, expected, "{yaml}");
        assert_eq!(issues(&report), expected_issues, "{yaml}");
    }
}
