//! Keys, users and teams in the store, on SQLite and PostgreSQL: round trips of every
//! field (set, empty, JSON), conflicts, list filters and paging, regenerate, and deletes
//! that take the keys of a user or team with them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store_support;

use llm_policy::records::KeyRecord;
use llm_policy::store::{KeyFilter, StoreError};
use llm_types::money::NanoDollars;
use store_support::*;

#[tokio::test]
async fn keys_round_trip_every_field() {
    for db in backends().await {
        let store = &db.store;
        let cases = [full_key("h-full", "full"), bare_key("h-bare")];
        for key in &cases {
            store.insert_key(key).await.unwrap();
            let got = store.get_key(&key.token_hash).await.unwrap();
            assert_eq!(got.as_ref(), Some(key), "{} {}", db.name, key.token_hash);
        }
        assert_eq!(store.get_key("h-none").await.unwrap(), None, "{}", db.name);
        assert_eq!(
            store
                .key_by_alias("full")
                .await
                .unwrap()
                .map(|k| k.token_hash),
            Some("h-full".to_owned()),
            "{}",
            db.name
        );

        // An update writes every field but spend and created_at.
        let mut updated = bare_key("h-full");
        updated.spend = NanoDollars(999);
        updated.created_at = 5;
        updated.updated_at = 1_700_000_000_000;
        assert!(store.update_key(&updated).await.unwrap(), "{}", db.name);
        let got = store.get_key("h-full").await.unwrap().unwrap();
        assert_eq!(got.spend, NanoDollars(1_234), "{}", db.name);
        assert_eq!(got.created_at, 1_600_000_000_000, "{}", db.name);
        assert_eq!(
            got,
            KeyRecord {
                spend: NanoDollars(1_234),
                created_at: 1_600_000_000_000,
                ..updated.clone()
            },
            "{}",
            db.name
        );
        assert!(!store.update_key(&bare_key("h-none")).await.unwrap());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn taken_aliases_are_conflicts() {
    for db in backends().await {
        let store = &db.store;
        store.insert_key(&full_key("h1", "taken")).await.unwrap();
        store.insert_key(&full_key("h2", "other")).await.unwrap();
        let cases: Vec<(&str, Result<(), StoreError>)> = vec![
            (
                "insert same alias",
                store.insert_key(&full_key("h3", "taken")).await,
            ),
            ("insert same hash", store.insert_key(&bare_key("h1")).await),
            (
                "update to taken alias",
                store.update_key(&full_key("h2", "taken")).await.map(|_| ()),
            ),
        ];
        for (case, result) in cases {
            assert!(
                matches!(result, Err(StoreError::Conflict(_))),
                "{} {case}: {result:?}",
                db.name
            );
        }
        // Keys without an alias never conflict with each other.
        store.insert_key(&bare_key("h4")).await.unwrap();
        store.insert_key(&bare_key("h5")).await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn keys_list_by_filter_and_page() {
    for db in backends().await {
        let store = &db.store;
        for i in 0..7 {
            let mut key = bare_key(&format!("h{i}"));
            key.created_at = i;
            key.user_id = Some(if i % 2 == 0 { "even" } else { "odd" }.to_owned());
            key.team_id = (i < 3).then(|| "t".to_owned());
            key.key_alias = Some(format!("a{i}"));
            store.insert_key(&key).await.unwrap();
        }
        let filter =
            |user: Option<&str>, team: Option<&str>, alias: Option<&str>, page, size| KeyFilter {
                user_id: user.map(str::to_owned),
                team_id: team.map(str::to_owned),
                key_alias: alias.map(str::to_owned),
                page,
                size,
            };
        let cases = [
            (
                filter(None, None, None, 1, 100),
                vec![0, 1, 2, 3, 4, 5, 6],
                7,
            ),
            (filter(None, None, None, 1, 3), vec![0, 1, 2], 7),
            (filter(None, None, None, 3, 3), vec![6], 7),
            (filter(None, None, None, 4, 3), vec![], 7),
            (filter(Some("even"), None, None, 1, 10), vec![0, 2, 4, 6], 4),
            (filter(Some("even"), Some("t"), None, 1, 10), vec![0, 2], 2),
            (filter(None, Some("t"), None, 2, 2), vec![2], 3),
            (filter(None, None, Some("a5"), 1, 10), vec![5], 1),
            (filter(Some("nobody"), None, None, 1, 10), vec![], 0),
        ];
        for (filter, expected, total) in cases {
            let (keys, got_total) = store.list_keys(&filter).await.unwrap();
            let got: Vec<String> = keys.into_iter().map(|k| k.token_hash).collect();
            let expected: Vec<String> = expected.iter().map(|i| format!("h{i}")).collect();
            assert_eq!(
                (got, got_total),
                (expected, total),
                "{} {filter:?}",
                db.name
            );
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn regenerate_replaces_the_hash_and_keeps_spend() {
    for db in backends().await {
        let store = &db.store;
        let old = full_key("h-old", "kept-alias");
        store.insert_key(&old).await.unwrap();
        let mut new = old.clone();
        new.token_hash = "h-new".to_owned();
        new.key_name = "sk-...new1".to_owned();
        new.spend = NanoDollars::ZERO;
        assert!(
            store.replace_key("h-old", &new).await.unwrap(),
            "{}",
            db.name
        );
        assert_eq!(store.get_key("h-old").await.unwrap(), None, "{}", db.name);
        let got = store.get_key("h-new").await.unwrap().unwrap();
        assert_eq!(got.spend, old.spend, "{}", db.name);
        assert_eq!(got.key_alias.as_deref(), Some("kept-alias"), "{}", db.name);
        assert!(
            !store.replace_key("h-old", &new).await.unwrap(),
            "{}",
            db.name
        );

        assert_eq!(
            store
                .delete_keys(&["h-new".to_owned(), "h-none".to_owned()])
                .await
                .unwrap(),
            1,
            "{}",
            db.name
        );
        assert_eq!(store.get_key("h-new").await.unwrap(), None, "{}", db.name);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn users_round_trip_list_and_delete_with_their_keys() {
    for db in backends().await {
        let store = &db.store;
        let mut full = user("u-full");
        full.user_email = Some("ana@example.com".to_owned());
        full.user_alias = Some("Ana".to_owned());
        full.user_role = Some("internal_user".to_owned());
        full.models = vec!["gpt-4o".to_owned()];
        full.metadata = serde_json::json!({"dept": "r&d"})
            .as_object()
            .unwrap()
            .clone();
        full.limits = full_limits();
        full.budget_reset_at = Some(77);
        full.spend = NanoDollars(5);
        full.created_at = 2;
        let cases = [full.clone(), user("u-bare")];
        for record in &cases {
            store.insert_user(record).await.unwrap();
            assert_eq!(
                store.get_user(&record.user_id).await.unwrap().as_ref(),
                Some(record),
                "{}",
                db.name
            );
        }
        assert!(matches!(
            store.insert_user(&user("u-bare")).await,
            Err(StoreError::Conflict(_))
        ));
        let mut changed = user("u-full");
        changed.user_alias = Some("Ana B".to_owned());
        assert!(store.update_user(&changed).await.unwrap());
        let got = store.get_user("u-full").await.unwrap().unwrap();
        assert_eq!(got.user_alias.as_deref(), Some("Ana B"), "{}", db.name);
        assert_eq!(got.spend, NanoDollars(5), "{}", db.name);
        assert!(!store.update_user(&user("u-none")).await.unwrap());

        let (page, total) = store.list_users(1, 1).await.unwrap();
        assert_eq!(total, 2, "{}", db.name);
        assert_eq!(page[0].user_id, "u-bare", "{}", db.name);
        let (page, _) = store.list_users(2, 1).await.unwrap();
        assert_eq!(page[0].user_id, "u-full", "{}", db.name);

        let mut key = bare_key("h-of-full");
        key.user_id = Some("u-full".to_owned());
        store.insert_key(&key).await.unwrap();
        store.insert_key(&bare_key("h-other")).await.unwrap();
        let deleted = store
            .delete_users(&["u-full".to_owned(), "u-none".to_owned()])
            .await
            .unwrap();
        assert_eq!(deleted.count, 1, "{}", db.name);
        assert_eq!(
            deleted.key_hashes,
            vec!["h-of-full".to_owned()],
            "{}",
            db.name
        );
        assert_eq!(store.get_key("h-of-full").await.unwrap(), None);
        assert!(store.get_key("h-other").await.unwrap().is_some());
        assert_eq!(store.get_user("u-full").await.unwrap(), None);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn teams_round_trip_list_and_delete_with_their_keys() {
    for db in backends().await {
        let store = &db.store;
        let mut full = team("t-full");
        full.team_alias = Some("Research".to_owned());
        full.models = vec!["gpt-4o".to_owned(), "claude".to_owned()];
        full.members = vec![member("u1", "admin"), member("u2", "user")];
        full.guardrails = vec!["pii".to_owned()];
        full.metadata = serde_json::json!({"cost_center": 42})
            .as_object()
            .unwrap()
            .clone();
        full.limits = full_limits();
        full.budget_reset_at = Some(9);
        full.spend = NanoDollars(3);
        full.blocked = true;
        full.created_at = 2;
        let cases = [team("t-bare"), full.clone()];
        for record in &cases {
            store.insert_team(record).await.unwrap();
            assert_eq!(
                store.get_team(&record.team_id).await.unwrap().as_ref(),
                Some(record),
                "{}",
                db.name
            );
        }
        assert!(matches!(
            store.insert_team(&team("t-full")).await,
            Err(StoreError::Conflict(_))
        ));
        let mut changed = full.clone();
        changed.members.pop();
        changed.blocked = false;
        changed.spend = NanoDollars(0);
        assert!(store.update_team(&changed).await.unwrap());
        let got = store.get_team("t-full").await.unwrap().unwrap();
        assert_eq!(got.members, vec![member("u1", "admin")], "{}", db.name);
        assert!(!got.blocked, "{}", db.name);
        assert_eq!(got.spend, NanoDollars(3), "{}", db.name);
        assert!(!store.update_team(&team("t-none")).await.unwrap());
        let ids: Vec<String> = store
            .list_teams()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.team_id)
            .collect();
        assert_eq!(ids, vec!["t-bare", "t-full"], "{}", db.name);

        let mut key = bare_key("h-of-team");
        key.team_id = Some("t-full".to_owned());
        store.insert_key(&key).await.unwrap();
        let deleted = store.delete_teams(&["t-full".to_owned()]).await.unwrap();
        assert_eq!(deleted.count, 1, "{}", db.name);
        assert_eq!(
            deleted.key_hashes,
            vec!["h-of-team".to_owned()],
            "{}",
            db.name
        );
        assert_eq!(store.get_key("h-of-team").await.unwrap(), None);
        assert_eq!(store.get_team("t-full").await.unwrap(), None);
        db.cleanup().await;
    }
}
