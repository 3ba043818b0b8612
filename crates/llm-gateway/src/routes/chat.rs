//! `POST /v1/chat/completions`, streamed or not, behind the policy gate.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use llm_types::{ChatCompletionRequest, Error};
use std::sync::Arc;

use super::gate;
use super::headers::{RouteInfo, apply_rate_headers};
use crate::app::AppState;
use crate::context::RequestContext;
use crate::extract::JsonBody;
use crate::metering::{Meter, MeteredStream};
use crate::stream::sse_response;

pub async fn chat_completions(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
    JsonBody(mut request): JsonBody<ChatCompletionRequest>,
) -> Result<Response, Response> {
    request.validate().map_err(IntoResponse::into_response)?;
    let prompt_estimate = request.estimate_prompt_tokens();
    let mut model = std::mem::take(&mut request.model);
    let meter = gate::admit(
        &app,
        &context,
        &mut model,
        prompt_estimate,
        |prices, group| prices.reservation(group, &request, prompt_estimate),
    )
    .await?;
    request.model = model.clone();
    let router = app.router.load_full();
    let outcome = if request.is_stream() {
        stream(&router, request, &context, meter).await
    } else {
        complete(&router, request, meter).await
    };
    log_outcome(&context, &model, outcome.as_ref().err());
    outcome.map_err(IntoResponse::into_response)
}

async fn complete(
    router: &llm_router::Router,
    request: ChatCompletionRequest,
    mut meter: Meter,
) -> Result<Response, Error> {
    match router.chat(request).await {
        Ok(routed) => {
            meter.served_by(&routed.deployment.id, &routed.deployment.target_model);
            let rate = meter.rate_headers().copied().unwrap_or_default();
            let cost = meter.finish(200, routed.value.usage.as_ref());
            let info = RouteInfo::of(&routed).with_cost(cost);
            let mut response = info.apply(Json(routed.value).into_response());
            apply_rate_headers(response.headers_mut(), &rate);
            Ok(response)
        }
        Err(error) => {
            meter.finish(error.status(), None);
            Err(error)
        }
    }
}

async fn stream(
    router: &llm_router::Router,
    request: ChatCompletionRequest,
    context: &RequestContext,
    mut meter: Meter,
) -> Result<Response, Error> {
    let show_usage = request.wants_stream_usage();
    let routed = match router.chat_stream(request).await {
        Ok(routed) => routed,
        Err(error) => {
            meter.finish(error.status(), None);
            return Err(error);
        }
    };
    meter.served_by(&routed.deployment.id, &routed.deployment.target_model);
    let rate = meter.rate_headers().copied().unwrap_or_default();
    let info = RouteInfo::of(&routed);
    let chunks = Box::pin(MeteredStream::new(routed.value, meter));
    // The router only returns a stream once its first token arrived (earlier failures were
    // retried or fell back), so answering 200 here never hides an immediate failure.
    let mut response = info.apply(sse_response(chunks, show_usage, context.id.clone()));
    apply_rate_headers(response.headers_mut(), &rate);
    Ok(response)
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
