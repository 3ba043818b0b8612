//! `llm-gateway migrate`: applies the embedded migrations to the configured database and
//! exits, on SQLite (the file beside the config) and PostgreSQL (`DATABASE_URL`), twice in a
//! row without harm; a database URL of another kind is refused.
// Helpers of an integration-test crate are not `#[test]` fns; they may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use support::TempDir;
use support::services::{TestDatabase, postgres_available};

const CONFIG: &str = "model_list:\n  - model_name: m\n    litellm_params: {model: mock/m}\n";

fn migrate(dir: &TempDir, yaml: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let config = dir.0.join("config.yaml");
    std::fs::write(&config, yaml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_llm-gateway"))
        .args(["migrate", "--config", config.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn tables(url: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let sql = if url.starts_with("sqlite") {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'llm_%' ORDER BY name"
    } else {
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_name LIKE 'llm_%' ORDER BY table_name"
    };
    let names = sqlx::query(sql)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    pool.close().await;
    names
}

const TABLES: [&str; 5] = [
    "llm_keys",
    "llm_policy_version",
    "llm_spend_logs",
    "llm_teams",
    "llm_users",
];

#[tokio::test]
async fn migrate_creates_the_schema_on_sqlite_and_postgres_idempotently() {
    let dir = TempDir::new("migrate");
    let mut targets = vec![(
        format!("sqlite://{}", dir.0.join("llm-gateway.db").display()),
        vec![],
    )];
    let db = if postgres_available() {
        Some(TestDatabase::create("migrate").await)
    } else {
        None
    };
    if let Some(db) = &db {
        targets.push((db.url.clone(), vec![("DATABASE_URL", db.url.as_str())]));
    }
    for (url, env) in targets {
        for run in 0..2 {
            let (ok, stdout, stderr) = migrate(&dir, CONFIG, &env);
            assert!(ok, "run {run} on {url}: {stdout}{stderr}");
            assert!(stdout.contains("migrations applied to"), "{stdout}");
        }
        assert_eq!(tables(&url).await, TABLES, "{url}");
    }
}

#[test]
fn migrate_refuses_a_database_of_another_kind() {
    let dir = TempDir::new("migrate-bad");
    let yaml = format!("{CONFIG}general_settings:\n  database_url: mysql://u:secret@h/db\n");
    let (ok, stdout, stderr) = migrate(&dir, &yaml, &[]);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("neither sqlite:// nor postgres://"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret"),
        "the password must not be printed: {stderr}"
    );
}
