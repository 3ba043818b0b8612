//! The real PostgreSQL and Redis of the machine, for tests: availability checks that fail
//! with how to start a missing server (or skip loudly when asked), a database per test, and
//! Redis key prefixes no other test uses.

use std::time::Duration;

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

fn reachable(port: u16) -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
}

/// Whether Redis is there; without it the test fails saying how to start it, unless
/// `LLMGW_SKIP_REDIS_TESTS=1` asks to skip.
pub fn redis_available() -> bool {
    if reachable(6379) {
        return true;
    }
    if std::env::var("LLMGW_SKIP_REDIS_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: Redis is not reachable on 127.0.0.1:6379 and \
             LLMGW_SKIP_REDIS_TESTS=1: tests that need Redis are NOT run !!!!!!!!\n"
        );
        return false;
    }
    panic!(
        "Redis is not reachable on 127.0.0.1:6379. Start it with \
         `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no` \
         (or set LLMGW_SKIP_REDIS_TESTS=1 to skip the Redis tests)"
    );
}

/// Whether PostgreSQL is there; without it the test fails saying how to start it, unless
/// `LLMGW_SKIP_POSTGRES_TESTS=1` asks to skip.
pub fn postgres_available() -> bool {
    if reachable(5432) {
        return true;
    }
    if std::env::var("LLMGW_SKIP_POSTGRES_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: PostgreSQL is not reachable on 127.0.0.1:5432 and \
             LLMGW_SKIP_POSTGRES_TESTS=1: tests that need PostgreSQL are NOT run !!!!!!!!\n"
        );
        return false;
    }
    panic!(
        "PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth, user postgres). Start it \
         with `pg_ctlcluster 15 main start` (Debian) or `service postgresql start` (or set \
         LLMGW_SKIP_POSTGRES_TESTS=1 to skip the PostgreSQL tests)"
    );
}

/// A name no other test (or run) uses.
pub fn unique_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{test}_{}_{nanos}", std::process::id())
}

/// A Redis key prefix no other test (or run) uses; the keys expire by themselves.
pub fn unique_prefix(test: &str) -> String {
    format!("llmgw-test:{}:", unique_name(test))
}

/// A PostgreSQL database of its own for one test, dropped at the end.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(test: &str) -> TestDatabase {
        sqlx::any::install_default_drivers();
        let name = format!("llmgw_test_{}", unique_name(test)).to_lowercase();
        let admin = sqlx::AnyPool::connect(&format!("{POSTGRES}/postgres"))
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        TestDatabase {
            url: format!("{POSTGRES}/{name}"),
            name,
        }
    }

    /// A pool on the test's database, for assertions.
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort, outside any runtime: psql is on every machine with the server.
        let _ = std::process::Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
