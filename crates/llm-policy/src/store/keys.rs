//! Virtual keys in `llm_keys`: insert, read, update, delete, list, and regenerate (a new hash
//! for the same row, spend kept) in one transaction. `spend` is written only by the spend
//! rollup and the budget reset, never by an admin update, so an update cannot erase spend
//! that another instance rolled up meanwhile.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::{
    bool_column, flag, is_unique_violation, json_column, limits_from, money_column, opt_count,
    page_bounds, to_json,
};
use super::{Store, StoreError};
use crate::records::KeyRecord;

/// Filters and page of [`Store::list_keys`]; `page` is 1-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub key_alias: Option<String>,
    pub page: u64,
    pub size: u64,
}

const COLUMNS: &str = "token_hash, key_name, key_alias, user_id, team_id, models, aliases, \
    allowed_routes, tags, guardrails, metadata, max_budget, soft_budget, budget_duration, \
    budget_reset_at, spend, rpm_limit, tpm_limit, max_parallel_requests, expires_at, blocked, \
    created_at, updated_at";

const INSERT: &str = "INSERT INTO llm_keys (token_hash, key_name, key_alias, user_id, team_id, \
    models, aliases, allowed_routes, tags, guardrails, metadata, max_budget, soft_budget, \
    budget_duration, budget_reset_at, spend, rpm_limit, tpm_limit, max_parallel_requests, \
    expires_at, blocked, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
    $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)";

impl Store {
    /// Inserts a new key; a taken `key_alias` (or hash) is [`StoreError::Conflict`].
    pub async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, key).await
    }

    /// The key with this hash.
    pub async fn get_key(&self, token_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_keys WHERE token_hash = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from).transpose()
    }

    /// The key with this alias.
    pub async fn key_by_alias(&self, alias: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_keys WHERE key_alias = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(alias)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from).transpose()
    }

    /// Writes every field of `key` except `spend` and `created_at`; `false` when no key has
    /// its hash. A taken alias is [`StoreError::Conflict`].
    pub async fn update_key(&self, key: &KeyRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE llm_keys SET key_name = $2, key_alias = $3, user_id = $4, team_id = $5, \
             models = $6, aliases = $7, allowed_routes = $8, tags = $9, guardrails = $10, \
             metadata = $11, max_budget = $12, soft_budget = $13, budget_duration = $14, \
             budget_reset_at = $15, rpm_limit = $16, tpm_limit = $17, \
             max_parallel_requests = $18, expires_at = $19, blocked = $20, updated_at = $21 \
             WHERE token_hash = $1",
        )
        .bind(key.token_hash.as_str())
        .bind(key.key_name.as_str())
        .bind(key.key_alias.as_deref())
        .bind(key.user_id.as_deref())
        .bind(key.team_id.as_deref())
        .bind(to_json(&key.models)?)
        .bind(to_json(&key.aliases)?)
        .bind(to_json(&key.allowed_routes)?)
        .bind(to_json(&key.tags)?)
        .bind(to_json(&key.guardrails)?)
        .bind(to_json(&key.metadata)?)
        .bind(key.limits.max_budget.map(|m| m.0))
        .bind(key.limits.soft_budget.map(|m| m.0))
        .bind(key.limits.budget_duration.as_deref())
        .bind(key.budget_reset_at)
        .bind(opt_count(key.limits.rpm_limit))
        .bind(opt_count(key.limits.tpm_limit))
        .bind(opt_count(key.limits.max_parallel_requests))
        .bind(key.expires_at)
        .bind(flag(key.blocked))
        .bind(key.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, key))?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes the keys with these hashes (one transaction); how many existed.
    pub async fn delete_keys(&self, token_hashes: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut deleted = 0;
        for hash in token_hashes {
            deleted += sqlx::query("DELETE FROM llm_keys WHERE token_hash = $1")
                .bind(hash.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// One page of keys (oldest first) matching `filter`, and how many match in all.
    pub async fn list_keys(&self, filter: &KeyFilter) -> Result<(Vec<KeyRecord>, u64), StoreError> {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        for (column, value) in [
            ("user_id", &filter.user_id),
            ("team_id", &filter.team_id),
            ("key_alias", &filter.key_alias),
        ] {
            if let Some(value) = value {
                values.push(value.as_str());
                clauses.push(format!("{column} = ${}", values.len()));
            }
        }
        let predicate = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let total_sql = format!("SELECT COUNT(*) AS n FROM llm_keys{predicate}");
        let mut total = sqlx::query(AssertSqlSafe(total_sql));
        for value in &values {
            total = total.bind(*value);
        }
        let total = count_of(&total.fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(filter.page, filter.size);
        let page_sql = format!(
            "SELECT {COLUMNS} FROM llm_keys{predicate} ORDER BY created_at, token_hash \
             LIMIT ${} OFFSET ${}",
            values.len() + 1,
            values.len() + 2
        );
        let mut page = sqlx::query(AssertSqlSafe(page_sql));
        for value in &values {
            page = page.bind(*value);
        }
        let rows = page.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let keys = rows.iter().map(key_from).collect::<Result<_, _>>()?;
        Ok((keys, total))
    }

    /// Regenerates a key: in one transaction the row under `old_hash` is removed and `key`
    /// (the new hash and its fields) inserted with the old row's spend. `false` when no key
    /// has `old_hash`.
    pub async fn replace_key(&self, old_hash: &str, key: &KeyRecord) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let old = sqlx::query("SELECT spend FROM llm_keys WHERE token_hash = $1")
            .bind(old_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else {
            return Ok(false);
        };
        let spend = money_column(&old, "spend")?;
        sqlx::query("DELETE FROM llm_keys WHERE token_hash = $1")
            .bind(old_hash)
            .execute(&mut *tx)
            .await?;
        let mut new = key.clone();
        new.spend = spend;
        insert(&mut tx, &new).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every key of the listed users or teams (`column` is `user_id` or `team_id`).
    pub(crate) async fn key_hashes_where(
        conn: &mut sqlx::AnyConnection,
        column: &'static str,
        id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!("SELECT token_hash FROM llm_keys WHERE {column} = $1");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| {
                r.try_get::<String, _>("token_hash")
                    .map_err(StoreError::from)
            })
            .collect()
    }
}

async fn insert(conn: &mut sqlx::AnyConnection, key: &KeyRecord) -> Result<(), StoreError> {
    sqlx::query(INSERT)
        .bind(key.token_hash.as_str())
        .bind(key.key_name.as_str())
        .bind(key.key_alias.as_deref())
        .bind(key.user_id.as_deref())
        .bind(key.team_id.as_deref())
        .bind(to_json(&key.models)?)
        .bind(to_json(&key.aliases)?)
        .bind(to_json(&key.allowed_routes)?)
        .bind(to_json(&key.tags)?)
        .bind(to_json(&key.guardrails)?)
        .bind(to_json(&key.metadata)?)
        .bind(key.limits.max_budget.map(|m| m.0))
        .bind(key.limits.soft_budget.map(|m| m.0))
        .bind(key.limits.budget_duration.as_deref())
        .bind(key.budget_reset_at)
        .bind(key.spend.0)
        .bind(opt_count(key.limits.rpm_limit))
        .bind(opt_count(key.limits.tpm_limit))
        .bind(opt_count(key.limits.max_parallel_requests))
        .bind(key.expires_at)
        .bind(flag(key.blocked))
        .bind(key.created_at)
        .bind(key.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| conflict(e, key))?;
    Ok(())
}

/// A unique violation names what is taken (the alias; never the key or its hash).
fn conflict(error: sqlx::Error, key: &KeyRecord) -> StoreError {
    if is_unique_violation(&error) {
        match &key.key_alias {
            Some(alias) => StoreError::Conflict(format!("key_alias `{alias}` is already taken")),
            None => StoreError::Conflict("this key already exists".to_owned()),
        }
    } else {
        error.into()
    }
}

pub(crate) fn count_of(row: &AnyRow) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
}

fn key_from(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        token_hash: row.try_get("token_hash")?,
        key_name: row.try_get("key_name")?,
        key_alias: row.try_get("key_alias")?,
        user_id: row.try_get("user_id")?,
        team_id: row.try_get("team_id")?,
        models: json_column(row, "models")?,
        aliases: json_column(row, "aliases")?,
        allowed_routes: json_column(row, "allowed_routes")?,
        tags: json_column(row, "tags")?,
        guardrails: json_column(row, "guardrails")?,
        metadata: json_column(row, "metadata")?,
        limits: limits_from(row)?,
        budget_reset_at: row.try_get("budget_reset_at")?,
        spend: money_column(row, "spend")?,
        expires_at: row.try_get("expires_at")?,
        blocked: bool_column(row, "blocked")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
