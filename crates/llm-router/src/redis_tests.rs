//! The Redis backend against the real Redis on 127.0.0.1:6379, each test under its own key
//! prefix. Real clock: Redis keeps its own time, and tokio's paused clock would fire the
//! operation timeout while a reply is on its way.

use super::*;
use crate::breaker::BreakerPolicy;
use crate::deployment::DeploymentSpec;
use crate::router::Router;
use crate::router::tests::{calls, deployment, request, settings, upstream};
use crate::shared::tests::{
    Instances, a_cooldown_is_seen_by_the_other_instance, latency_averages_are_shared,
    rpm_limits_count_both_instances, usage_based_routing_sees_both_instances,
};

const URL: &str = "redis://127.0.0.1:6379";

/// Whether Redis is there; without it the test fails saying how to start it, unless
/// `LLMGW_SKIP_REDIS_TESTS=1` asks to skip.
fn redis_available() -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], 6379));
    if std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok() {
        return true;
    }
    if std::env::var("LLMGW_SKIP_REDIS_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: Redis is not reachable on 127.0.0.1:6379 and \
             LLMGW_SKIP_REDIS_TESTS=1: the shared router state is NOT tested !!!!!!!!\n"
        );
        return false;
    }
    panic!(
        "Redis is not reachable on 127.0.0.1:6379. Start it with \
         `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
         (or set LLMGW_SKIP_REDIS_TESTS=1 to skip the Redis tests)"
    );
}

/// A key prefix no other test (or run) uses.
fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "llmgw-test:{test}:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn redis_state(prefix: &str, view_max_age: Duration) -> RedisState {
    let settings = RedisSettings {
        url: URL.to_owned(),
        key_prefix: prefix.to_owned(),
    };
    RedisState::new(&settings)
        .unwrap()
        .with_view_max_age(view_max_age)
}

/// Two instances on one prefix.
fn instances(prefix: &str, view_max_age: Duration) -> Instances {
    [
        Arc::new(redis_state(prefix, view_max_age)),
        Arc::new(redis_state(prefix, view_max_age)),
    ]
}

/// Deletes the test's keys (they would expire anyway).
async fn clean(prefix: &str) {
    let pool = Config::from_url(URL)
        .create_pool(Some(Runtime::Tokio1))
        .unwrap();
    let mut connection = pool.get().await.unwrap();
    let keys: Vec<String> = deadpool_redis::redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: i64 = deadpool_redis::redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn redis_instances_share_cooldowns_usage_and_latency() {
    if !redis_available() {
        return;
    }
    // (scenario, how old a view may get)
    let scenarios = [0, 1, 2, 3];
    for scenario in scenarios {
        let prefix = unique_prefix(&format!("scenario{scenario}"));
        // The usage scenario checks balance after every request: every choice on fresh
        // numbers. The others run with the default, as the gateway does.
        let max_age = if scenario == 2 {
            Duration::ZERO
        } else {
            VIEW_MAX_AGE
        };
        let instances = instances(&prefix, max_age);
        match scenario {
            0 => a_cooldown_is_seen_by_the_other_instance(&instances).await,
            1 => rpm_limits_count_both_instances(&instances).await,
            2 => usage_based_routing_sees_both_instances(&instances).await,
            _ => latency_averages_are_shared(&instances).await,
        }
        for instance in &instances {
            assert_eq!(instance.errors(), 0, "scenario {scenario}");
        }
        clean(&prefix).await;
    }
}

#[tokio::test]
async fn redis_half_open_probe_goes_out_once_across_instances() {
    if !redis_available() {
        return;
    }
    let prefix = unique_prefix("probe");
    let [a, b] = instances(&prefix, VIEW_MAX_AGE);
    // A zero cooldown: the failure leaves the deployment half-open at once.
    let policy = BreakerPolicy {
        allowed_fails: 0,
        cooldown: Duration::ZERO,
    };
    let (on_a, on_b) = (a.deployment("d"), b.deployment("d"));
    let (group_a, group_b) = ([on_a.as_ref()], [on_b.as_ref()]);
    assert!(
        a.failed(&on_a, ErrorKind::UpstreamServerError, &policy)
            .await
    );
    // (instance, its view, verdict)
    let steps = [
        (&a, &group_a, Verdict::Admitted(Admission::Probe)),
        (&b, &group_b, Verdict::Refused),
        (&a, &group_a, Verdict::Refused),
    ];
    for (i, (instance, group, verdict)) in steps.into_iter().enumerate() {
        assert_eq!(instance.begin(attempt(group)).await, verdict, "step {i}");
    }
    assert!(matches!(
        on_b.admission(Instant::now()),
        Admission::No { .. }
    ));
    // The probe answers: closed for everyone.
    a.succeeded(&on_a, Duration::from_millis(5), false);
    a.flush().await;
    assert_eq!(
        b.begin(attempt(&group_b)).await,
        Verdict::Admitted(Admission::Yes)
    );
    clean(&prefix).await;
}

/// An attempt on the only deployment of `group`.
fn attempt<'a>(group: &'a [&'a DeploymentState]) -> Attempt<'a> {
    Attempt {
        group,
        chosen: group[0],
        admission: Admission::Yes,
        forced: false,
        rpm: None,
        tpm: None,
    }
}

#[tokio::test]
async fn redis_unreachable_means_local_state_and_counted_errors() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = RedisSettings::new(&format!("redis://127.0.0.1:{closed}")).unwrap();
    let redis = Arc::new(RedisState::new(&settings).unwrap());
    let state: Arc<dyn SharedState> = redis.clone();
    let flaky = DeploymentSpec {
        order: Some(1),
        ..DeploymentSpec::default()
    };
    let router = Router::with_state(
        vec![
            deployment("g", "flaky", flaky, vec![upstream(500)]),
            deployment("g", "steady", DeploymentSpec::default(), vec![]),
        ],
        settings_with_cooldown(),
        state.clone(),
    );
    // Every request is answered; the cooldown works on local state.
    for _ in 0..5 {
        assert_eq!(
            &*router.chat(request("g")).await.unwrap().deployment.id,
            "steady"
        );
    }
    assert_eq!(calls(&router, "g"), [1, 5]);
    assert!(state.errors() >= 1);
    assert!(!redis.reachable());
    state.flush().await;
}

fn settings_with_cooldown() -> crate::settings::RouterSettings {
    settings(|s| {
        s.breaker = BreakerPolicy {
            allowed_fails: 0,
            cooldown: Duration::from_secs(60),
        };
        s.num_retries = 1;
    })
}

#[tokio::test(start_paused = true)]
async fn after_an_error_redis_is_tried_again_after_the_retry_delay() {
    let health = Health::default();
    let t0 = Instant::now();
    assert!(health.usable(t0));
    // (seconds since t0 of an error, then: usable at those offsets)
    let errors: [(u64, &[(u64, bool)]); 2] =
        [(0, &[(0, false), (1, true)]), (1, &[(1, false), (2, true)])];
    for (at, checks) in errors {
        health.failed(t0 + Duration::from_secs(at), "127.0.0.1:1", "refused");
        for (check, usable) in checks {
            let now = t0 + Duration::from_secs(*check);
            assert_eq!(
                health.usable(now),
                *usable,
                "error at {at}s, check at {check}s"
            );
        }
    }
    assert_eq!(health.errors.load(Ordering::Relaxed), 2);
    // Redis answers again: shared again at once.
    health.succeeded("127.0.0.1:1");
    assert!(health.usable(t0));
    assert!(lock(&health.inner).down_since.is_none());
}
