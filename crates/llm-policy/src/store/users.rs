//! Users in `llm_users`. Deleting a user deletes the user's keys too, as LiteLLM's
//! `/user/delete` does: a key must not outlive the person it was issued to.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::keys::count_of;
use super::rows::{
    is_unique_violation, json_column, limits_from, money_column, opt_count, page_bounds, to_json,
};
use super::{Deleted, Store, StoreError};
use crate::records::UserRecord;

const COLUMNS: &str = "user_id, user_email, user_alias, user_role, models, metadata, \
    max_budget, soft_budget, budget_duration, budget_reset_at, spend, rpm_limit, tpm_limit, \
    max_parallel_requests, created_at, updated_at";

impl Store {
    /// Inserts a new user; a taken `user_id` is [`StoreError::Conflict`].
    pub async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO llm_users (user_id, user_email, user_alias, user_role, models, \
             metadata, max_budget, soft_budget, budget_duration, budget_reset_at, spend, \
             rpm_limit, tpm_limit, max_parallel_requests, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(user.user_id.as_str())
        .bind(user.user_email.as_deref())
        .bind(user.user_alias.as_deref())
        .bind(user.user_role.as_deref())
        .bind(to_json(&user.models)?)
        .bind(to_json(&user.metadata)?)
        .bind(user.limits.max_budget.map(|m| m.0))
        .bind(user.limits.soft_budget.map(|m| m.0))
        .bind(user.limits.budget_duration.as_deref())
        .bind(user.budget_reset_at)
        .bind(user.spend.0)
        .bind(opt_count(user.limits.rpm_limit))
        .bind(opt_count(user.limits.tpm_limit))
        .bind(opt_count(user.limits.max_parallel_requests))
        .bind(user.created_at)
        .bind(user.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("user_id `{}` already exists", user.user_id))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    /// The user with this id.
    pub async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_users WHERE user_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Writes every field except `spend` and `created_at`; `false` when the user is unknown.
    pub async fn update_user(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE llm_users SET user_email = $2, user_alias = $3, user_role = $4, \
             models = $5, metadata = $6, max_budget = $7, soft_budget = $8, \
             budget_duration = $9, budget_reset_at = $10, rpm_limit = $11, tpm_limit = $12, \
             max_parallel_requests = $13, updated_at = $14 WHERE user_id = $1",
        )
        .bind(user.user_id.as_str())
        .bind(user.user_email.as_deref())
        .bind(user.user_alias.as_deref())
        .bind(user.user_role.as_deref())
        .bind(to_json(&user.models)?)
        .bind(to_json(&user.metadata)?)
        .bind(user.limits.max_budget.map(|m| m.0))
        .bind(user.limits.soft_budget.map(|m| m.0))
        .bind(user.limits.budget_duration.as_deref())
        .bind(user.budget_reset_at)
        .bind(opt_count(user.limits.rpm_limit))
        .bind(opt_count(user.limits.tpm_limit))
        .bind(opt_count(user.limits.max_parallel_requests))
        .bind(user.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes the users and their keys in one transaction.
    pub async fn delete_users(&self, user_ids: &[String]) -> Result<Deleted, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut deleted = Deleted::default();
        for id in user_ids {
            let hashes = Store::key_hashes_where(&mut tx, "user_id", id).await?;
            sqlx::query("DELETE FROM llm_keys WHERE user_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            deleted.key_hashes.extend(hashes);
            deleted.count += sqlx::query("DELETE FROM llm_users WHERE user_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// One 1-based page of users (oldest first) and how many there are.
    pub async fn list_users(
        &self,
        page: u64,
        size: u64,
    ) -> Result<(Vec<UserRecord>, u64), StoreError> {
        let total = count_of(
            &sqlx::query("SELECT COUNT(*) AS n FROM llm_users")
                .fetch_one(&self.pool)
                .await?,
        )?;
        let (limit, offset) = page_bounds(page, size);
        let sql = format!(
            "SELECT {COLUMNS} FROM llm_users ORDER BY created_at, user_id LIMIT $1 OFFSET $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let users = rows.iter().map(user_from).collect::<Result<_, _>>()?;
        Ok((users, total))
    }
}

fn user_from(row: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_id: row.try_get("user_id")?,
        user_email: row.try_get("user_email")?,
        user_alias: row.try_get("user_alias")?,
        user_role: row.try_get("user_role")?,
        models: json_column(row, "models")?,
        metadata: json_column(row, "metadata")?,
        limits: limits_from(row)?,
        budget_reset_at: row.try_get("budget_reset_at")?,
        spend: money_column(row, "spend")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
