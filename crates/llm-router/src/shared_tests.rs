//! Two routers ("instances") on one state backend: what one learns, the other uses. The
//! scenarios run here on the in-process backend (paused clock), and on Redis in
//! `redis_tests.rs` with two `RedisState`s sharing a key prefix.

use super::*;
use crate::breaker::BreakerPolicy;
use crate::deployment::{Deployment, DeploymentSpec};
use crate::router::Router;
use crate::router::tests::{Scripted, calls, deployment, request, settings, upstream};
use crate::settings::RouterSettings;
use crate::strategy::Strategy;
use llm_types::Error;

/// The state backends of instance A and instance B.
pub(crate) type Instances = [Arc<dyn SharedState>; 2];

fn ordered(name: &'static str, order: u32, failures: Vec<Error>) -> Deployment<Scripted> {
    let spec = DeploymentSpec {
        order: Some(order),
        ..DeploymentSpec::default()
    };
    deployment("g", name, spec, failures)
}

fn cooling_settings(cooldown: Duration) -> RouterSettings {
    settings(|s| {
        s.breaker = BreakerPolicy {
            allowed_fails: 0,
            cooldown,
        };
        s.num_retries = 1;
    })
}

/// A deployment cooled down through instance A is skipped by instance B, which never
/// called it (`flaky` is first in priority, so B would try it otherwise).
pub(crate) async fn a_cooldown_is_seen_by_the_other_instance(instances: &Instances) {
    let build = |state: &Arc<dyn SharedState>, failures| {
        Router::with_state(
            vec![ordered("flaky", 1, failures), ordered("steady", 2, vec![])],
            cooling_settings(Duration::from_secs(60)),
            state.clone(),
        )
    };
    let a = build(&instances[0], vec![upstream(500)]);
    let b = build(&instances[1], vec![]);
    let routed = a.chat(request("g")).await.unwrap();
    assert_eq!((&*routed.deployment.id, routed.attempts), ("steady", 2));
    for _ in 0..5 {
        let routed = b.chat(request("g")).await.unwrap();
        assert_eq!((&*routed.deployment.id, routed.attempts), ("steady", 1));
    }
    assert_eq!(
        calls(&b, "g"),
        [0, 5],
        "instance B called the cooling deployment"
    );
}

/// An rpm limit counts the requests of both instances.
pub(crate) async fn rpm_limits_count_both_instances(instances: &Instances) {
    let limited = DeploymentSpec {
        rpm: Some(3),
        ..DeploymentSpec::default()
    };
    let build = |state: &Arc<dyn SharedState>| {
        Router::with_state(
            vec![deployment("g", "a", limited.clone(), vec![])],
            RouterSettings::default(),
            state.clone(),
        )
    };
    let (a, b) = (build(&instances[0]), build(&instances[1]));
    for (i, router) in [&a, &a, &b].into_iter().enumerate() {
        assert!(router.chat(request("g")).await.is_ok(), "request {i}");
    }
    for router in [&a, &b] {
        let error = router.chat(request("g")).await.unwrap_err();
        assert_eq!(error.status(), 429, "{}", error.message);
        assert!(error.retry_after.is_some());
    }
    assert_eq!(calls(&a, "g")[0] + calls(&b, "g")[0], 3);
}

/// Usage-based routing balances the combined traffic of both instances: after every
/// request, the two deployments served at most one request apart. (Each instance alone
/// would balance only its own half, and the sum would drift.)
pub(crate) async fn usage_based_routing_sees_both_instances(instances: &Instances) {
    let spec = DeploymentSpec {
        rpm: Some(1000),
        ..DeploymentSpec::default()
    };
    let build = |state: &Arc<dyn SharedState>| {
        Router::with_state(
            vec![
                deployment("g", "a", spec.clone(), vec![]),
                deployment("g", "b", spec.clone(), vec![]),
            ],
            settings(|s| s.strategy = Strategy::UsageBased),
            state.clone(),
        )
    };
    let (a, b) = (build(&instances[0]), build(&instances[1]));
    for step in 0..20 {
        let router = if step % 2 == 0 { &a } else { &b };
        router.chat(request("g")).await.unwrap();
        let (on_a, on_b) = (calls(&a, "g"), calls(&b, "g"));
        let served = [on_a[0] + on_b[0], on_a[1] + on_b[1]];
        assert!(
            served[0].abs_diff(served[1]) <= 1,
            "step {step}: {served:?}"
        );
    }
}

/// Latency averages recorded by one instance steer the other.
pub(crate) async fn latency_averages_are_shared(instances: &Instances) {
    let samples = [
        (false, Duration::from_millis(400)),
        (true, Duration::from_millis(90)),
    ];
    let mine = instances[0].deployment("measured");
    for (stream, latency) in samples {
        instances[0].succeeded(&mine, latency, stream);
    }
    instances[0].flush().await;
    let theirs = instances[1].deployment("measured");
    instances[1].refresh(&[theirs.as_ref()]).await;
    for (stream, latency) in samples {
        assert_eq!(theirs.latency(stream), Some(latency), "stream {stream}");
    }
}

#[tokio::test(start_paused = true)]
async fn in_process_instances_share_cooldowns_usage_and_latency() {
    let scenarios = 4;
    for scenario in 0..scenarios {
        let local: Arc<dyn SharedState> = Arc::new(LocalState::new());
        let instances: Instances = [local.clone(), local];
        match scenario {
            0 => a_cooldown_is_seen_by_the_other_instance(&instances).await,
            1 => rpm_limits_count_both_instances(&instances).await,
            2 => usage_based_routing_sees_both_instances(&instances).await,
            _ => latency_averages_are_shared(&instances).await,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn in_process_windows_reset_and_cooldowns_end_for_every_instance() {
    let local: Arc<dyn SharedState> = Arc::new(LocalState::new());
    // The minute window: one request for both, then a fresh minute for both.
    let one_rpm = DeploymentSpec {
        rpm: Some(1),
        ..DeploymentSpec::default()
    };
    let build = || {
        Router::with_state(
            vec![deployment("g", "a", one_rpm.clone(), vec![])],
            RouterSettings::default(),
            local.clone(),
        )
    };
    let (a, b) = (build(), build());
    assert!(a.chat(request("g")).await.is_ok());
    let error = b.chat(request("g")).await.unwrap_err();
    assert_eq!(
        (error.status(), error.retry_after),
        (429, Some(Duration::from_secs(60)))
    );
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(a.chat(request("g")).await.unwrap_err().status(), 429);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(b.chat(request("g")).await.is_ok(), "the window reset");

    // The cooldown: started by A, skipped by B, over for both after `cooldown_time`; B's
    // probe succeeds and closes the breaker for A too.
    let local: Arc<dyn SharedState> = Arc::new(LocalState::new());
    let build = |failures| {
        Router::with_state(
            vec![ordered("flaky", 1, failures), ordered("steady", 2, vec![])],
            cooling_settings(Duration::from_secs(10)),
            local.clone(),
        )
    };
    let (a, b) = (build(vec![upstream(429)]), build(vec![]));
    assert_eq!(
        &*a.chat(request("g")).await.unwrap().deployment.id,
        "steady"
    );
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(
        &*b.chat(request("g")).await.unwrap().deployment.id,
        "steady"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(&*b.chat(request("g")).await.unwrap().deployment.id, "flaky");
    assert_eq!(&*a.chat(request("g")).await.unwrap().deployment.id, "flaky");
}

#[tokio::test(start_paused = true)]
async fn in_process_state_is_one_per_deployment_id() {
    let local = LocalState::new();
    // (first id, second id, same state)
    let cases = [("a", "a", true), ("a", "b", false), ("g#0", "g#0", true)];
    for (first, second, same) in cases {
        let same_state = Arc::ptr_eq(&local.deployment(first), &local.deployment(second));
        assert_eq!(same_state, same, "{first} {second}");
    }
    assert_eq!((local.name(), local.errors()), ("in-process", 0));
}
