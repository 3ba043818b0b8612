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
    let router = app.router.load();
    let state = router.shared_state();
    Json(json!({
        "status": "healthy",
        "models": router.model_names().count(),
        "version": env!("CARGO_PKG_VERSION"),
        // Failed operations of the shared router state (Redis): while it fails the router
        // runs on local state, and this count says so.
        "router_state": {"backend": state.name(), "errors": state.errors()},
    }))
}
