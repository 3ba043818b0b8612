//! What the mocks of the providers' native APIs share: recording a request, the bearer key,
//! error answers carrying `Retry-After`, the scripted faults that answer before any work, and
//! the common start of a bearer-keyed handler (Cohere, Ollama).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::faults::{Fault, Script};
use crate::record::RecordedRequest;
use crate::routes::AppState;

/// Records the request (when the log is on) and returns its JSON body (`null` when it is not
/// JSON).
pub(crate) fn record(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Value {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    state.log.push(RecordedRequest::new(
        method,
        uri.path(),
        headers,
        value.clone(),
    ));
    value
}

/// The token of an `Authorization: Bearer ...` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// A JSON error answer, with `Retry-After: 7` on a 429.
pub(crate) fn error_answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
    }
    response
}

/// The scripted faults that answer before any work: `error-<status>` (after the scripted
/// delay, "scripted mock error for <what>") and `hang` (until shutdown, then a 503). `error`
/// renders the family's error body.
pub(crate) async fn early_fault(
    state: &AppState,
    script: &Script,
    what: &str,
    error: impl FnOnce(StatusCode, &str) -> Response,
) -> Option<Response> {
    match script.fault {
        Fault::Error(status) => {
            state.shutdown.clone().pause(script.delay).await;
            Some(error(status, &format!("scripted mock error for {what}")))
        }
        Fault::Hang => {
            state.shutdown.clone().wait().await;
            Some(error(StatusCode::SERVICE_UNAVAILABLE, "shutting down"))
        }
        Fault::None | Fault::Garbage | Fault::Cut(_) | Fault::StallAfter(_) | Fault::Drip(_) => {
            None
        }
    }
}

/// How a bearer-keyed native API answers what [`admit`] refuses.
pub(crate) struct Refusals {
    /// The family's error body for a status and message.
    pub error: fn(StatusCode, &str) -> Response,
    /// The message of a 401 (wrong or missing key).
    pub unauthorized: &'static str,
    /// The message of a 400 for a body without a string `model`.
    pub model_required: &'static str,
}

/// A request [`admit`] let through: its JSON body, model and fault script.
pub(crate) struct Admitted {
    pub request: Value,
    pub model: String,
    pub script: Script,
}

/// The start of a bearer-keyed handler: records the request, checks the key (when the mock
/// has one) and the `model`, and answers the early scripted faults. `Err` is the answer.
#[allow(
    clippy::result_large_err,
    reason = "the error is the finished HTTP answer, returned at once; boxing buys nothing"
)]
pub(crate) async fn admit(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    refusals: &Refusals,
) -> Result<Admitted, Response> {
    let request = record(state, method, uri, headers, body);
    if let Some(expected) = &state.api_key
        && bearer(headers) != Some(expected.as_str())
    {
        return Err((refusals.error)(
            StatusCode::UNAUTHORIZED,
            refusals.unauthorized,
        ));
    }
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return Err((refusals.error)(
            StatusCode::BAD_REQUEST,
            refusals.model_required,
        ));
    };
    let model = model.to_owned();
    let script = Script::parse(&model);
    if let Some(response) =
        early_fault(state, &script, &format!("model '{model}'"), refusals.error).await
    {
        return Err(response);
    }
    Ok(Admitted {
        request,
        model,
        script,
    })
}

/// The vectors of an OpenAI embeddings answer, in order.
pub(crate) fn vectors(answer: &Value) -> Vec<Value> {
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["embedding"].clone())
        .collect()
}
