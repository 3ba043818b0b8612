//! Anthropic Messages API: `POST /v1/messages`, JSON or named-event SSE (`"stream": true`).
//!
//! The key is checked in `x-api-key` (documented, LiteLLM) or `Authorization: Bearer`
//! (anthropic SDK 2.x); `anthropic-version` must be present. Errors use Anthropic's body
//! `{"type": "error", "error": {"type", "message"}}`. Scripted faults are the crate's
//! (`error-<status>`, `garbage`, `cut-<k>`, `hang`, `stall-after-<k>`, `slow-<ms>`) plus two of
//! Anthropic's own: `overloaded-after-<k>` streams `k` deltas then an `error` event, and
//! `prompt-too-long` answers the 400 Anthropic gives for a context overflow.

mod plan;
mod sse;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::delivery;
use crate::faults::{Fault, Script};
use crate::native;
use crate::routes::AppState;

static MESSAGES: AtomicU64 = AtomicU64::new(0);

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/messages", post(messages))
}

/// Anthropic's error type for a status.
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 | 503 => "overloaded_error",
        504 => "timeout_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// An Anthropic error answer, with `retry-after` on 429 (as the API sends).
fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": error_type(status), "message": message}});
    native::error_answer(status, body)
}

/// Records the request and checks its key and version header; `Err` is the answer (boxed:
/// a `Response` is large).
fn receive(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Box<Response>> {
    let value = native::record(state, method, uri, headers, body);
    if let Some(expected) = &state.api_key {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let given = header("x-api-key").or_else(|| {
            header(header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer "))
        });
        if given != Some(expected.as_str()) {
            return Err(Box::new(error(
                StatusCode::UNAUTHORIZED,
                "invalid x-api-key",
            )));
        }
    }
    if headers.get("anthropic-version").is_none() {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "anthropic-version: header is required",
        )));
    }
    Ok(value)
}

/// The fields Anthropic requires: `model`, non-empty `messages`, `max_tokens`.
fn validate(request: &Value) -> Result<(&str, &[Value]), Box<Response>> {
    let bad = |message: &str| Err(Box::new(error(StatusCode::BAD_REQUEST, message)));
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return bad("model: Field required");
    };
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return bad("messages: Field required");
    };
    if messages.is_empty() {
        return bad("messages: at least one message is required");
    }
    if request.get("max_tokens").and_then(Value::as_u64).is_none() {
        return bad("max_tokens: Field required");
    }
    Ok((model, messages))
}

async fn messages(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match receive(&state, &method, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let (model, messages) = match validate(&request) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    if model == "prompt-too-long" {
        return error(
            StatusCode::BAD_REQUEST,
            "prompt is too long: 210000 tokens > 200000 maximum",
        );
    }
    let error_after = model
        .strip_prefix("overloaded-after-")
        .and_then(|k| k.parse::<usize>().ok());
    let script = Script::parse(model);
    match script.fault {
        Fault::Error(status) => {
            state.shutdown.clone().pause(script.delay).await;
            let message = format!(
                "This is a scripted mock error: status {status} requested by model '{model}'."
            );
            return error(status, &message);
        }
        Fault::Hang => {
            state.shutdown.clone().wait().await;
            return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        }
        Fault::None | Fault::Garbage | Fault::Cut(_) | Fault::StallAfter(_) | Fault::Drip(_) => {}
    }
    let plan = plan::plan(&request, messages);
    let n = MESSAGES.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("msg_mock{n:016}");
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let transcript = sse::transcript(&plan, &id, model, error_after);
        return delivery::sse(transcript, script.fault, script.delay, &state.shutdown);
    }
    state.shutdown.clone().pause(script.delay).await;
    delivery::json(&plan.render(&id, model), script.fault, &state.shutdown)
}

#[cfg(test)]
mod tests;
