//! AWS Bedrock Runtime: `POST /model/{modelId}/converse`, `/converse-stream` (AWS event-stream
//! framing, `application/vnd.amazon.eventstream`) and `/invoke` (Titan and Cohere embeddings).
//!
//! Every request must carry a valid SigV4 signature for the mock's credentials
//! (`AKIDEXAMPLE` / the AWS documentation's example secret), checked by an independent
//! re-implementation of the canonical request ([`sigv4`]); otherwise the answer is AWS's 403
//! (`MissingAuthenticationTokenException`, `UnrecognizedClientException`,
//! `InvalidSignatureException`). The model id in the path picks the scripted faults of the
//! crate docs; `<exception>-after-<k>` (e.g. `throttlingException-after-1`) streams `k`
//! content events, then that in-stream exception. Errors are AWS-shaped: `x-amzn-ErrorType`
//! header and a `{"message"}` body.

mod converse;
mod eventstream;
mod sigv4;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::delivery;
use crate::faults::{Fault, Script};
use crate::ids::Fnv;
use crate::native;
use crate::routes::AppState;
use crate::stream::Transcript;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/model/{model_id}/converse", post(converse))
        .route("/model/{model_id}/converse-stream", post(converse_stream))
        .route("/model/{model_id}/invoke", post(invoke))
}

/// An AWS-shaped error answer.
fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({"message": message}))).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )) {
        headers.insert("x-amzn-errortype", value);
    }
    headers.insert(
        "x-amzn-requestid",
        HeaderValue::from_static("00000000-0000-0000-0000-00000000e404"),
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
    }
    response
}

/// The exception AWS names for a status (the scripted `error-<status>` faults).
fn exception_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "ValidationException",
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        _ => "InternalServerException",
    }
}

/// Records the request and checks its signature; `Err` is the answer.
fn receive(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Box<Response>> {
    let value = native::record(state, method, uri, headers, body);
    let header_list: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
        .collect();
    let received = sigv4::Received {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers: header_list,
        body,
    };
    if let Err(refusal) = sigv4::verify(&received) {
        let (kind, message) = match refusal {
            sigv4::Refusal::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_owned(),
            ),
            sigv4::Refusal::Incomplete(why) => ("IncompleteSignatureException", why),
            sigv4::Refusal::UnknownKey => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_owned(),
            ),
            sigv4::Refusal::BadSignature => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method."
                    .to_owned(),
            ),
        };
        return Err(Box::new(aws_error(StatusCode::FORBIDDEN, kind, &message)));
    }
    if value.is_null() {
        return Err(Box::new(aws_error(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "the body is not JSON",
        )));
    }
    if value.get("modelId").is_some() {
        return Err(Box::new(aws_error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "modelId is a path member and must not be in the body",
        )));
    }
    Ok(value)
}

/// [`receive`], then the scripted faults that answer before any work; `Err` is the answer.
async fn admit(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    model: &str,
) -> Result<(Value, Script), Box<Response>> {
    let request = receive(state, method, uri, headers, body)?;
    let script = Script::parse(model);
    match early_fault(state, &script, model).await {
        Some(response) => Err(Box::new(response)),
        None => Ok((request, script)),
    }
}

/// `<exceptionName>-after-<k>`: the in-stream exception and after how many content events.
fn stream_exception(model: &str) -> Option<(&str, usize)> {
    let (name, k) = model.rsplit_once("-after-")?;
    (name.ends_with("Exception") && !name.starts_with("stall")).then_some(())?;
    Some((name, k.parse().ok()?))
}

/// The scripted faults that replace the answer outright.
async fn early_fault(state: &AppState, script: &Script, model: &str) -> Option<Response> {
    let message = |status: StatusCode| {
        format!(
            "This is a scripted mock error: status {} requested by model '{model}'.",
            status.as_u16()
        )
    };
    match script.fault {
        Fault::Error(status) => {
            state.shutdown.clone().pause(script.delay).await;
            Some(aws_error(status, exception_for(status), &message(status)))
        }
        Fault::Hang => {
            state.shutdown.clone().wait().await;
            let status = StatusCode::SERVICE_UNAVAILABLE;
            Some(aws_error(status, exception_for(status), &message(status)))
        }
        Fault::None | Fault::Garbage | Fault::Cut(_) | Fault::StallAfter(_) | Fault::Drip(_) => {
            None
        }
    }
}

fn request_id(model: &str, body: &Value) -> String {
    let hash = Fnv::new()
        .write(model.as_bytes())
        .write(body.to_string().as_bytes())
        .finish();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hash >> 32,
        (hash >> 16) & 0xffff,
        hash & 0xffff,
        (hash >> 48) & 0xffff,
        hash & 0xffff_ffff_ffff
    )
}

fn with_request_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn converse(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, script) = match admit(&state, &method, &uri, &headers, &body, &model).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    if let Some((name, _)) = stream_exception(&model) {
        let kind = name[..1].to_ascii_uppercase() + &name[1..];
        let status = match kind.as_str() {
            "ThrottlingException" => StatusCode::TOO_MANY_REQUESTS,
            "ValidationException" => StatusCode::BAD_REQUEST,
            "ServiceUnavailableException" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        return aws_error(status, &kind, "scripted mock exception");
    }
    let plan = converse::plan(&request);
    state.shutdown.clone().pause(script.delay).await;
    let id = request_id(&model, &request);
    with_request_id(
        delivery::json(&converse::render(&plan), script.fault, &state.shutdown),
        &id,
    )
}

async fn converse_stream(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, script) = match admit(&state, &method, &uri, &headers, &body, &model).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let plan = converse::plan(&request);
    let events = converse::stream(&plan);
    let mut frames: Vec<Bytes> = events.events.iter().map(eventstream::event).collect();
    if let Some((name, k)) = stream_exception(&model) {
        let end = (events.opening + k).min(events.finish_at);
        frames.truncate(end);
        frames.push(eventstream::exception(name, "scripted mock exception"));
    }
    let transcript = Transcript {
        opening: events.opening,
        finish_at: events.finish_at,
        frames,
    };
    let mut response = delivery::sse(transcript, script.fault, script.delay, &state.shutdown);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    response.headers_mut().remove(header::CACHE_CONTROL);
    with_request_id(response, &request_id(&model, &request))
}

/// InvokeModel for the embedding models (Titan: one text; Cohere: a list of texts).
async fn invoke(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, script) = match admit(&state, &method, &uri, &headers, &body, &model).await {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let (answer, tokens) = if let Some(text) = request.get("inputText").and_then(Value::as_str) {
        let dimensions = request
            .get("dimensions")
            .and_then(Value::as_u64)
            .unwrap_or(8) as usize;
        let tokens = crate::chat::content::words(text).max(1);
        (
            json!({"embedding": vector(text, dimensions), "inputTextTokenCount": tokens}),
            tokens,
        )
    } else if let Some(texts) = request.get("texts").and_then(Value::as_array) {
        let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
        if request.get("input_type").and_then(Value::as_str).is_none() {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                "Malformed input request: #: required key [input_type] not found",
            );
        }
        let tokens = texts
            .iter()
            .map(|t| crate::chat::content::words(t).max(1))
            .sum();
        (
            json!({"id": request_id(&model, &request), "texts": texts, "response_type": "embeddings_floats",
                   "embeddings": texts.iter().map(|t| vector(t, 8)).collect::<Vec<_>>()}),
            tokens,
        )
    } else {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "Malformed input request: expected inputText (Titan) or texts (Cohere)",
        );
    };
    state.shutdown.clone().pause(script.delay).await;
    let mut response = delivery::json(&answer, script.fault, &state.shutdown);
    if let Ok(value) = HeaderValue::from_str(&tokens.to_string()) {
        response
            .headers_mut()
            .insert("x-amzn-bedrock-input-token-count", value);
    }
    response
}

/// A deterministic unit-ish vector derived from the text's hash.
fn vector(text: &str, dimensions: usize) -> Vec<f64> {
    let mut hash = Fnv::new().write(text.as_bytes()).finish();
    (0..dimensions.clamp(1, 4096))
        .map(|_| {
            hash = hash.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((hash >> 40) as f64 / f64::from(1u32 << 24)) * 2.0 - 1.0
        })
        .collect()
}
