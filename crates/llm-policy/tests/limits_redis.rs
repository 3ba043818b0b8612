//! The Redis limiter across gateway instances (two limiters, two pools, one Redis): a burst
//! of 5N against rpm N admits exactly N, a concurrent budget burst overshoots by at most one
//! reservation; and Redis unreachable or silent: fail-open admits on the local limits and
//! counts the errors, fail-closed refuses, and nothing waits past the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use limits_support::*;
use llm_policy::limits::{
    AdmitRequest, Backend, Decision, Denial, LimitSettings, Limiter, ScopeKind, ScopeLimits,
};
use llm_types::money::NanoDollars;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Admits `request_id` on `limiter` at `now`.
async fn admit(
    limiter: &Limiter,
    id: String,
    scopes: &[ScopeLimits],
    reserve: i64,
    now: i64,
) -> Decision {
    limiter
        .admit(AdmitRequest {
            request_id: &id,
            scopes,
            reserve: NanoDollars(reserve),
            now_ms: now,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_5n_against_rpm_n_admits_exactly_n_across_instances() {
    if !redis_available() {
        return;
    }
    // (rpm, requests in the burst)
    let cases = [(1, 5), (10, 50), (40, 200)];
    for (n, (limit, burst)) in cases.into_iter().enumerate() {
        let prefix = unique_prefix(&format!("burst{n}"));
        let instances = [redis_limiter(&prefix), redis_limiter(&prefix)];
        let scopes: Arc<[ScopeLimits]> = vec![
            rpm(scope("key:burst", ScopeKind::Key), limit),
            rpm(scope("team:burst", ScopeKind::Team), limit * 100),
        ]
        .into();
        let mut tasks = JoinSet::new();
        for i in 0..burst {
            let limiter = instances[i % 2].clone();
            let scopes = scopes.clone();
            tasks.spawn(async move {
                let decision = admit(&limiter, format!("r{i}"), &scopes, 0, T + 10).await;
                matches!(decision, Decision::Admitted(_))
            });
        }
        let admitted = tasks.join_all().await.into_iter().filter(|a| *a).count();
        assert_eq!(admitted as u64, limit, "rpm {limit}, burst {burst}");
        for instance in &instances {
            assert_eq!(instance.redis_errors(), 0);
        }
        clean(&prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_budget_burst_overshoots_by_at_most_one_reservation() {
    if !redis_available() {
        return;
    }
    // (budget, reservation per request, actual cost per request, concurrent clients)
    let cases = [
        (10_000, 1_000, 1_000, 40),
        (10_500, 1_000, 700, 40),
        (100_000, 3_000, 2_500, 60),
    ];
    for (n, (max, reserve, cost, clients)) in cases.into_iter().enumerate() {
        let prefix = unique_prefix(&format!("budget{n}"));
        let instances = [redis_limiter(&prefix), redis_limiter(&prefix)];
        let period_end = T + 3_600_000;
        let scopes: Arc<[ScopeLimits]> = vec![budget(
            scope("team:spend", ScopeKind::Team),
            Some(max),
            None,
            Some(period_end),
            0,
        )]
        .into();
        let mut tasks = JoinSet::new();
        for client in 0..clients {
            let limiter = instances[client % 2].clone();
            let scopes = scopes.clone();
            // Each client sends requests one after the other until the budget refuses for
            // the rest of the period: admit, then settle with the real cost.
            tasks.spawn(async move {
                let mut completed = 0_i64;
                for i in 0..10_000 {
                    let now = T + 1_000 + i;
                    let id = format!("c{client}-r{i}");
                    match admit(&limiter, id, &scopes, reserve, now).await {
                        Decision::Admitted(admitted) => {
                            limiter
                                .settle(admitted.ticket, 10, NanoDollars(cost), now)
                                .await;
                            completed += 1;
                        }
                        Decision::Denied(Denial::BudgetExceeded {
                            retry_after_ms: Some(1_000),
                            ..
                        }) => tokio::task::yield_now().await,
                        Decision::Denied(_) => break,
                    }
                }
                completed
            });
        }
        let completed: i64 = tasks.join_all().await.into_iter().sum();
        let spent = instances[0]
            .spent("team:spend", Some(period_end))
            .await
            .unwrap()
            .0;
        let case = format!("budget {max}, reserve {reserve}, cost {cost}");
        assert_eq!(spent, completed * cost, "{case}: every settle counted once");
        assert!(spent <= max + reserve, "{case}: spent {spent}");
        assert!(
            spent > max - reserve,
            "{case}: spent {spent}: the budget was used up"
        );
        clean(&prefix).await;
    }
}

#[tokio::test]
async fn unreachable_redis_falls_back_or_refuses_and_counts_errors() {
    let scopes = [rpm(scope("key:down", ScopeKind::Key), 2)];
    // (fail open, expected admissions of three requests)
    let cases = [(true, [true, true, false]), (false, [false, false, false])];
    for (fail_open, expected) in cases {
        let settings = LimitSettings {
            fail_open,
            ..LimitSettings::default()
        };
        let limiter = Limiter::with_redis_url("redis://127.0.0.1:1", settings).unwrap();
        let run = async {
            for (i, admits) in expected.into_iter().enumerate() {
                let decision = admit(&limiter, format!("r{i}"), &scopes, 0, T).await;
                match decision {
                    Decision::Admitted(admitted) => {
                        assert!(admits, "fail_open {fail_open}: request {i}");
                        assert_eq!(admitted.ticket.backend(), Backend::Local);
                    }
                    Decision::Denied(Denial::Unavailable) => {
                        assert!(!fail_open, "request {i}");
                    }
                    Decision::Denied(Denial::RateLimited { which, .. }) => {
                        assert!(fail_open && !admits && which == "requests", "request {i}");
                    }
                    other => panic!("fail_open {fail_open}: request {i}: {other:?}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("an unreachable Redis must not hang admissions");
        assert!(limiter.redis_errors() >= 1, "fail_open {fail_open}");
    }
}

#[tokio::test]
async fn a_silent_redis_times_out_and_falls_back() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let settings = LimitSettings {
        redis_timeout: Duration::from_millis(250),
        ..LimitSettings::default()
    };
    let limiter = Limiter::with_redis_url(&format!("redis://{address}"), settings).unwrap();
    let scopes = [budget(
        scope("key:silent", ScopeKind::Key),
        Some(1_000),
        None,
        None,
        0,
    )];
    let started = std::time::Instant::now();
    let decision = admit(&limiter, "r0".to_owned(), &scopes, 10, T).await;
    let Decision::Admitted(admitted) = decision else {
        panic!("fail-open must admit on local limits: {decision:?}");
    };
    assert_eq!(admitted.ticket.backend(), Backend::Local);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(limiter.redis_errors(), 1);
    // The local ticket settles locally, while Redis is left alone for a moment.
    let settled = limiter
        .settle(admitted.ticket, 0, NanoDollars(5), T + 1)
        .await;
    assert!(!settled.duplicate);
    assert_eq!(
        limiter.spent("key:silent", None).await,
        Some(NanoDollars(5))
    );
    silent.abort();
}
