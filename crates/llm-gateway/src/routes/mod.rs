//! HTTP routes: the OpenAI-compatible LLM API, health, and the OpenAI-shaped 404/405.

mod admin;
mod cached;
mod chat;
mod deployment_health;
mod embeddings;
mod gate;
mod guarded;
mod headers;
mod health;
mod metrics;
mod models;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use llm_types::{Error, ErrorKind, ErrorOrigin};
use std::sync::Arc;

use crate::app::AppState;
use crate::{auth, context};

/// Every route of the gateway, with its middleware.
pub fn router(app: Arc<AppState>) -> Router {
    let llm = Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/chat/completions", post(chat::chat_completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/embeddings", post(embeddings::embeddings))
        .route("/v1/models", get(models::list_models))
        .route("/models", get(models::list_models))
        .route("/health", get(deployment_health::deployment_health))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_key,
        ));
    let health = Router::new()
        .route("/health/liveliness", get(health::liveliness))
        .route("/health/liveness", get(health::liveliness))
        .route("/health/readiness", get(health::readiness))
        // Open like the health routes (LiteLLM serves it without auth): no keys or ids in it.
        .route("/metrics", get(metrics::scrape));
    llm.merge(health)
        .merge(admin::routes(app.clone()))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(app.max_request_bytes))
        .layer(middleware::from_fn(context::with_context))
        .with_state(app)
}

async fn unknown_route(uri: axum::http::Uri) -> impl IntoResponse {
    Error::new(
        ErrorKind::NotFound,
        ErrorOrigin::Client,
        format!("unknown route `{}`", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> impl IntoResponse {
    let error = Error::new(
        ErrorKind::InvalidRequest,
        ErrorOrigin::Client,
        format!("method {method} is not allowed on `{}`", uri.path()),
    );
    let mut response = error.into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
