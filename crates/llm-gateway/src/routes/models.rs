//! `GET /v1/models`: the public model names (groups), not the deployments behind them; for a
//! virtual key, only those it may call (its own and its team's lists, as LiteLLM does).

use axum::Json;
use axum::extract::State;
use llm_types::ModelList;
use std::sync::Arc;

use crate::app::AppState;
use crate::context::RequestContext;

pub async fn list_models(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
) -> Json<ModelList> {
    let router = app.router.load();
    let principal = context.caller.principal();
    let visible = router
        .model_names()
        .filter(|model| principal.is_none_or(|p| p.check_model(model).is_ok()));
    Json(ModelList::from_ids(visible, "llm-gateway", app.started))
}
