//! The spend log on SQLite and PostgreSQL: idempotent batches rolled up on keys, users and
//! teams, the `/spend/logs` and `/global/spend*` queries, and the scheduled budget reset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store_support;

use llm_policy::store::{SpendFilter, SpendTotal, Store};
use llm_types::money::NanoDollars;
use store_support::*;

async fn spends(store: &Store) -> [i64; 3] {
    [
        store.get_key("k1").await.unwrap().unwrap().spend.0,
        store.get_user("u1").await.unwrap().unwrap().spend.0,
        store.get_team("t1").await.unwrap().unwrap().spend.0,
    ]
}

async fn seed(store: &Store) {
    let mut key = bare_key("k1");
    key.key_alias = Some("alias-k1".to_owned());
    store.insert_key(&key).await.unwrap();
    store.insert_key(&bare_key("k2")).await.unwrap();
    store.insert_user(&user("u1")).await.unwrap();
    store.insert_team(&team("t1")).await.unwrap();
}

#[tokio::test]
async fn batches_are_idempotent_and_rolled_up() {
    for db in backends().await {
        let store = &db.store;
        seed(store).await;
        let a = spend("r-a", Some("k1"), Some("u1"), Some("t1"), "gpt", 100, 1_000);
        let b = spend("r-b", Some("k1"), None, Some("t1"), "gpt", 20, 2_000);
        let c = spend("r-c", Some("k2"), Some("u1"), None, "claude", 3, 3_000);
        let d = spend("r-d", None, None, None, "gpt", 7, 4_000);
        // (batch, newly inserted, [k1, u1, t1] spend after it)
        let cases = [
            (vec![a.clone(), b.clone()], 2, [120, 100, 120]),
            (vec![a.clone(), b.clone()], 0, [120, 100, 120]),
            (vec![b.clone(), c.clone(), a.clone()], 1, [120, 103, 120]),
            (vec![d.clone(), d.clone()], 1, [120, 103, 120]),
            (vec![], 0, [120, 103, 120]),
        ];
        for (i, (batch, inserted, after)) in cases.into_iter().enumerate() {
            assert_eq!(
                store.insert_spend(&batch).await.unwrap(),
                inserted,
                "{} batch {i}",
                db.name
            );
            assert_eq!(spends(store).await, after, "{} batch {i}", db.name);
        }
        assert_eq!(store.get_key("k2").await.unwrap().unwrap().spend.0, 3);
        // A row of a deleted key is still logged; nothing to roll it up on.
        let e = spend("r-e", Some("gone"), Some("nobody"), None, "gpt", 1, 5_000);
        assert_eq!(
            store.insert_spend(std::slice::from_ref(&e)).await.unwrap(),
            1
        );
        let logged = store.spend_logs(&SpendFilter::default()).await.unwrap();
        assert_eq!(logged.len(), 5, "{}", db.name);
        assert_eq!(logged[0], e, "{}: every field round-trips", db.name);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_overlapping_batches_count_each_row_once() {
    for db in backends().await {
        let store = &db.store;
        seed(store).await;
        let rows: Vec<_> = (0..40)
            .map(|i| {
                spend(
                    &format!("r{i:03}"),
                    Some("k1"),
                    Some("u1"),
                    Some("t1"),
                    "m",
                    1,
                    i,
                )
            })
            .collect();
        let mut tasks = Vec::new();
        for shift in 0..4 {
            let store = store.clone();
            let mut batch = rows.clone();
            batch.rotate_left(shift * 10);
            tasks.push(tokio::spawn(async move {
                // SQLite may report busy under parallel writers; retry like the shipper does.
                loop {
                    match store.insert_spend(&batch).await {
                        Ok(n) => return n,
                        Err(e) if e.to_string().contains("locked") => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 40, "{}", db.name);
        assert_eq!(spends(store).await, [40, 40, 40], "{}", db.name);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn spend_queries_filter_order_and_sum() {
    for db in backends().await {
        let store = &db.store;
        seed(store).await;
        let rows = vec![
            spend("r1", Some("k1"), Some("u1"), Some("t1"), "gpt", 100, 1_000),
            spend("r2", Some("k1"), Some("u2"), None, "claude", 10, 2_000),
            spend("r3", Some("k2"), Some("u1"), Some("t1"), "gpt", 1, 3_000),
            spend("r4", Some("k2"), None, Some("t2"), "gpt", 1_000, 3_000),
        ];
        store.insert_spend(&rows).await.unwrap();
        let filter = |key: Option<&str>, user: Option<&str>, team: Option<&str>| SpendFilter {
            key_hash: key.map(str::to_owned),
            user_id: user.map(str::to_owned),
            team_id: team.map(str::to_owned),
            ..SpendFilter::default()
        };
        let cases = [
            (SpendFilter::default(), vec!["r4", "r3", "r2", "r1"]),
            (filter(Some("k1"), None, None), vec!["r2", "r1"]),
            (filter(None, Some("u1"), None), vec!["r3", "r1"]),
            (filter(None, None, Some("t1")), vec!["r3", "r1"]),
            (filter(Some("k2"), Some("u1"), Some("t1")), vec!["r3"]),
            (filter(Some("none"), None, None), vec![]),
            (
                SpendFilter {
                    start_ms: Some(2_000),
                    end_ms: Some(3_000),
                    ..SpendFilter::default()
                },
                vec!["r2"],
            ),
            (
                SpendFilter {
                    start_ms: Some(2_000),
                    limit: Some(2),
                    ..SpendFilter::default()
                },
                vec!["r4", "r3"],
            ),
        ];
        for (filter, expected) in cases {
            let got: Vec<String> = store
                .spend_logs(&filter)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.request_id)
                .collect();
            assert_eq!(got, expected, "{} {filter:?}", db.name);
        }
        let totals = [
            (None, None, 1_111),
            (Some(2_000), None, 1_011),
            (Some(2_000), Some(3_000), 10),
            (Some(9_000), None, 0),
        ];
        for (start, end, expected) in totals {
            assert_eq!(
                store.global_spend(start, end).await.unwrap(),
                NanoDollars(expected),
                "{} {start:?} {end:?}",
                db.name
            );
        }
        let total = |id: Option<&str>, alias: Option<&str>, spend, requests| SpendTotal {
            id: id.map(str::to_owned),
            alias: alias.map(str::to_owned),
            spend: NanoDollars(spend),
            requests,
            prompt_tokens: 10 * requests,
            completion_tokens: 20 * requests,
        };
        assert_eq!(
            store.spend_by_keys(10).await.unwrap(),
            vec![
                total(Some("k2"), Some("alias-k2"), 1_001, 2),
                total(Some("k1"), Some("alias-k1"), 110, 2)
            ],
            "{}",
            db.name
        );
        assert_eq!(
            store.spend_by_models(1).await.unwrap(),
            vec![total(Some("gpt"), None, 1_101, 3)],
            "{}",
            db.name
        );
        let teams = store.spend_by_teams(10).await.unwrap();
        assert_eq!(
            teams,
            vec![
                total(Some("t2"), None, 1_000, 1),
                total(Some("t1"), None, 101, 2),
                total(None, None, 10, 1)
            ],
            "{}",
            db.name
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn budgets_reset_at_the_end_of_their_period_once() {
    const HOUR: i64 = 3_600_000;
    for db in backends().await {
        let store = &db.store;
        // (hash, budget_duration, budget_reset_at)
        let keys = [
            ("due", Some("1h"), Some(10 * HOUR)),
            ("long-overdue", Some("1h"), Some(HOUR)),
            ("not-yet", Some("1h"), Some(20 * HOUR)),
            ("no-duration", None, Some(HOUR)),
            ("no-reset", Some("1h"), None),
        ];
        for (hash, duration, reset_at) in keys {
            let mut key = bare_key(hash);
            key.limits.budget_duration = duration.map(str::to_owned);
            key.budget_reset_at = reset_at;
            store.insert_key(&key).await.unwrap();
        }
        let mut u = user("u1");
        u.limits.budget_duration = Some("1d".to_owned());
        u.budget_reset_at = Some(HOUR);
        store.insert_user(&u).await.unwrap();
        let mut t = team("t1");
        t.limits.budget_duration = Some("30m".to_owned());
        t.budget_reset_at = Some(10 * HOUR);
        store.insert_team(&t).await.unwrap();
        let rows: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, (hash, ..))| {
                spend(
                    &format!("r{i}"),
                    Some(hash),
                    Some("u1"),
                    Some("t1"),
                    "m",
                    50,
                    1,
                )
            })
            .collect();
        store.insert_spend(&rows).await.unwrap();

        let now = 10 * HOUR + 5;
        assert_eq!(store.reset_budgets(now).await.unwrap(), 4, "{}", db.name);
        assert_eq!(
            store.reset_budgets(now).await.unwrap(),
            0,
            "{} twice",
            db.name
        );
        // (hash, spend after, budget_reset_at after)
        let expected = [
            ("due", 0, Some(11 * HOUR)),
            ("long-overdue", 0, Some(11 * HOUR)),
            ("not-yet", 50, Some(20 * HOUR)),
            ("no-duration", 50, Some(HOUR)),
            ("no-reset", 50, None),
        ];
        for (hash, spend, reset_at) in expected {
            let key = store.get_key(hash).await.unwrap().unwrap();
            assert_eq!(
                (key.spend.0, key.budget_reset_at),
                (spend, reset_at),
                "{} {hash}",
                db.name
            );
        }
        let u = store.get_user("u1").await.unwrap().unwrap();
        assert_eq!((u.spend.0, u.budget_reset_at), (0, Some(HOUR + 24 * HOUR)));
        let t = store.get_team("t1").await.unwrap().unwrap();
        assert_eq!(
            (t.spend.0, t.budget_reset_at),
            (0, Some(10 * HOUR + HOUR / 2))
        );
        db.cleanup().await;
    }
}
