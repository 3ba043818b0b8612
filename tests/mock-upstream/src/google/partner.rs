//! Claude on Vertex AI: `publishers/anthropic/models/{model}:rawPredict` and
//! `:streamRawPredict`.
//!
//! Vertex checks its own envelope (the body carries `anthropic_version: "vertex-2023-10-16"`
//! and no `model`; streaming is `streamRawPredict` with `"stream": true`), then the request is
//! the Anthropic Messages API's: it is handed to this crate's Anthropic mock with the model
//! from the URL, so both answer alike (and faults work the same, named after a `claude-`
//! prefix: `claude-error-429`). The request log shows the Vertex call, then the Messages call
//! it became.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::errors::GoogleError;
use crate::faults::Script;
use crate::routes::AppState;

/// The `anthropic_version` Vertex AI accepts.
const VERTEX_VERSION: &str = "vertex-2023-10-16";

/// Answers one `rawPredict` / `streamRawPredict` call for `model`.
pub(crate) async fn raw_predict(
    state: &Arc<AppState>,
    model: &str,
    rpc: &str,
    mut body: Value,
) -> Response {
    let streamed = match rpc {
        "rawPredict" => false,
        "streamRawPredict" => true,
        other => {
            return GoogleError::new(
                StatusCode::NOT_FOUND,
                format!("Method `{other}` not found."),
            )
            .into_response();
        }
    };
    let Some(object) = body.as_object_mut() else {
        return GoogleError::invalid("Invalid JSON payload received.").into_response();
    };
    match object.remove("anthropic_version") {
        Some(Value::String(version)) if version == VERTEX_VERSION => {}
        other => {
            return anthropic_error(format!(
                "anthropic_version: Input should be '{VERTEX_VERSION}' (got {other:?})"
            ));
        }
    }
    if object.contains_key("model") {
        return anthropic_error("model: Extra inputs are not permitted".to_owned());
    }
    if object
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        != streamed
    {
        return anthropic_error(format!("{rpc} needs \"stream\": {streamed} in the body"));
    }
    object.insert("model".to_owned(), json!(scripted_name(model)));
    let mut request = Request::post("/v1/messages")
        .header(header::CONTENT_TYPE, "application/json")
        .header("anthropic-version", "2023-06-01");
    if let Some(key) = &state.api_key {
        // The Vertex token was checked already; the Messages mock checks its own key.
        request = request.header("x-api-key", key.as_str());
    }
    let Ok(request) = request.body(Body::from(body.to_string())) else {
        return GoogleError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot forward")
            .into_response();
    };
    let messages = crate::anthropic::routes().with_state(Arc::clone(state));
    match messages.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The gateway sends only `claude-*` models to Anthropic's publisher, so a scripted fault
/// (`error-429`, `cut-2`, `prompt-too-long`, ...) is read after a `claude-` prefix.
fn scripted_name(model: &str) -> &str {
    match model.strip_prefix("claude-") {
        Some(rest)
            if Script::parse(rest) != Script::parse("")
                || rest == "prompt-too-long"
                || rest.starts_with("overloaded-after-") =>
        {
            rest
        }
        _ => model,
    }
}

fn anthropic_error(message: String) -> Response {
    let body =
        json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}
