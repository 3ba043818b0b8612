//! Test support for the store tests: every test runs against a fresh SQLite file and a
//! fresh PostgreSQL database of its own (`llmgw_test_<random>`, dropped at the end).
#![allow(dead_code)]

use llm_policy::records::{KeyRecord, Limits, SpendRecord, TeamMember, TeamRecord, UserRecord};
use llm_policy::store::Store;
use llm_types::money::NanoDollars;
use std::path::PathBuf;

/// The server the PostgreSQL runs use (trust auth, user `postgres`).
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated store and what to clean up after it.
pub struct TestDb {
    pub name: &'static str,
    pub store: Store,
    file: Option<PathBuf>,
    database: Option<String>,
}

impl TestDb {
    /// Closes the pool and removes the file or drops the database (best effort).
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some(database) = &self.database {
            let _ =
                admin_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
        }
    }
}

fn random_suffix() -> String {
    let key = llm_policy::keys::generate_key().unwrap();
    llm_policy::keys::hash_key(&key)[..16].to_owned()
}

/// One statement on the PostgreSQL server's `postgres` database (test-made names only).
async fn admin_execute(sql: &str) -> Result<(), sqlx::Error> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(POSTGRES_ADMIN_URL)
        .await?;
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .map(|_| ());
    pool.close().await;
    result
}

/// A migrated SQLite store in a temp file.
pub async fn sqlite() -> TestDb {
    let file = std::env::temp_dir().join(format!("llmgw_test_{}.db", random_suffix()));
    let store = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    TestDb {
        name: "sqlite",
        store,
        file: Some(file),
        database: None,
    }
}

/// A migrated PostgreSQL store in a new database; `None` (after a loud notice) when the
/// server is unreachable and LLMGW_SKIP_POSTGRES_TESTS=1; otherwise unreachable fails.
pub async fn postgres() -> Option<TestDb> {
    let database = format!("llmgw_test_{}", random_suffix());
    match admin_execute(&format!("CREATE DATABASE {database}")).await {
        Ok(()) => {}
        Err(error) => {
            if std::env::var("LLMGW_SKIP_POSTGRES_TESTS").as_deref() == Ok("1") {
                eprintln!(
                    "\n!!! LLMGW_SKIP_POSTGRES_TESTS=1: PostgreSQL at 127.0.0.1:5432 is \
                     unreachable ({error}); the PostgreSQL half of this test was SKIPPED !!!\n"
                );
                return None;
            }
            panic!(
                "PostgreSQL is unreachable at 127.0.0.1:5432 ({error}). Start one with \
                 `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`, \
                 or set LLMGW_SKIP_POSTGRES_TESTS=1 to skip"
            );
        }
    };
    let store = Store::connect(&format!("postgres://postgres@127.0.0.1:5432/{database}"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(TestDb {
        name: "postgres",
        store,
        file: None,
        database: Some(database),
    })
}

/// Both backends (PostgreSQL unless skipped).
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// A key with every field set.
pub fn full_key(hash: &str, alias: &str) -> KeyRecord {
    KeyRecord {
        token_hash: hash.to_owned(),
        key_name: "sk-...abcd".to_owned(),
        key_alias: Some(alias.to_owned()),
        user_id: Some("u1".to_owned()),
        team_id: Some("t1".to_owned()),
        models: vec!["gpt-4o".to_owned(), "claude".to_owned()],
        aliases: [("my-gpt".to_owned(), "gpt-4o".to_owned())].into(),
        allowed_routes: vec!["/chat/completions".to_owned()],
        tags: vec!["prod".to_owned()],
        guardrails: vec!["pii".to_owned()],
        metadata: serde_json::json!({"owner": "ana", "n": 3, "nested": {"a": [1, 2]}})
            .as_object()
            .unwrap()
            .clone(),
        limits: full_limits(),
        budget_reset_at: Some(1_700_000_000_000),
        spend: NanoDollars(1_234),
        expires_at: Some(1_800_000_000_000),
        blocked: true,
        created_at: 1_600_000_000_000,
        updated_at: 1_600_000_000_001,
    }
}

/// A key with every optional field empty.
pub fn bare_key(hash: &str) -> KeyRecord {
    KeyRecord {
        token_hash: hash.to_owned(),
        key_name: "sk-...wxyz".to_owned(),
        key_alias: None,
        user_id: None,
        team_id: None,
        models: vec![],
        aliases: Default::default(),
        allowed_routes: vec![],
        tags: vec![],
        guardrails: vec![],
        metadata: Default::default(),
        limits: Limits::default(),
        budget_reset_at: None,
        spend: NanoDollars::ZERO,
        expires_at: None,
        blocked: false,
        created_at: 1_600_000_000_000,
        updated_at: 1_600_000_000_000,
    }
}

pub fn full_limits() -> Limits {
    Limits {
        max_budget: Some(NanoDollars(10_000_000_000)),
        soft_budget: Some(NanoDollars(5_000_000_001)),
        budget_duration: Some("30d".to_owned()),
        rpm_limit: Some(60),
        tpm_limit: Some(100_000),
        max_parallel_requests: Some(4),
    }
}

pub fn user(id: &str) -> UserRecord {
    UserRecord {
        user_id: id.to_owned(),
        user_email: None,
        user_alias: None,
        user_role: None,
        models: vec![],
        metadata: Default::default(),
        limits: Limits::default(),
        budget_reset_at: None,
        spend: NanoDollars::ZERO,
        created_at: 1,
        updated_at: 1,
    }
}

pub fn team(id: &str) -> TeamRecord {
    TeamRecord {
        team_id: id.to_owned(),
        team_alias: None,
        models: vec![],
        members: vec![],
        guardrails: vec![],
        metadata: Default::default(),
        limits: Limits::default(),
        budget_reset_at: None,
        spend: NanoDollars::ZERO,
        blocked: false,
        created_at: 1,
        updated_at: 1,
    }
}

pub fn member(user_id: &str, role: &str) -> TeamMember {
    TeamMember {
        user_id: user_id.to_owned(),
        role: role.to_owned(),
    }
}

/// A spend row of `cost` nano-dollars for key `key`, user `user`, team `team`.
pub fn spend(
    request_id: &str,
    key: Option<&str>,
    user: Option<&str>,
    team: Option<&str>,
    model: &str,
    cost: i64,
    end_ms: i64,
) -> SpendRecord {
    SpendRecord {
        request_id: request_id.to_owned(),
        key_hash: key.map(str::to_owned),
        key_alias: key.map(|k| format!("alias-{k}")),
        user_id: user.map(str::to_owned),
        team_id: team.map(str::to_owned),
        model_group: model.to_owned(),
        deployment: Some(format!("{model}#0")),
        provider: Some("openai".to_owned()),
        prompt_tokens: 10,
        completion_tokens: 20,
        cached_tokens: 3,
        cost: NanoDollars(cost),
        latency_ms: 120,
        status: 200,
        cache_hit: false,
        estimated: cost % 2 == 1,
        start_ms: end_ms - 120,
        end_ms,
    }
}
