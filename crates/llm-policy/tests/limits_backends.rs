//! One table of limiter scenarios (rpm, tpm, parallel requests, budgets, reservations,
//! periods, seeds, soft budgets, several scopes, duplicate settles) run against the local
//! limiter and against the real Redis: both backends must answer every step alike. Time is
//! explicit (`now_ms`), so nothing sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod limits_support;

use limits_support::*;
use llm_policy::limits::{
    AdmitRequest, Decision, Denial, LimitSettings, Limiter, ScopeKind, ScopeLimits, Ticket,
};
use llm_types::money::NanoDollars;
use std::collections::HashMap;

use ScopeKind::{Global, Key, Team, User};

const HOUR: i64 = 3_600_000;
/// The default slot and reservation TTL.
const TTL: i64 = 600_000;

enum Step {
    /// Admit request `id` at `T + at` with this reserve.
    Admit(&'static str, i64, Vec<ScopeLimits>, i64, Expect),
    /// Settle `id` at `T + at` with tokens and cost; the soft budgets (scope ids) crossed, and
    /// whether it was a duplicate.
    Settle(&'static str, i64, u64, i64, &'static [&'static str], bool),
    /// The spend of a scope for a period.
    Spent(&'static str, Option<i64>, Option<i64>),
}

#[derive(Debug)]
enum Expect {
    Admitted,
    /// Admitted with these (limit, remaining) figures for requests and tokens.
    Headers(Option<(u64, u64)>, Option<(u64, u64)>),
    /// Rate limited by (scope, which, limit, retry after ms).
    Rate(ScopeKind, &'static str, u64, u64),
    /// Over budget (scope, spent, max, retry after ms).
    Budget(ScopeKind, i64, i64, Option<u64>),
}

use Expect::{Admitted, Headers, Rate};
use Step::{Admit, Settle, Spent};

fn key_scope() -> ScopeLimits {
    scope("key:abc", Key)
}

fn over_budget(scope: ScopeKind, spent: i64, max: i64, retry: Option<u64>) -> Expect {
    Expect::Budget(scope, spent, max, retry)
}

fn cases() -> Vec<(&'static str, Vec<Step>)> {
    let p1 = T + HOUR;
    let p2 = T + 2 * HOUR;
    let rpm2 = || rpm(key_scope(), 2);
    let tpm100 = || tpm(key_scope(), 100);
    let par2 = || parallel(key_scope(), 2);
    let budget1000 = || budget(key_scope(), Some(1_000), None, Some(p1), 0);
    let soft500 = || budget(key_scope(), None, Some(500), None, 0);
    let seeded = |seed| budget(key_scope(), Some(1_000), None, Some(p1), seed);
    let key_and_team = || {
        vec![
            budget(
                parallel(rpm(key_scope(), 5), 5),
                Some(1_000),
                None,
                Some(p1),
                0,
            ),
            rpm(scope("team:t", Team), 1),
        ]
    };
    let key_only = || key_and_team()[..1].to_vec();
    vec![
        (
            "rpm counts admitted requests in fixed windows",
            vec![
                Admit("a", 0, vec![rpm2()], 0, Headers(Some((2, 1)), None)),
                Admit("b", 1_000, vec![rpm2()], 0, Headers(Some((2, 0)), None)),
                Admit(
                    "c",
                    2_000,
                    vec![rpm2()],
                    0,
                    Rate(Key, "requests", 2, 58_000),
                ),
                Admit("d", 59_999, vec![rpm2()], 0, Rate(Key, "requests", 2, 1)),
                Admit("e", 60_000, vec![rpm2()], 0, Headers(Some((2, 1)), None)),
            ],
        ),
        (
            "tpm counts settled tokens in the admit window",
            vec![
                Admit("a", 0, vec![tpm100()], 0, Headers(None, Some((100, 100)))),
                Settle("a", 1, 60, 0, &[], false),
                Admit("b", 2, vec![tpm100()], 0, Headers(None, Some((100, 40)))),
                Settle("b", 3, 50, 0, &[], false),
                Admit("c", 4, vec![tpm100()], 0, Rate(Key, "tokens", 100, 59_996)),
                // Admitted late in window 1, settled in window 2: the tokens go to window 1.
                Admit(
                    "d",
                    119_000,
                    vec![tpm100()],
                    0,
                    Headers(None, Some((100, 100))),
                ),
                Settle("d", 121_000, 500, 0, &[], false),
                Admit(
                    "e",
                    121_500,
                    vec![tpm100()],
                    0,
                    Headers(None, Some((100, 100))),
                ),
            ],
        ),
        (
            "parallel slots are held until settle and expire",
            vec![
                Admit("a", 0, vec![par2()], 0, Admitted),
                Admit("b", 1, vec![par2()], 0, Admitted),
                Admit(
                    "c",
                    2,
                    vec![par2()],
                    0,
                    Rate(Key, "parallel_requests", 2, 1_000),
                ),
                Settle("a", 3, 0, 0, &[], false),
                Admit("d", 4, vec![par2()], 0, Admitted),
                Admit(
                    "e",
                    5,
                    vec![par2()],
                    0,
                    Rate(Key, "parallel_requests", 2, 1_000),
                ),
                // b's slot expires (d's too, one tick later).
                Admit("f", TTL + 1, vec![par2()], 0, Admitted),
                Admit("g", TTL + 4, vec![par2()], 0, Admitted),
                Admit(
                    "h",
                    TTL + 5,
                    vec![par2()],
                    0,
                    Rate(Key, "parallel_requests", 2, 1_000),
                ),
            ],
        ),
        (
            "budgets reserve, settle and refuse",
            vec![
                Admit("a", 0, vec![budget1000()], 400, Admitted),
                Admit("b", 1, vec![budget1000()], 400, Admitted),
                // Others' reservations do not leave room: retry soon.
                Admit(
                    "c",
                    2,
                    vec![budget1000()],
                    400,
                    over_budget(Key, 0, 1_000, Some(1_000)),
                ),
                Settle("a", 3, 0, 300, &[], false),
                Spent("key:abc", Some(p1), Some(300)),
                Admit(
                    "c",
                    4,
                    vec![budget1000()],
                    400,
                    over_budget(Key, 300, 1_000, Some(1_000)),
                ),
                Admit("c", 5, vec![budget1000()], 300, Admitted),
                Settle("b", 6, 0, 400, &[], false),
                Settle("c", 7, 0, 300, &[], false),
                Spent("key:abc", Some(p1), Some(1_000)),
                // Spent: until the period ends.
                Admit(
                    "d",
                    8,
                    vec![budget1000()],
                    0,
                    over_budget(Key, 1_000, 1_000, Some(3_599_992)),
                ),
            ],
        ),
        (
            "a reservation alone over the budget waits for the period end",
            vec![
                Admit(
                    "a",
                    0,
                    vec![budget1000()],
                    1_001,
                    over_budget(Key, 0, 1_000, Some(3_600_000)),
                ),
                Admit("b", 0, vec![budget1000()], 1_000, Admitted),
                Spent("key:abc", Some(p1), Some(0)),
            ],
        ),
        (
            "reservations expire; a late settle still counts, never below zero",
            vec![
                Admit("a", 0, vec![budget1000()], 900, Admitted),
                Admit(
                    "b",
                    1_000,
                    vec![budget1000()],
                    900,
                    over_budget(Key, 0, 1_000, Some(1_000)),
                ),
                Admit("c", TTL, vec![budget1000()], 900, Admitted),
                Settle("a", TTL + 500, 0, 100, &[], false),
                Settle("c", TTL + 600, 0, 0, &[], false),
                Admit("d", TTL + 700, vec![budget1000()], 900, Admitted),
                Admit(
                    "e",
                    TTL + 800,
                    vec![budget1000()],
                    1,
                    over_budget(Key, 100, 1_000, Some(1_000)),
                ),
                Spent("key:abc", Some(p1), Some(100)),
            ],
        ),
        (
            "a new period starts from zero",
            vec![
                Admit("a", 0, vec![budget1000()], 0, Admitted),
                Settle("a", 1, 0, 1_000, &[], false),
                Admit(
                    "b",
                    HOUR - 1,
                    vec![budget1000()],
                    0,
                    over_budget(Key, 1_000, 1_000, Some(1)),
                ),
                Admit(
                    "c",
                    HOUR,
                    vec![budget(key_scope(), Some(1_000), None, Some(p2), 0)],
                    0,
                    Admitted,
                ),
                Spent("key:abc", Some(p1), Some(1_000)),
                Spent("key:abc", Some(p2), Some(0)),
                Spent("key:abc", Some(T + 3 * HOUR), None),
            ],
        ),
        (
            "the seed starts the counter; a lower seed never lowers it",
            vec![
                Admit("a", 0, vec![seeded(900)], 50, Admitted),
                Admit(
                    "b",
                    1,
                    vec![seeded(900)],
                    100,
                    over_budget(Key, 900, 1_000, Some(1_000)),
                ),
                Settle("a", 2, 0, 50, &[], false),
                Admit("c", 3, vec![seeded(500)], 50, Admitted),
                Admit(
                    "d",
                    4,
                    vec![seeded(0)],
                    1,
                    over_budget(Key, 950, 1_000, Some(1_000)),
                ),
                Spent("key:abc", Some(p1), Some(950)),
            ],
        ),
        (
            "soft budgets report the settle that crosses them, once",
            vec![
                Admit("a", 0, vec![soft500()], 1_000_000, Admitted),
                Settle("a", 1, 0, 300, &[], false),
                Admit("b", 2, vec![soft500()], 0, Admitted),
                Settle("b", 3, 0, 200, &["key:abc"], false),
                Admit("c", 4, vec![soft500()], 0, Admitted),
                Settle("c", 5, 0, 100, &[], false),
                Spent("key:abc", None, Some(600)),
            ],
        ),
        (
            "a refusal by one scope applies nothing to the others",
            vec![
                Admit("a", 0, key_and_team(), 100, Headers(Some((1, 0)), None)),
                Admit(
                    "b",
                    1,
                    key_and_team(),
                    100,
                    Rate(Team, "requests", 1, 59_999),
                ),
                // Only `a` counts for the key: 3 requests left, and room for 900.
                Admit("c", 2, key_only(), 900, Headers(Some((5, 3)), None)),
                Admit(
                    "d",
                    3,
                    key_only(),
                    1,
                    over_budget(Key, 0, 1_000, Some(1_000)),
                ),
            ],
        ),
        (
            "settling twice counts once",
            vec![
                Admit(
                    "a",
                    0,
                    vec![parallel(tpm(budget1000(), 100), 1)],
                    500,
                    Admitted,
                ),
                Settle("a", 1, 10, 100, &[], false),
                Settle("a", 2, 10, 100, &[], true),
                Admit(
                    "b",
                    3,
                    vec![parallel(tpm(budget1000(), 100), 1)],
                    900,
                    Headers(None, Some((100, 90))),
                ),
                Spent("key:abc", Some(p1), Some(100)),
            ],
        ),
        (
            "headers show the tightest scope",
            vec![Admit(
                "a",
                0,
                vec![
                    tpm(rpm(key_scope(), 10), 500),
                    rpm(scope("user:u", User), 3),
                    tpm(scope("global", Global), 1_000),
                ],
                0,
                Headers(Some((3, 2)), Some((500, 500))),
            )],
        ),
        (
            "zero limits refuse; the budget is checked first",
            vec![
                Admit(
                    "a",
                    0,
                    vec![rpm(key_scope(), 0)],
                    0,
                    Rate(Key, "requests", 0, 60_000),
                ),
                Admit(
                    "b",
                    0,
                    vec![parallel(key_scope(), 0)],
                    0,
                    Rate(Key, "parallel_requests", 0, 1_000),
                ),
                Admit(
                    "c",
                    0,
                    vec![rpm(seeded(1_000), 0)],
                    0,
                    over_budget(Key, 1_000, 1_000, Some(3_600_000)),
                ),
                Admit(
                    "d",
                    0,
                    vec![budget(key_scope(), Some(0), None, None, 0)],
                    0,
                    over_budget(Key, 0, 0, None),
                ),
            ],
        ),
    ]
}

async fn run(case: &str, steps: Vec<Step>, limiter: &Limiter, backend: &str) {
    let mut tickets: HashMap<&str, Ticket> = HashMap::new();
    for (i, step) in steps.into_iter().enumerate() {
        let at = format!("{backend}: {case}: step {i}");
        match step {
            Admit(id, offset, scopes, reserve, expect) => {
                let decision = limiter
                    .admit(AdmitRequest {
                        request_id: id,
                        scopes: &scopes,
                        reserve: NanoDollars(reserve),
                        now_ms: T + offset,
                    })
                    .await;
                check(&at, &decision, &expect);
                if let Decision::Admitted(admitted) = decision {
                    tickets.insert(id, admitted.ticket);
                }
            }
            Settle(id, offset, tokens, cost, crossed, duplicate) => {
                let ticket = tickets.get(id).cloned().expect(&at);
                let settled = limiter
                    .settle(ticket, tokens, NanoDollars(cost), T + offset)
                    .await;
                let ids: Vec<&str> = settled
                    .soft_crossed
                    .iter()
                    .map(|c| c.scope_id.as_str())
                    .collect();
                assert_eq!(ids, crossed, "{at}");
                assert_eq!(settled.duplicate, duplicate, "{at}");
            }
            Spent(scope_id, period, expected) => {
                let spent = limiter.spent(scope_id, period).await;
                assert_eq!(spent, expected.map(NanoDollars), "{at}");
            }
        }
    }
    assert_eq!(limiter.redis_errors(), 0, "{backend}: {case}");
}

fn check(at: &str, decision: &Decision, expect: &Expect) {
    match (decision, expect) {
        (Decision::Admitted(_), Expect::Admitted) => {}
        (Decision::Admitted(admitted), Headers(requests, tokens)) => {
            let h = admitted.headers;
            let got_requests = h.limit_requests.zip(h.remaining_requests);
            let got_tokens = h.limit_tokens.zip(h.remaining_tokens);
            assert_eq!((got_requests, got_tokens), (*requests, *tokens), "{at}");
        }
        (
            Decision::Denied(Denial::RateLimited {
                scope,
                which,
                limit,
                retry_after_ms,
                ..
            }),
            Rate(e_scope, e_which, e_limit, e_retry),
        ) => assert_eq!(
            (scope, which, limit, retry_after_ms),
            (e_scope, e_which, e_limit, e_retry),
            "{at}"
        ),
        (
            Decision::Denied(Denial::BudgetExceeded {
                scope,
                spent,
                max,
                retry_after_ms,
            }),
            Expect::Budget(e_scope, e_spent, e_max, e_retry),
        ) => assert_eq!(
            (*scope, spent.0, max.0, *retry_after_ms),
            (*e_scope, *e_spent, *e_max, *e_retry),
            "{at}"
        ),
        (got, expected) => panic!("{at}: expected {expected:?}, got {got:?}"),
    }
}

#[tokio::test]
async fn local_limiter_follows_the_table() {
    for (case, steps) in cases() {
        let limiter = Limiter::local(LimitSettings::default());
        assert_eq!(limiter.backend_name(), "local");
        run(case, steps, &limiter, "local").await;
    }
}

#[tokio::test]
async fn redis_limiter_follows_the_same_table() {
    if !redis_available() {
        return;
    }
    for (n, (case, steps)) in cases().into_iter().enumerate() {
        let prefix = unique_prefix(&format!("table{n}"));
        let limiter = redis_limiter(&prefix);
        assert_eq!(limiter.backend_name(), "redis");
        run(case, steps, &limiter, "redis").await;
        // Nothing leaks forever: every key has a TTL.
        let mut connection = connection().await;
        for key in keys(&prefix).await {
            let ttl: i64 = deadpool_redis::redis::cmd("PTTL")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .unwrap();
            assert!(ttl > 0, "{case}: {key} has no TTL ({ttl})");
        }
        clean(&prefix).await;
    }
}
