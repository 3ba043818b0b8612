//! Teams in `llm_teams`, their members in the row as JSON. Deleting a team deletes its
//! keys too, as LiteLLM's `/team/delete` does: a team's keys draw on the team's budget and
//! models, which no longer exist.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::{
    bool_column, flag, is_unique_violation, json_column, limits_from, money_column, opt_count,
    to_json,
};
use super::{Deleted, Store, StoreError};
use crate::records::TeamRecord;

const COLUMNS: &str = "team_id, team_alias, models, members, guardrails, metadata, \
    max_budget, soft_budget, budget_duration, budget_reset_at, spend, rpm_limit, tpm_limit, \
    max_parallel_requests, blocked, created_at, updated_at";

impl Store {
    /// Inserts a new team; a taken `team_id` is [`StoreError::Conflict`].
    pub async fn insert_team(&self, team: &TeamRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO llm_teams (team_id, team_alias, models, members, guardrails, \
             metadata, max_budget, soft_budget, budget_duration, budget_reset_at, spend, \
             rpm_limit, tpm_limit, max_parallel_requests, blocked, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(team.team_id.as_str())
        .bind(team.team_alias.as_deref())
        .bind(to_json(&team.models)?)
        .bind(to_json(&team.members)?)
        .bind(to_json(&team.guardrails)?)
        .bind(to_json(&team.metadata)?)
        .bind(team.limits.max_budget.map(|m| m.0))
        .bind(team.limits.soft_budget.map(|m| m.0))
        .bind(team.limits.budget_duration.as_deref())
        .bind(team.budget_reset_at)
        .bind(team.spend.0)
        .bind(opt_count(team.limits.rpm_limit))
        .bind(opt_count(team.limits.tpm_limit))
        .bind(opt_count(team.limits.max_parallel_requests))
        .bind(flag(team.blocked))
        .bind(team.created_at)
        .bind(team.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("team_id `{}` already exists", team.team_id))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    /// The team with this id.
    pub async fn get_team(&self, team_id: &str) -> Result<Option<TeamRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_teams WHERE team_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(team_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(team_from).transpose()
    }

    /// Writes every field except `spend` and `created_at`; `false` when the team is unknown.
    pub async fn update_team(&self, team: &TeamRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE llm_teams SET team_alias = $2, models = $3, members = $4, \
             guardrails = $5, metadata = $6, max_budget = $7, soft_budget = $8, \
             budget_duration = $9, budget_reset_at = $10, rpm_limit = $11, tpm_limit = $12, \
             max_parallel_requests = $13, blocked = $14, updated_at = $15 WHERE team_id = $1",
        )
        .bind(team.team_id.as_str())
        .bind(team.team_alias.as_deref())
        .bind(to_json(&team.models)?)
        .bind(to_json(&team.members)?)
        .bind(to_json(&team.guardrails)?)
        .bind(to_json(&team.metadata)?)
        .bind(team.limits.max_budget.map(|m| m.0))
        .bind(team.limits.soft_budget.map(|m| m.0))
        .bind(team.limits.budget_duration.as_deref())
        .bind(team.budget_reset_at)
        .bind(opt_count(team.limits.rpm_limit))
        .bind(opt_count(team.limits.tpm_limit))
        .bind(opt_count(team.limits.max_parallel_requests))
        .bind(flag(team.blocked))
        .bind(team.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes the teams and their keys in one transaction.
    pub async fn delete_teams(&self, team_ids: &[String]) -> Result<Deleted, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut deleted = Deleted::default();
        for id in team_ids {
            let hashes = Store::key_hashes_where(&mut tx, "team_id", id).await?;
            sqlx::query("DELETE FROM llm_keys WHERE team_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            deleted.key_hashes.extend(hashes);
            deleted.count += sqlx::query("DELETE FROM llm_teams WHERE team_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Every team, oldest first (teams are few; members are filtered by the caller).
    pub async fn list_teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_teams ORDER BY created_at, team_id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(team_from).collect()
    }
}

fn team_from(row: &AnyRow) -> Result<TeamRecord, StoreError> {
    Ok(TeamRecord {
        team_id: row.try_get("team_id")?,
        team_alias: row.try_get("team_alias")?,
        models: json_column(row, "models")?,
        members: json_column(row, "members")?,
        guardrails: json_column(row, "guardrails")?,
        metadata: json_column(row, "metadata")?,
        limits: limits_from(row)?,
        budget_reset_at: row.try_get("budget_reset_at")?,
        spend: money_column(row, "spend")?,
        blocked: bool_column(row, "blocked")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
