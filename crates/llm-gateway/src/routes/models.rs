//! `GET /v1/models`: the public model names (groups), not the deployments behind them.

use axum::Json;
use axum::extract::State;
use llm_types::ModelList;
use std::sync::Arc;

use crate::app::AppState;

pub async fn list_models(State(app): State<Arc<AppState>>) -> Json<ModelList> {
    let router = app.router.load();
    Json(ModelList::from_ids(
        router.model_names(),
        "llm-gateway",
        app.started,
    ))
}
