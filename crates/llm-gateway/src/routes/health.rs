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
/// unreachable (keys could not be loaded), or while the rate limiter's Redis is and
/// `rate_limit_fail_mode: closed` refuses requests without it. (Fail-open, requests are
/// served on local limits and Redis is only reported.)
pub async fn readiness(State(app): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let router = app.router.load();
    let state = router.shared_state();
    let (database, (redis, fail_closed)) =
        tokio::join!(app.policy.ready(), app.policy.redis_ready());
    let redis_down = matches!(redis, Some(Err(_)));
    let ready = database.is_ok() && !(redis_down && fail_closed);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Json(json!({
        "status": if ready { "healthy" } else { "unhealthy" },
        "db": match &database { Ok(()) => "connected".to_owned(), Err(e) => format!("unreachable: {e}") },
        "redis": match &redis {
            None => "not configured".to_owned(),
            Some(Ok(())) => "connected".to_owned(),
            Some(Err(e)) => format!("unreachable: {e}"),
        },
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
