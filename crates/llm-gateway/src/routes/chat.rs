//! `POST /v1/chat/completions`, streamed or not, in the order of the request path: the
//! guardrail selection, the policy gate, the pre-call guardrails, the response cache, the
//! router (with during-call guardrails beside it), the post-call guardrails. Answers are
//! stored in the cache before the post-call pass, which therefore also runs on hits.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use llm_types::assembly::replay;
use llm_types::{ChatCompletionRequest, ChatCompletionResponse, Error, Usage};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cached::{CacheFill, Cacheable, replay_stream};
use super::gate;
use super::guarded::ChatGuard;
use super::headers::{RouteInfo, apply_overhead, apply_rate_headers};
use crate::app::AppState;
use crate::context::RequestContext;
use crate::extract::JsonBody;
use crate::metering::{Meter, MeteredStream};
use crate::stream::sse_response;

pub async fn chat_completions(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
    headers: HeaderMap,
    JsonBody(mut request): JsonBody<ChatCompletionRequest>,
) -> Result<Response, Response> {
    request.validate().map_err(IntoResponse::into_response)?;
    let prompt_estimate = request.estimate_prompt_tokens();
    let mut guard = ChatGuard::select(&app, &context, &mut request, prompt_estimate)
        .map_err(IntoResponse::into_response)?;
    let controls = request.extra.remove("cache");
    let mut model = std::mem::take(&mut request.model);
    let mut meter = gate::admit(
        &app,
        &context,
        &mut model,
        prompt_estimate,
        "chat",
        |prices, group| prices.reservation(group, &request, prompt_estimate),
    )
    .await?;
    request.model = model.clone();
    if let Err(error) = guard.pre_call(&mut request, &model).await {
        return Err(refuse(meter, error));
    }
    // What the upstream is sent (after masking), when reports carry content.
    meter.capture_request(&request.messages);
    let cacheable = match Cacheable::of(&app, &request, controls, &model, &headers) {
        Ok(cacheable) => cacheable,
        Err(error) => return Err(refuse(meter, error)),
    };
    if let Some(cacheable) = &cacheable
        && let Some(answer) = cached_answer(cacheable).await
    {
        let usage = answer.usage.clone();
        if request.is_stream() {
            meter.streaming();
        }
        meter.answered(&answer);
        let mut served = serve_cached(answer, cacheable, &request, &guard, &context).await;
        match &mut served {
            Ok(response) => {
                // No upstream part: all of a hit's time is the gateway's.
                let overhead = meter.timing(context.started.elapsed(), Duration::ZERO);
                apply_overhead(response.headers_mut(), overhead);
                meter.finish_cache_hit(usage.as_ref());
            }
            Err(error) => meter.fail(error, None),
        }
        return served.map_err(IntoResponse::into_response);
    }
    let router = app.router.load_full();
    let outcome = if request.is_stream() {
        stream(&router, request, &context, meter, cacheable, &guard).await
    } else {
        complete(&router, request, &context, meter, cacheable, &guard).await
    };
    outcome.map_err(IntoResponse::into_response)
}

/// Settles a request refused after admission (nothing reached the upstream).
fn refuse(meter: Meter, error: Error) -> Response {
    meter.fail(&error, None);
    error.into_response()
}

/// A readable cached answer, if there is one.
async fn cached_answer(cacheable: &Cacheable) -> Option<ChatCompletionResponse> {
    let bytes = cacheable.lookup().await?;
    match serde_json::from_slice(&bytes) {
        Ok(answer) => Some(answer),
        Err(error) => {
            tracing::warn!(%error, "unreadable cache entry ignored");
            None
        }
    }
}

/// A cached answer as the request wants it (JSON, or replayed as a stream), through the
/// post-call guardrails like a fresh one.
async fn serve_cached(
    mut answer: ChatCompletionResponse,
    cacheable: &Cacheable,
    request: &ChatCompletionRequest,
    guard: &ChatGuard,
    context: &RequestContext,
) -> Result<Response, Error> {
    let mut response = if request.is_stream() {
        let show_usage = request.wants_stream_usage();
        let chunks = guard.wrap_stream(replay_stream(replay(&answer, show_usage)));
        sse_response(chunks, show_usage, context.id.clone())
    } else {
        guard.post_call(&mut answer).await?;
        Json(answer).into_response()
    };
    cacheable.apply_headers(response.headers_mut(), true);
    Ok(response)
}

async fn complete(
    router: &llm_router::Router,
    request: ChatCompletionRequest,
    context: &RequestContext,
    mut meter: Meter,
    cacheable: Option<Cacheable>,
    guard: &ChatGuard,
) -> Result<Response, Error> {
    let upstream_started = Instant::now();
    let (routed, during) = if guard.has_during_call() {
        let during_request = request.clone();
        tokio::join!(router.chat(request), guard.during_call(&during_request))
    } else {
        (router.chat(request).await, Ok(()))
    };
    let upstream = upstream_started.elapsed();
    let mut routed = match routed {
        Ok(routed) => routed,
        Err(error) => {
            meter.fail(&error, None);
            return Err(error);
        }
    };
    meter.served_by(&routed);
    let rate = meter.rate_headers().copied().unwrap_or_default();
    let usage: Option<Usage> = routed.value.usage.clone();
    // The upstream answered (and billed) whatever the guardrails decide next.
    let checked = match during {
        Ok(()) => {
            if let Some(cacheable) = &cacheable
                && let Ok(bytes) = serde_json::to_vec(&routed.value)
            {
                cacheable.store_now(bytes).await;
            }
            guard.post_call(&mut routed.value).await
        }
        Err(blocked) => Err(blocked),
    };
    if let Err(error) = checked {
        meter.fail(&error, usage.as_ref());
        return Err(error);
    }
    meter.answered(&routed.value);
    let overhead = meter.timing(context.started.elapsed(), upstream);
    let cost = meter.finish(200, usage.as_ref());
    let info = RouteInfo::of(&routed).with_cost(cost);
    let mut response = info.apply(Json(routed.value).into_response());
    apply_rate_headers(response.headers_mut(), &rate);
    apply_overhead(response.headers_mut(), overhead);
    if let Some(cacheable) = &cacheable {
        cacheable.apply_headers(response.headers_mut(), false);
    }
    Ok(response)
}

async fn stream(
    router: &llm_router::Router,
    request: ChatCompletionRequest,
    context: &RequestContext,
    mut meter: Meter,
    cacheable: Option<Cacheable>,
    guard: &ChatGuard,
) -> Result<Response, Error> {
    meter.streaming();
    let show_usage = request.wants_stream_usage();
    let upstream_started = Instant::now();
    let (routed, during) = if guard.has_during_call() {
        let during_request = request.clone();
        tokio::join!(
            router.chat_stream(request),
            guard.during_call(&during_request)
        )
    } else {
        (router.chat_stream(request).await, Ok(()))
    };
    // The router returns a stream at its first token.
    let upstream = upstream_started.elapsed();
    let routed = match routed {
        Ok(routed) => routed,
        Err(error) => {
            meter.fail(&error, None);
            return Err(error);
        }
    };
    meter.served_by(&routed);
    let rate = meter.rate_headers().copied().unwrap_or_default();
    let info = RouteInfo::of(&routed);
    let overhead = meter.timing(context.started.elapsed(), upstream);
    // From here the meter lives in the stream: dropped (a block, a client gone), it drains
    // the upstream for its usage.
    let mut chunks: llm_providers::ChatStream = Box::pin(MeteredStream::new(routed.value, meter));
    during?;
    if let Some(cacheable) = &cacheable {
        chunks = Box::pin(CacheFill::new(chunks, cacheable.clone()));
    }
    let chunks = guard.wrap_stream(chunks);
    // The router only returns a stream once its first token arrived (earlier failures were
    // retried or fell back), so answering 200 here never hides an immediate failure.
    let mut response = info.apply(sse_response(chunks, show_usage, context.id.clone()));
    apply_rate_headers(response.headers_mut(), &rate);
    apply_overhead(response.headers_mut(), overhead);
    if let Some(cacheable) = &cacheable {
        cacheable.apply_headers(response.headers_mut(), false);
    }
    Ok(response)
}
