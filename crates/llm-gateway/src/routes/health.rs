//! Health probes, open without credentials (load balancers and orchestrators call them).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::app::AppState;

/// The process is up (LiteLLM answers the same string).
pub async fn liveliness() -> Json<&'static str> {
    Json("I'm alive!")
}

/// The gateway has a configuration loaded and can serve: 503 while its database is
/// unreachable (keys could not be loaded).
pub async fn readiness(State(app): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let router = app.router.load();
    let state = router.shared_state();
    let database = app.policy.ready().await;
    let status = if database.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Json(json!({
        "status": if database.is_ok() { "healthy" } else { "unhealthy" },
        "db": match &database { Ok(()) => "connected".to_owned(), Err(e) => format!("unreachable: {e}") },
        "spend_journal_backlog": app.policy.journal_backlog(),
        "rate_limit_redis_errors": app.policy.redis_errors(),
        "models": router.model_names().count(),
        "version": env!("CARGO_PKG_VERSION"),
        // Failed operations of the shared router state (Redis): while it fails the router
        // runs on local state, and this count says so.
        "router_state": {"backend": state.name(), "errors": state.errors()},
    }));
    (status, body)
}
