//! Health probes, open without credentials (load balancers and orchestrators call them).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::app::AppState;

/// The process is up (LiteLLM answers the same string).
pub async fn liveliness() -> Json<&'static str> {
    Json("I'm alive!")
}

/// The gateway has a configuration loaded and can serve.
pub async fn readiness(State(app): State<Arc<AppState>>) -> Json<Value> {
    let models = app.router.load().model_names().count();
    Json(json!({
        "status": "healthy",
        "models": models,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}
