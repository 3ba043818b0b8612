//! Router behaviour on scripted providers, on tokio's paused clock.

use super::*;
use crate::breaker::BreakerPolicy;
use crate::deployment::DeploymentSpec;
use crate::settings::RetryPolicy;
use crate::strategy::Strategy;
use futures_util::stream;
use llm_types::{ChatMessage, Choice, EmbeddingUsage, FinishReason, ResponseMessage, Role, Usage};
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

/// A provider that answers with its name, or fails with the scripted errors first.
#[derive(Debug)]
pub(crate) struct Scripted {
    name: &'static str,
    failures: Mutex<Vec<Error>>,
    pub(crate) calls: AtomicUsize,
    /// How long each answer takes (on the paused clock).
    delay: Duration,
}

impl Scripted {
    fn next(&self) -> Result<(), Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut failures = self.failures.lock().unwrap();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.remove(0))
        }
    }
}

fn response(name: &str) -> ChatCompletionResponse {
    let mut message: ResponseMessage =
        serde_json::from_value(serde_json::json!({"role": "assistant"})).unwrap();
    message.content = Some(name.to_owned());
    ChatCompletionResponse {
        id: "x".into(),
        object: "chat.completion".into(),
        created: 0,
        model: name.into(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(FinishReason::Stop),
            logprobs: None,
        }],
        usage: Some(Usage::new(10, 5)),
        system_fingerprint: None,
        service_tier: None,
    }
}

impl Provider for Scripted {
    async fn chat(&self, _: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.next()?;
        Ok(response(self.name))
    }

    async fn chat_stream(&self, _: ChatCompletionRequest) -> Result<ChatStream, Error> {
        self.next()?;
        let chunk: llm_types::ChatCompletionChunk = serde_json::from_value(serde_json::json!({
            "id": "c", "created": 0, "model": self.name,
            "choices": [{"index": 0, "delta": {"content": self.name}, "finish_reason": null}]
        }))
        .unwrap();
        Ok(Box::pin(stream::iter(vec![Ok(chunk)])))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        self.next()?;
        Ok(EmbeddingsResponse {
            object: "list".into(),
            data: vec![],
            model: request.model,
            usage: EmbeddingUsage::default(),
        })
    }
}

pub(crate) fn scripted(name: &'static str, failures: Vec<Error>) -> Scripted {
    Scripted {
        name,
        failures: Mutex::new(failures),
        calls: AtomicUsize::new(0),
        delay: Duration::ZERO,
    }
}

pub(crate) fn deployment(
    group: &str,
    name: &'static str,
    spec: DeploymentSpec,
    failures: Vec<Error>,
) -> Deployment<Scripted> {
    Deployment::with_spec(
        name,
        group,
        &format!("test/{name}"),
        spec,
        scripted(name, failures),
    )
}

pub(crate) fn plain(group: &str, name: &'static str, failures: Vec<Error>) -> Deployment<Scripted> {
    deployment(group, name, DeploymentSpec::default(), failures)
}

pub(crate) fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(model, vec![ChatMessage::text(Role::User, "hi")])
}

pub(crate) fn upstream(status: u16) -> Error {
    Error::upstream(
        ErrorKind::from_upstream_status(status),
        Some(status),
        "scripted",
    )
}

pub(crate) fn calls(router: &Router<Scripted>, group: &str) -> Vec<usize> {
    router
        .deployments(group)
        .unwrap()
        .iter()
        .map(|d| d.provider.calls.load(Ordering::SeqCst))
        .collect()
}

pub(crate) fn settings(edit: impl FnOnce(&mut RouterSettings)) -> RouterSettings {
    let mut settings = RouterSettings::default();
    edit(&mut settings);
    settings
}

#[tokio::test]
async fn unknown_model_is_a_404_naming_the_available_ones() {
    let router = Router::new(vec![plain("g", "a", vec![]), plain("h", "b", vec![])]);
    let error = router.chat(request("nope")).await.unwrap_err();
    assert_eq!(error.status(), 404);
    assert_eq!(error.param.as_deref(), Some("model"));
    assert!(
        error.message.contains("available models: g, h"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn weighted_shuffle_matches_the_weights() {
    // 3:1 weights over 4000 requests: within 3 percentage points of 75%.
    let weight = |w| DeploymentSpec {
        weight: Some(w),
        ..DeploymentSpec::default()
    };
    let router = Router::new(vec![
        deployment("g", "heavy", weight(3.0), vec![]),
        deployment("g", "light", weight(1.0), vec![]),
    ])
    .with_seed(42);
    for _ in 0..4000 {
        router.chat(request("g")).await.unwrap();
    }
    let share = calls(&router, "g")[0] as f64 / 4000.0;
    assert!((share - 0.75).abs() < 0.03, "heavy got {share}");
    // rpm stands in for weight when no weight is set.
    let rpm = |r| DeploymentSpec {
        rpm: Some(r),
        ..DeploymentSpec::default()
    };
    let router = Router::new(vec![
        deployment("g", "a", rpm(9000), vec![]),
        deployment("g", "b", rpm(1000), vec![]),
    ])
    .with_seed(7);
    for _ in 0..2000 {
        router.chat(request("g")).await.unwrap();
    }
    let share = calls(&router, "g")[0] as f64 / 2000.0;
    assert!((share - 0.9).abs() < 0.03, "a got {share}");
}

#[tokio::test(start_paused = true)]
async fn each_strategy_chooses_on_constructed_state() {
    let now = Instant::now();
    let d = |name: &'static str, spec: DeploymentSpec| deployment("g", name, spec, vec![]);
    let priced = |input: f64| DeploymentSpec {
        price_per_token: Some((input, input)),
        ..DeploymentSpec::default()
    };
    let limited = |rpm: u64| DeploymentSpec {
        rpm: Some(rpm),
        ..DeploymentSpec::default()
    };
    // (strategy, deployments, prepare state, expected winner)
    type Prepare = Box<dyn Fn(&[Deployment<Scripted>])>;
    let cases: Vec<(Strategy, Vec<Deployment<Scripted>>, Prepare, &str)> = vec![
        (
            Strategy::LeastBusy,
            vec![
                d("a", DeploymentSpec::default()),
                d("b", DeploymentSpec::default()),
            ],
            Box::new(move |ds| {
                std::mem::forget(ds[0].state.start(now, Admission::Yes));
            }),
            "b",
        ),
        (
            Strategy::LatencyBased,
            vec![
                d("slow", DeploymentSpec::default()),
                d("fast", DeploymentSpec::default()),
            ],
            Box::new(move |ds| {
                ds[0]
                    .state
                    .succeeded(now, Duration::from_millis(900), false);
                ds[1]
                    .state
                    .succeeded(now, Duration::from_millis(100), false);
            }),
            "fast",
        ),
        (
            Strategy::UsageBased,
            vec![d("busy", limited(100)), d("idle", limited(100))],
            Box::new(move |ds| {
                for _ in 0..60 {
                    drop(ds[0].state.start(now, Admission::Yes));
                }
            }),
            "idle",
        ),
        (
            Strategy::CostBased,
            vec![
                d("dear", priced(30e-6)),
                d("cheap", priced(2e-6)),
                d("unknown", DeploymentSpec::default()),
            ],
            Box::new(|_| {}),
            "cheap",
        ),
    ];
    for (strategy, deployments, prepare, winner) in cases {
        prepare(&deployments);
        let candidates: Vec<&Deployment<Scripted>> = deployments.iter().collect();
        for random in [0.15, 0.5, 0.99] {
            let chosen = crate::strategy::choose(strategy, &candidates, false, now, random);
            assert_eq!(
                &*candidates[chosen].id, winner,
                "{strategy:?} random {random}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn retries_follow_the_policy() {
    // (num_retries, failures of the single deployment, expected outcome, expected calls)
    type Case = (u32, Vec<Error>, Result<(), u16>, usize);
    let cases: Vec<Case> = vec![
        (0, vec![upstream(500)], Err(502), 1),
        (2, vec![upstream(500), upstream(503)], Ok(()), 3),
        (1, vec![upstream(500), upstream(503)], Err(503), 2),
        (3, vec![upstream(400)], Err(400), 1),
        (3, vec![upstream(401)], Err(401), 1),
        (1, vec![upstream(429)], Ok(()), 2),
    ];
    for (num_retries, failures, expected, made) in cases {
        let router = Router::with_settings(
            vec![plain("g", "a", failures.clone())],
            settings(|s| s.num_retries = num_retries),
        );
        let outcome = router
            .chat(request("g"))
            .await
            .map(|_| ())
            .map_err(|e| e.status());
        assert_eq!(
            (outcome, calls(&router, "g")[0]),
            (expected, made),
            "num_retries {num_retries}, failures {failures:?}"
        );
    }
    // The per-request count wins over the router's; the retry policy over both for its class.
    let router = Router::with_settings(
        vec![plain("g", "a", vec![upstream(500); 3])],
        settings(|s| s.num_retries = 0),
    );
    let mut asked = request("g");
    asked.num_retries = Some(3);
    assert!(router.chat(asked).await.is_ok());
    let mut policy = RetryPolicy::default();
    policy.set("RateLimitErrorRetries", 0);
    let router = Router::with_settings(
        vec![plain("g", "a", vec![upstream(429)])],
        settings(|s| s.retry_policy = policy),
    );
    assert_eq!(router.chat(request("g")).await.unwrap_err().status(), 429);
}

#[tokio::test(start_paused = true)]
async fn a_retry_goes_to_another_deployment_at_once_or_waits_for_retry_after() {
    let limited = || upstream(429).with_retry_after(Some(Duration::from_secs(3)));
    let router = Router::new(vec![
        plain("g", "a", vec![limited()]),
        plain("g", "b", vec![limited()]),
    ]);
    let started = Instant::now();
    let routed = router.chat(request("g")).await.unwrap();
    // Both failed once (each tried first by one attempt), the third attempt waited 3 s.
    assert_eq!((routed.attempts, routed.retries), (3, 2));
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(
        routed.failures.iter().map(|f| f.error).collect::<Vec<_>>(),
        ["rate_limited", "rate_limited"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_cooled_down_deployment_is_skipped_until_its_probe() {
    let policy = BreakerPolicy {
        allowed_fails: 0,
        cooldown: Duration::from_secs(10),
    };
    let router = Router::with_settings(
        vec![
            plain("g", "flaky", vec![upstream(500)]),
            plain("g", "steady", vec![]),
        ],
        settings(|s| {
            s.breaker = policy;
            s.num_retries = 1;
        }),
    );
    // Make `flaky` fail once: it cools down for 10 s.
    while calls(&router, "g")[0] == 0 {
        router.chat(request("g")).await.unwrap();
    }
    let before = calls(&router, "g");
    for _ in 0..20 {
        assert_eq!(
            &*router.chat(request("g")).await.unwrap().deployment.id,
            "steady"
        );
    }
    assert_eq!(
        calls(&router, "g")[0],
        before[0],
        "cooling deployment got traffic"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    // After the cooldown it takes traffic again (its probe succeeds).
    let mut served = Vec::new();
    for _ in 0..40 {
        served.push(
            router
                .chat(request("g"))
                .await
                .unwrap()
                .deployment
                .id
                .to_string(),
        );
    }
    assert!(served.iter().any(|s| s == "flaky"), "never probed again");
}

#[tokio::test(start_paused = true)]
async fn a_single_deployment_group_is_not_refused_while_cooling() {
    let policy = BreakerPolicy {
        allowed_fails: 0,
        cooldown: Duration::from_secs(60),
    };
    let router = Router::with_settings(
        vec![plain("g", "only", vec![upstream(429)])],
        settings(|s| {
            s.breaker = policy;
            s.num_retries = 0;
        }),
    );
    assert_eq!(router.chat(request("g")).await.unwrap_err().status(), 429);
    // Cooling down, but the only deployment still takes the next request.
    assert!(router.chat(request("g")).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn limits_and_priority_tiers_shape_the_choice() {
    let spec = |rpm, order| DeploymentSpec {
        rpm,
        order,
        ..DeploymentSpec::default()
    };
    let router = Router::new(vec![
        deployment("g", "primary", spec(Some(2), Some(1)), vec![]),
        deployment("g", "backup", spec(Some(1), Some(2)), vec![]),
    ]);
    let mut served = Vec::new();
    for _ in 0..3 {
        served.push(
            router
                .chat(request("g"))
                .await
                .unwrap()
                .deployment
                .id
                .to_string(),
        );
    }
    assert_eq!(served, ["primary", "primary", "backup"]);
    let error = router.chat(request("g")).await.unwrap_err();
    assert_eq!(error.status(), 429);
    assert_eq!(error.retry_after, Some(Duration::from_secs(60)));
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(
        &*router.chat(request("g")).await.unwrap().deployment.id,
        "primary"
    );
}

#[tokio::test(start_paused = true)]
async fn fallbacks_by_kind_of_failure() {
    let context = || Error::upstream(ErrorKind::ContextLengthExceeded, Some(400), "too long");
    let policy = || Error::upstream(ErrorKind::ContentPolicy, Some(400), "refused");
    let build = |failures: Vec<Error>| {
        Router::with_settings(
            vec![
                plain("main", "m", failures),
                plain("big", "b", vec![]),
                plain("safe", "s", vec![]),
                plain("other", "o", vec![]),
                plain("last", "l", vec![]),
            ],
            settings(|s| {
                s.num_retries = 0;
                s.fallbacks.insert("main".into(), vec!["other".into()]);
                s.context_window_fallbacks
                    .insert("main".into(), vec!["big".into()]);
                s.content_policy_fallbacks
                    .insert("main".into(), vec!["safe".into()]);
                s.default_fallbacks = vec!["last".into()];
            }),
        )
    };
    // (failure of `main`, group that answers)
    let cases = [
        (upstream(500), Some("other")),
        (context(), Some("big")),
        (policy(), Some("safe")),
        (upstream(400), None),
    ];
    for (failure, answered) in cases {
        let label = failure.kind;
        let router = build(vec![failure]);
        let outcome = router.chat(request("main")).await;
        assert_eq!(
            outcome.as_ref().ok().map(|r| &*r.deployment.model_name),
            answered,
            "{label:?}"
        );
        if let Ok(routed) = outcome {
            assert_eq!((routed.fallbacks, routed.attempts), (1, 2));
        }
    }
    // The request's own list wins over the configured one.
    let router = build(vec![upstream(503)]);
    let mut asked = request("main");
    asked.fallbacks = Some(vec!["safe".into()]);
    assert_eq!(
        &*router.chat(asked).await.unwrap().deployment.model_name,
        "safe"
    );
    // A group without its own list uses default_fallbacks.
    let router = Router::with_settings(
        vec![
            plain("lonely", "x", vec![upstream(500)]),
            plain("last", "l", vec![]),
        ],
        settings(|s| {
            s.num_retries = 0;
            s.default_fallbacks = vec!["last".into()];
        }),
    );
    assert_eq!(
        &*router
            .chat(request("lonely"))
            .await
            .unwrap()
            .deployment
            .model_name,
        "last"
    );
}

#[tokio::test(start_paused = true)]
async fn the_context_window_is_checked_before_the_call() {
    let small = DeploymentSpec {
        max_input_tokens: Some(10),
        ..DeploymentSpec::default()
    };
    let router = Router::with_settings(
        vec![
            deployment("small", "s", small, vec![]),
            plain("large", "l", vec![]),
        ],
        settings(|s| {
            s.context_window_fallbacks
                .insert("small".into(), vec!["large".into()]);
        }),
    );
    let long = ChatCompletionRequest::new(
        "small",
        vec![ChatMessage::text(Role::User, "word ".repeat(100))],
    );
    let routed = router.chat(long).await.unwrap();
    assert_eq!(&*routed.deployment.model_name, "large");
    assert_eq!(
        calls(&router, "small"),
        [0],
        "the small deployment was never called"
    );
    assert!(
        router.chat(request("small")).await.is_ok(),
        "short prompts still fit"
    );
}

#[tokio::test(start_paused = true)]
async fn max_fallbacks_bounds_the_chain() {
    let router = Router::with_settings(
        vec![
            plain("a", "a", vec![upstream(500)]),
            plain("b", "b", vec![upstream(500)]),
            plain("c", "c", vec![]),
        ],
        settings(|s| {
            s.num_retries = 0;
            s.max_fallbacks = 1;
            s.fallbacks.insert("a".into(), vec!["b".into(), "c".into()]);
        }),
    );
    assert_eq!(router.chat(request("a")).await.unwrap_err().status(), 502);
}

#[tokio::test(start_paused = true)]
async fn the_request_timeout_bounds_every_attempt_together() {
    let mut slow = scripted("slow", vec![]);
    slow.delay = Duration::from_secs(30);
    let router = Router::new(vec![Deployment::new("slow", "g", "test/slow", slow)]);
    let mut asked = request("g");
    asked.timeout = Some(2.0);
    let started = Instant::now();
    let error = router.chat(asked).await.unwrap_err();
    assert_eq!(
        (error.status(), started.elapsed()),
        (504, Duration::from_secs(2))
    );
}

#[tokio::test(start_paused = true)]
async fn streams_and_embeddings_retry_before_anything_is_sent() {
    let one_retry = || settings(|s| s.num_retries = 1);
    let router = Router::with_settings(
        vec![plain("g", "a", vec![upstream(502), upstream(502)])],
        one_retry(),
    );
    assert!(router.chat_stream(request("g")).await.is_err());
    let router = Router::with_settings(vec![plain("g", "a", vec![upstream(502)])], one_retry());
    let routed = router.chat_stream(request("g")).await.unwrap();
    assert_eq!(routed.attempts, 2);
    let chunks: Vec<_> = routed.value.collect().await;
    assert_eq!(chunks.len(), 1);
    let embed = EmbeddingsRequest {
        model: "g".into(),
        input: llm_types::EmbeddingInput::Text("x".into()),
        encoding_format: None,
        dimensions: None,
        user: None,
        extra: Default::default(),
    };
    let router = Router::with_settings(vec![plain("g", "a", vec![upstream(504)])], one_retry());
    assert_eq!(router.embeddings(embed).await.unwrap().attempts, 2);
}

#[tokio::test]
async fn wildcard_groups_serve_any_model_of_a_provider() {
    let built = Arc::new(AtomicUsize::new(0));
    let counter = built.clone();
    let factory: crate::wildcard::WildcardFactory<Scripted> = Arc::new(move |model: &str| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(vec![Deployment::new(
            &format!("{model}#0"),
            model,
            model,
            scripted("wild", vec![]),
        )])
    });
    let router =
        Router::new(vec![plain("prov/exact", "exact", vec![])]).with_wildcard("prov/*", factory);
    // (requested model, served by)
    let cases = [
        ("prov/exact", Some("exact")),
        ("prov/alpha", Some("prov/alpha#0")),
        ("prov/beta", Some("prov/beta#0")),
        ("prov/alpha", Some("prov/alpha#0")),
        ("other/alpha", None),
        ("prov/", None),
    ];
    for (model, served) in cases {
        let outcome = router.chat(request(model)).await;
        assert_eq!(
            outcome.as_ref().ok().map(|r| r.deployment.id.to_string()),
            served.map(str::to_owned),
            "{model}"
        );
        if served.is_none() {
            assert_eq!(outcome.unwrap_err().status(), 404);
        }
    }
    assert_eq!(
        built.load(Ordering::SeqCst),
        2,
        "adapters are built once per model"
    );
    assert!(router.model_names().any(|n| n == "prov/*"));
}

/// Records the router's events as text, in order.
#[derive(Default)]
struct EventLog(Mutex<Vec<String>>);

impl RouterEvents for EventLog {
    fn attempt_failed(&self, group: Option<&str>, deployment: &str, error: &'static str) {
        let line = format!("failed {group:?} {deployment} {error}");
        self.0.lock().unwrap().push(line);
    }
    fn retried(&self, group: Option<&str>) {
        self.0.lock().unwrap().push(format!("retried {group:?}"));
    }
    fn fell_back(&self, from: Option<&str>, to: Option<&str>, error: &'static str) {
        let line = format!("fell back {from:?} {to:?} {error}");
        self.0.lock().unwrap().push(line);
    }
}

/// Failures of the two `main` deployments, retries allowed, events, answered.
type EventCase = (Vec<Error>, Vec<Error>, u32, &'static [&'static str], bool);

#[tokio::test(start_paused = true)]
async fn events_report_failed_attempts_retries_and_fallbacks() {
    let cases: [EventCase; 3] = [
        (vec![], vec![], 1, &[], true),
        (
            vec![upstream(500)],
            vec![upstream(500)],
            1,
            &[
                "failed Some(\"main\") a upstream_server_error",
                "retried Some(\"main\")",
                "failed Some(\"main\") b upstream_server_error",
                "fell back Some(\"main\") Some(\"other\") upstream_server_error",
            ],
            true,
        ),
        (
            vec![upstream(400)],
            vec![upstream(400)],
            1,
            &["failed Some(\"main\") a invalid_request"],
            false,
        ),
    ];
    for (fail_a, fail_b, num_retries, expected, answered) in cases {
        let log = Arc::new(EventLog::default());
        let router = Router::with_settings(
            vec![
                plain("main", "a", fail_a),
                plain("main", "b", fail_b),
                plain("other", "o", vec![]),
            ],
            settings(|s| {
                s.num_retries = num_retries;
                s.strategy = Strategy::SimpleShuffle;
                s.fallbacks.insert("main".into(), vec!["other".into()]);
            }),
        )
        .with_seed(1)
        .with_events(log.clone());
        let outcome = router.chat(request("main")).await;
        assert_eq!(outcome.is_ok(), answered, "{expected:?}");
        let mut seen = log.0.lock().unwrap().clone();
        // Which of `a` and `b` goes first is the strategy's choice: compare without it.
        for line in &mut seen {
            *line = line.replace(" b ", " a ");
        }
        let expected: Vec<String> = expected.iter().map(|l| l.replace(" b ", " a ")).collect();
        assert_eq!(seen, expected);
    }
}
