//! `POST /v1/chat/completions`, streamed or not.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use llm_types::{ChatCompletionRequest, Error};
use std::sync::Arc;

use super::headers::RouteInfo;
use crate::app::AppState;
use crate::context::RequestContext;
use crate::extract::JsonBody;
use crate::stream::sse_response;

pub async fn chat_completions(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
    JsonBody(request): JsonBody<ChatCompletionRequest>,
) -> Result<Response, Error> {
    request.validate()?;
    let model = request.model.clone();
    let router = app.router.load_full();
    let outcome = if request.is_stream() {
        stream(&router, request, &context).await
    } else {
        router.chat(request).await.map(|routed| {
            let info = RouteInfo::of(&routed)
                .with_cost(&routed.deployment.target_model, routed.value.usage.as_ref());
            info.apply(Json(routed.value).into_response())
        })
    };
    log_outcome(&context, &model, outcome.as_ref().err());
    outcome
}

async fn stream(
    router: &llm_router::Router,
    request: ChatCompletionRequest,
    context: &RequestContext,
) -> Result<Response, Error> {
    let show_usage = request.wants_stream_usage();
    let routed = router.chat_stream(request).await?;
    let info = RouteInfo::of(&routed);
    // The router only returns a stream once its first token arrived (earlier failures were
    // retried or fell back), so answering 200 here never hides an immediate failure.
    Ok(info.apply(sse_response(routed.value, show_usage, context.id.clone())))
}

/// One line per request; never the body, never a key.
pub fn log_outcome(context: &RequestContext, model: &str, error: Option<&Error>) {
    let elapsed_ms = context.started.elapsed().as_secs_f64() * 1000.0;
    match error {
        None => tracing::info!(request_id = %context.id, model, elapsed_ms, "request served"),
        Some(error) => tracing::warn!(
            request_id = %context.id,
            model,
            elapsed_ms,
            status = error.status(),
            error = error.kind.metric_label(),
            message = %error.message,
            "request failed"
        ),
    }
}
