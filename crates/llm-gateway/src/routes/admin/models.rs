//! `GET /model/info` (and `/v1/model/info`): every deployment with its model group, the
//! provider model it calls and its prices, as LiteLLM lists them. Never an `api_key` or
//! any other credential: only the model name leaves `litellm_params`.

use axum::extract::State;
use axum::response::Json;
use llm_types::catalog::TokenPrice;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::app::AppState;

pub async fn info(State(app): State<Arc<AppState>>) -> Json<Value> {
    let router = app.router.load();
    let prices = app.prices.load();
    let data: Vec<Value> = router
        .all_deployments()
        .map(|d| {
            let p = prices.deployment(&d.id, &d.target_model);
            json!({
                "model_name": &*d.model_name,
                "litellm_params": { "model": &*d.target_model },
                "model_info": {
                    "id": &*d.id,
                    "input_cost_per_token": per_token(p.input),
                    "output_cost_per_token": per_token(p.output),
                    "cache_read_input_token_cost": per_token(p.cache_read),
                    "cache_creation_input_token_cost": per_token(p.cache_creation),
                    "output_cost_per_reasoning_token": per_token(p.reasoning),
                    "max_input_tokens": d.spec.max_input_tokens,
                    "rpm": d.spec.rpm,
                    "tpm": d.spec.tpm,
                },
            })
        })
        .collect();
    Json(json!({ "data": data }))
}

/// Dollars per token (display only; TokenPrice counts 10⁻¹⁵ dollars a token).
fn per_token(price: Option<TokenPrice>) -> Option<f64> {
    price.map(|p| p.0 as f64 / 1e15)
}
