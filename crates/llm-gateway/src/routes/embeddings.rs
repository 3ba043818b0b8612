//! `POST /v1/embeddings`, behind the policy gate and the response cache.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use llm_types::{EmbeddingsRequest, EmbeddingsResponse, Usage};
use std::sync::Arc;

use super::cached::Cacheable;
use super::gate;
use super::headers::{RouteInfo, apply_rate_headers};
use crate::app::AppState;
use crate::context::RequestContext;
use crate::extract::JsonBody;

pub async fn embeddings(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
    headers: HeaderMap,
    JsonBody(mut request): JsonBody<EmbeddingsRequest>,
) -> Result<Response, Response> {
    request.validate().map_err(IntoResponse::into_response)?;
    let prompt_estimate = request.estimate_input_tokens();
    let mut model = std::mem::take(&mut request.model);
    let mut meter = gate::admit(
        &app,
        &context,
        &mut model,
        prompt_estimate,
        "embeddings",
        |prices, group| prices.input_estimate(group, prompt_estimate),
    )
    .await?;
    request.model = model.clone();
    meter.capture_request(&request.input);
    let controls = request.extra.remove("cache");
    let cacheable = match Cacheable::of(&app, &request, controls, &model, &headers) {
        Ok(cacheable) => cacheable,
        Err(error) => {
            meter.fail(&error, None);
            return Err(error.into_response());
        }
    };
    if let Some(cacheable) = &cacheable
        && let Some(bytes) = cacheable.lookup().await
        && let Ok(answer) = serde_json::from_slice::<EmbeddingsResponse>(&bytes)
    {
        meter.finish_cache_hit(Some(&Usage::new(answer.usage.prompt_tokens, 0)));
        let mut response = bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        cacheable.apply_headers(headers, true);
        return Ok(response);
    }
    let outcome = app.router.load().embeddings(request).await;
    match outcome {
        Ok(routed) => {
            meter.served_by(&routed);
            let rate = meter.rate_headers().copied().unwrap_or_default();
            let usage = Usage::new(routed.value.usage.prompt_tokens, 0);
            let cost = meter.finish(200, Some(&usage));
            let info = RouteInfo::of(&routed).with_cost(cost);
            if let Some(cacheable) = &cacheable
                && let Ok(bytes) = serde_json::to_vec(&routed.value)
            {
                cacheable.store_now(bytes).await;
            }
            let mut response = info.apply(Json(routed.value).into_response());
            apply_rate_headers(response.headers_mut(), &rate);
            if let Some(cacheable) = &cacheable {
                cacheable.apply_headers(response.headers_mut(), false);
            }
            Ok(response)
        }
        Err(error) => {
            meter.fail(&error, None);
            Err(error.into_response())
        }
    }
}
