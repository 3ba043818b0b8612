//! The spend log and its rollups: batches inserted idempotently by request id, the cost of
//! the rows actually inserted added to their key, user and team in the same transaction,
//! queries for `/spend/logs` and `/global/spend*`, and the scheduled budget reset.

use llm_types::money::NanoDollars;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

use super::rows::{bool_column, count, count_column, flag, money_column};
use super::{Store, StoreError};
use crate::records::SpendRecord;

/// Filters of [`Store::spend_logs`]; times are UNIX ms on `end_ms`, `start_ms` inclusive and
/// `end_ms` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendFilter {
    pub key_hash: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// At most this many rows (clamped to 1..=10000; default 100).
    pub limit: Option<u64>,
}

/// One line of a spend rollup (`/global/spend/keys|models|teams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendTotal {
    /// The key hash, model group or team id (`None`: rows without one).
    pub id: Option<String>,
    /// The key alias, for keys.
    pub alias: Option<String>,
    pub spend: NanoDollars,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

const SPEND_COLUMNS: &str = "request_id, key_hash, key_alias, user_id, team_id, model_group, \
    deployment, provider, prompt_tokens, completion_tokens, cached_tokens, cost, latency_ms, \
    status, cache_hit, estimated, start_ms, end_ms";

/// Rows per `INSERT` statement: 18 parameters each, far below SQLite's and PostgreSQL's
/// parameter limits.
const ROWS_PER_INSERT: usize = 64;

/// `INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING RETURNING request_id` for `rows`.
fn multi_row_insert(rows: usize) -> String {
    let mut sql = format!("INSERT INTO llm_spend_logs ({SPEND_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..18 {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * 18 + column + 1));
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (request_id) DO NOTHING RETURNING request_id");
    sql
}

/// Rollup targets, in the order every instance updates them (tables, then ids sorted), so
/// two batches never wait on each other's rows in opposite orders.
const ROLLUPS: [(&str, &str); 3] = [
    ("llm_keys", "token_hash"),
    ("llm_users", "user_id"),
    ("llm_teams", "team_id"),
];

impl Store {
    /// Inserts a batch of spend rows in one transaction and adds the cost of the rows that
    /// were new to their key, user and team. Rows already present (same `request_id`) are
    /// skipped, so shipping the same batch twice changes nothing. Returns how many were new.
    pub async fn insert_spend(&self, records: &[SpendRecord]) -> Result<u64, StoreError> {
        let mut sorted: Vec<&SpendRecord> = records.iter().collect();
        // Sorted by request id: two instances inserting overlapping batches take the
        // unique-index locks in the same order.
        sorted.sort_by(|a, b| a.request_id.cmp(&b.request_id));
        // A request id twice in one batch is one row (one statement must not count it twice).
        sorted.dedup_by(|a, b| a.request_id == b.request_id);
        let mut per_target: [BTreeMap<&str, i64>; 3] = Default::default();
        let mut tx = self.begin_write().await?;
        let mut inserted = 0;
        // Many rows per statement: one round trip per chunk instead of per row. `RETURNING`
        // names the rows that were new, which alone are rolled up.
        for chunk in sorted.chunks(ROWS_PER_INSERT) {
            let sql = multi_row_insert(chunk.len());
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for record in chunk {
                query = query
                    .bind(record.request_id.as_str())
                    .bind(record.key_hash.as_deref())
                    .bind(record.key_alias.as_deref())
                    .bind(record.user_id.as_deref())
                    .bind(record.team_id.as_deref())
                    .bind(record.model_group.as_str())
                    .bind(record.deployment.as_deref())
                    .bind(record.provider.as_deref())
                    .bind(count(record.prompt_tokens))
                    .bind(count(record.completion_tokens))
                    .bind(count(record.cached_tokens))
                    .bind(record.cost.0)
                    .bind(count(record.latency_ms))
                    .bind(i64::from(record.status))
                    .bind(flag(record.cache_hit))
                    .bind(flag(record.estimated))
                    .bind(record.start_ms)
                    .bind(record.end_ms);
            }
            let new_ids: std::collections::HashSet<String> = query
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
            for record in chunk {
                if !new_ids.contains(&record.request_id) {
                    continue;
                }
                inserted += 1;
                let ids = [&record.key_hash, &record.user_id, &record.team_id];
                for (target, id) in per_target.iter_mut().zip(ids) {
                    if let Some(id) = id {
                        let sum = target.entry(id.as_str()).or_default();
                        *sum = sum.saturating_add(record.cost.0);
                    }
                }
            }
        }
        for ((table, column), sums) in ROLLUPS.iter().zip(&per_target) {
            let sql = format!("UPDATE {table} SET spend = spend + $1 WHERE {column} = $2");
            for (id, sum) in sums {
                sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(*sum)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Spend rows matching `filter`, newest first (by `end_ms`, then `request_id`).
    pub async fn spend_logs(&self, filter: &SpendFilter) -> Result<Vec<SpendRecord>, StoreError> {
        let mut clauses = Vec::new();
        let mut texts = Vec::new();
        for (column, value) in [
            ("key_hash", &filter.key_hash),
            ("user_id", &filter.user_id),
            ("team_id", &filter.team_id),
        ] {
            if let Some(value) = value {
                texts.push(value.as_str());
                clauses.push(format!("{column} = ${}", texts.len()));
            }
        }
        let mut numbers = Vec::new();
        for (comparison, value) in [(">=", filter.start_ms), ("<", filter.end_ms)] {
            if let Some(value) = value {
                numbers.push(value);
                clauses.push(format!(
                    "end_ms {comparison} ${}",
                    texts.len() + numbers.len()
                ));
            }
        }
        let predicate = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {SPEND_COLUMNS} FROM llm_spend_logs{predicate} \
             ORDER BY end_ms DESC, request_id DESC LIMIT ${}",
            texts.len() + numbers.len() + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for text in texts {
            query = query.bind(text);
        }
        for number in numbers {
            query = query.bind(number);
        }
        let limit = count(filter.limit.unwrap_or(100).clamp(1, 10_000));
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(spend_from).collect()
    }

    /// Total cost of the spend rows ending in `[start_ms, end_ms)` (either bound optional).
    pub async fn global_spend(
        &self,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    ) -> Result<NanoDollars, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS total FROM llm_spend_logs \
             WHERE end_ms >= $1 AND end_ms < $2",
        )
        .bind(start_ms.unwrap_or(i64::MIN))
        .bind(end_ms.unwrap_or(i64::MAX))
        .fetch_one(&self.pool)
        .await?;
        money_column(&row, "total")
    }

    /// The keys that spent most, from the log (a deleted key's rows still count).
    pub async fn spend_by_keys(&self, limit: u64) -> Result<Vec<SpendTotal>, StoreError> {
        self.spend_by("key_hash", "MAX(key_alias)", limit).await
    }

    /// The model groups that spent most.
    pub async fn spend_by_models(&self, limit: u64) -> Result<Vec<SpendTotal>, StoreError> {
        self.spend_by("model_group", "NULL", limit).await
    }

    /// The teams that spent most.
    pub async fn spend_by_teams(&self, limit: u64) -> Result<Vec<SpendTotal>, StoreError> {
        self.spend_by("team_id", "NULL", limit).await
    }

    async fn spend_by(
        &self,
        column: &'static str,
        alias: &'static str,
        limit: u64,
    ) -> Result<Vec<SpendTotal>, StoreError> {
        let sql = format!(
            "SELECT {column} AS id, {alias} AS alias, \
             CAST(SUM(cost) AS BIGINT) AS spend, COUNT(*) AS requests, \
             CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, \
             CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens \
             FROM llm_spend_logs GROUP BY {column} ORDER BY spend DESC, id LIMIT $1"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(count(limit.clamp(1, 10_000)))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SpendTotal {
                    id: row.try_get("id")?,
                    alias: row.try_get::<Option<String>, _>("alias")?,
                    spend: money_column(row, "spend")?,
                    requests: count_column(row, "requests")?,
                    prompt_tokens: count_column(row, "prompt_tokens")?,
                    completion_tokens: count_column(row, "completion_tokens")?,
                })
            })
            .collect()
    }

    /// Resets the budgets whose period ended (`budget_reset_at <= now_ms`): spend back to 0
    /// and `budget_reset_at` moved to the end of the period containing `now_ms`. Each row is
    /// updated only if its `budget_reset_at` is still the one read, so instances running it
    /// together reset each budget once. Returns how many budgets were reset.
    pub async fn reset_budgets(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut reset = 0;
        for (table, column) in ROLLUPS {
            let due = format!(
                "SELECT {column} AS id, budget_duration, budget_reset_at FROM {table} \
                 WHERE budget_reset_at <= $1 AND budget_duration IS NOT NULL ORDER BY {column}"
            );
            let rows = sqlx::query(AssertSqlSafe(due))
                .bind(now_ms)
                .fetch_all(&self.pool)
                .await?;
            let update = format!(
                "UPDATE {table} SET spend = 0, budget_reset_at = $1 \
                 WHERE {column} = $2 AND budget_reset_at = $3"
            );
            for row in rows {
                let id: String = row.try_get("id")?;
                let old: i64 = row.try_get("budget_reset_at")?;
                let text: String = row.try_get("budget_duration")?;
                let Some(duration) = crate::period::parse_duration(&text) else {
                    tracing::warn!(table, "budget_duration `{text}` is malformed: not reset");
                    continue;
                };
                let next = crate::period::current_period_end(old, duration, now_ms);
                reset += sqlx::query(AssertSqlSafe(update.as_str()))
                    .bind(next)
                    .bind(id.as_str())
                    .bind(old)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
            }
        }
        Ok(reset)
    }
}

fn spend_from(row: &AnyRow) -> Result<SpendRecord, StoreError> {
    Ok(SpendRecord {
        request_id: row.try_get("request_id")?,
        key_hash: row.try_get("key_hash")?,
        key_alias: row.try_get("key_alias")?,
        user_id: row.try_get("user_id")?,
        team_id: row.try_get("team_id")?,
        model_group: row.try_get("model_group")?,
        deployment: row.try_get("deployment")?,
        provider: row.try_get("provider")?,
        prompt_tokens: count_column(row, "prompt_tokens")?,
        completion_tokens: count_column(row, "completion_tokens")?,
        cached_tokens: count_column(row, "cached_tokens")?,
        cost: money_column(row, "cost")?,
        latency_ms: count_column(row, "latency_ms")?,
        status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
        cache_hit: bool_column(row, "cache_hit")?,
        estimated: bool_column(row, "estimated")?,
        start_ms: row.try_get("start_ms")?,
        end_ms: row.try_get("end_ms")?,
    })
}
