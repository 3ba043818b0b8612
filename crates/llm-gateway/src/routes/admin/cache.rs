//! `/cache/ping`, `/cache/delete` and `/cache/flushall` (LiteLLM's cache admin routes).
//! Without a configured cache they answer 400 saying how to turn it on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use llm_policy::cache::ResponseCache;
use llm_types::Error;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use super::extract::AdminJson;
use crate::app::AppState;

/// `POST /cache/delete` body: the keys to forget (`x-llm-cache-key` of the answers).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    keys: Vec<String>,
}

fn cache_of(app: &AppState) -> Result<&Arc<ResponseCache>, Error> {
    app.cache.as_ref().ok_or_else(|| {
        Error::invalid_request(
            "the response cache is off: set `litellm_settings.cache: true` (or the native \
             `cache:` section)",
        )
    })
}

pub async fn ping(State(app): State<Arc<AppState>>) -> Result<Response, Error> {
    let cache = cache_of(&app)?;
    Ok(match cache.ping().await {
        Ok(kind) => Json(json!({"status": "healthy", "cache_type": kind})).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unhealthy", "cache_type": cache.backend_name(), "error": error}),
            ),
        )
            .into_response(),
    })
}

pub async fn delete(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<DeleteRequest>,
) -> Result<Json<serde_json::Value>, Error> {
    let deleted = cache_of(&app)?.delete(&request.keys).await;
    Ok(Json(json!({"status": "success", "deleted": deleted})))
}

pub async fn flush_all(State(app): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, Error> {
    let deleted = cache_of(&app)?.flush_all().await;
    Ok(Json(json!({"status": "success", "deleted": deleted})))
}
