//! `/spend/logs` and `/global/spend*`: the spend log newest first with LiteLLM's filters,
//! and totals per key, model and team. Sums are integers until the last step (display).

use llm_types::Error;
use serde::{Deserialize, Serialize};

use super::wire::{Precision, dollars_out, iso_out, time_in};
use super::{Admin, key_hash_of, store_error};
use crate::records::SpendRecord;
use crate::store::{SpendFilter, SpendTotal};

/// `GET /spend/logs` query. Dates are `YYYY-MM-DD` (a whole day; `end_date` inclusive) or
/// RFC 3339 instants (`end_date` exclusive).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SpendLogsQuery {
    /// The key (`sk-...`) or its hash.
    pub api_key: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// At most this many rows (default 100, at most 10 000).
    pub limit: Option<u64>,
}

/// `GET /global/spend*` query.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GlobalSpendQuery {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// Rows of a per-key/model/team ranking (default 100).
    pub limit: Option<u64>,
}

/// One row of `/spend/logs` (LiteLLM's names; `spend` in float dollars).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendLogOut {
    pub request_id: String,
    /// The key's hash.
    pub api_key: Option<String>,
    pub key_alias: Option<String>,
    pub user: Option<String>,
    pub team_id: Option<String>,
    pub model: String,
    pub model_group: String,
    pub model_id: Option<String>,
    pub custom_llm_provider: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub cached_tokens: u64,
    pub spend: f64,
    pub latency_ms: u64,
    pub status: u16,
    pub cache_hit: bool,
    pub estimated: bool,
    #[serde(rename = "startTime")]
    pub start_time: String,
    #[serde(rename = "endTime")]
    pub end_time: String,
}

impl From<&SpendRecord> for SpendLogOut {
    fn from(r: &SpendRecord) -> Self {
        SpendLogOut {
            request_id: r.request_id.clone(),
            api_key: r.key_hash.clone(),
            key_alias: r.key_alias.clone(),
            user: r.user_id.clone(),
            team_id: r.team_id.clone(),
            model: r.model_group.clone(),
            model_group: r.model_group.clone(),
            model_id: r.deployment.clone(),
            custom_llm_provider: r.provider.clone(),
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            total_tokens: r.prompt_tokens.saturating_add(r.completion_tokens),
            cached_tokens: r.cached_tokens,
            spend: dollars_out(r.cost),
            latency_ms: r.latency_ms,
            status: r.status,
            cache_hit: r.cache_hit,
            estimated: r.estimated,
            start_time: iso_out(r.start_ms),
            end_time: iso_out(r.end_ms),
        }
    }
}

/// `GET /global/spend`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalSpend {
    pub spend: f64,
    /// The proxy-wide budget, when one is configured (the caller fills it in).
    pub max_budget: Option<f64>,
}

/// A row of `/global/spend/keys`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeySpend {
    pub api_key: Option<String>,
    pub key_alias: Option<String>,
    pub total_spend: f64,
    pub requests: u64,
}

/// A row of `/global/spend/models`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpend {
    pub model: Option<String>,
    pub total_spend: f64,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A row of `/global/spend/teams`' `total_spend_per_team`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamSpend {
    pub team_id: Option<String>,
    pub total_spend: f64,
    pub requests: u64,
}

/// `GET /global/spend/teams`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamsSpend {
    pub total_spend_per_team: Vec<TeamSpend>,
    /// The team ids ranked, as LiteLLM lists them.
    pub teams: Vec<String>,
}

impl Admin<'_> {
    /// `GET /spend/logs`.
    pub async fn spend_logs(&self, query: SpendLogsQuery) -> Result<Vec<SpendLogOut>, Error> {
        let (start_ms, end_ms) = range(&query.start_date, &query.end_date)?;
        if let Some(limit) = query.limit
            && !(1..=10_000).contains(&limit)
        {
            return Err(Error::invalid_param("limit", "`limit` must be 1..=10000"));
        }
        let filter = SpendFilter {
            key_hash: query.api_key.as_deref().map(key_hash_of),
            user_id: query.user_id,
            team_id: query.team_id,
            start_ms,
            end_ms,
            limit: query.limit,
        };
        let rows = self
            .store
            .spend_logs(&filter)
            .await
            .map_err(store_error("api_key"))?;
        Ok(rows.iter().map(SpendLogOut::from).collect())
    }

    /// `GET /global/spend`.
    pub async fn global_spend(&self, query: GlobalSpendQuery) -> Result<GlobalSpend, Error> {
        let (start_ms, end_ms) = range(&query.start_date, &query.end_date)?;
        let spend = self
            .store
            .global_spend(start_ms, end_ms)
            .await
            .map_err(store_error("start_date"))?;
        Ok(GlobalSpend {
            spend: dollars_out(spend),
            max_budget: None,
        })
    }

    /// `GET /global/spend/keys`.
    pub async fn spend_per_key(&self, query: GlobalSpendQuery) -> Result<Vec<KeySpend>, Error> {
        let rows = self
            .store
            .spend_by_keys(limit(query.limit)?)
            .await
            .map_err(store_error("limit"))?;
        Ok(rows
            .into_iter()
            .map(|t| KeySpend {
                api_key: t.id,
                key_alias: t.alias,
                total_spend: dollars_out(t.spend),
                requests: t.requests,
            })
            .collect())
    }

    /// `GET /global/spend/models`.
    pub async fn spend_per_model(&self, query: GlobalSpendQuery) -> Result<Vec<ModelSpend>, Error> {
        let rows = self
            .store
            .spend_by_models(limit(query.limit)?)
            .await
            .map_err(store_error("limit"))?;
        Ok(rows
            .into_iter()
            .map(|t: SpendTotal| ModelSpend {
                model: t.id,
                total_spend: dollars_out(t.spend),
                requests: t.requests,
                prompt_tokens: t.prompt_tokens,
                completion_tokens: t.completion_tokens,
            })
            .collect())
    }

    /// `GET /global/spend/teams`.
    pub async fn spend_per_team(&self, query: GlobalSpendQuery) -> Result<TeamsSpend, Error> {
        let rows = self
            .store
            .spend_by_teams(limit(query.limit)?)
            .await
            .map_err(store_error("limit"))?;
        let total_spend_per_team: Vec<TeamSpend> = rows
            .into_iter()
            .map(|t| TeamSpend {
                team_id: t.id,
                total_spend: dollars_out(t.spend),
                requests: t.requests,
            })
            .collect();
        Ok(TeamsSpend {
            teams: total_spend_per_team
                .iter()
                .filter_map(|t| t.team_id.clone())
                .collect(),
            total_spend_per_team,
        })
    }
}

fn limit(limit: Option<u64>) -> Result<u64, Error> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=10_000).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid_param("limit", "`limit` must be 1..=10000")),
    }
}

/// `[start, end)` in ms from the query's dates; a day-precision `end_date` includes its day.
fn range(
    start: &Option<String>,
    end: &Option<String>,
) -> Result<(Option<i64>, Option<i64>), Error> {
    let start_ms = start
        .as_deref()
        .map(|s| time_in("start_date", s).map(|(ms, _)| ms))
        .transpose()?;
    let end_ms = end
        .as_deref()
        .map(|s| {
            time_in("end_date", s).map(|(ms, precision)| match precision {
                Precision::Day => ms + 86_400_000,
                Precision::Instant => ms,
            })
        })
        .transpose()?;
    if let (Some(s), Some(e)) = (start_ms, end_ms)
        && s > e
    {
        return Err(Error::invalid_param(
            "end_date",
            "`end_date` is before `start_date`",
        ));
    }
    Ok((start_ms, end_ms))
}
