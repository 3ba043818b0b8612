//! `/spend/logs` and `/global/spend*` handlers.

use axum::extract::State;
use axum::response::Json;
use llm_policy::admin::{
    GlobalSpend, GlobalSpendQuery, KeySpend, ModelSpend, SpendLogOut, SpendLogsQuery, TeamsSpend,
};
use llm_types::Error;
use std::sync::Arc;

use super::admin;
use super::extract::AdminQuery;
use crate::app::AppState;

pub async fn logs(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<SpendLogsQuery>,
) -> Result<Json<Vec<SpendLogOut>>, Error> {
    Ok(Json(admin(&app).spend_logs(query).await?))
}

pub async fn global(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<GlobalSpendQuery>,
) -> Result<Json<GlobalSpend>, Error> {
    let mut spend = admin(&app).global_spend(query).await?;
    // The gateway-wide budget (`litellm_settings.max_budget`), as LiteLLM reports it.
    spend.max_budget = app.policy.global_max_budget().map(|max| max.0 as f64 / 1e9);
    Ok(Json(spend))
}

pub async fn per_key(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<GlobalSpendQuery>,
) -> Result<Json<Vec<KeySpend>>, Error> {
    Ok(Json(admin(&app).spend_per_key(query).await?))
}

pub async fn per_model(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<GlobalSpendQuery>,
) -> Result<Json<Vec<ModelSpend>>, Error> {
    Ok(Json(admin(&app).spend_per_model(query).await?))
}

pub async fn per_team(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<GlobalSpendQuery>,
) -> Result<Json<TeamsSpend>, Error> {
    Ok(Json(admin(&app).spend_per_team(query).await?))
}
