//! The HTTP surface: routes, request recording, authentication.
//!
//! Every OpenAI route is served with and without the `/v1` prefix, because clients differ in
//! whether their base URL carries it. `/__mock/requests` exposes the request log to tests that
//! run the binary rather than link the library.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::Value;

use crate::chat::response::{self, Meta};
use crate::delivery::{self, Shutdown};
use crate::error::ApiError;
use crate::faults::{Fault, Script};
use crate::record::{RecordedRequest, RequestLog};
use crate::{chat, embeddings, ids, models, stream};

/// Request bodies up to this size are accepted: base64 images and audio make big requests.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub api_key: Option<String>,
    pub log: RequestLog,
    pub shutdown: Shutdown,
    completions: AtomicU64,
}

impl AppState {
    pub(crate) fn new(api_key: Option<String>, record_limit: usize, shutdown: Shutdown) -> Self {
        Self {
            api_key,
            log: RequestLog::new(record_limit),
            shutdown,
            completions: AtomicU64::new(0),
        }
    }

    /// Records the request, checks its key and parses its body (`Null` when not JSON).
    fn receive(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or(Value::Null)
        };
        if self.log.enabled() {
            self.log.push(RecordedRequest::new(
                method,
                uri.path(),
                headers,
                value.clone(),
            ));
        }
        self.authenticate(headers)?;
        Ok(value)
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(expected) = &self.api_key else {
            return Ok(());
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        match token {
            Some(token) if token == expected => Ok(()),
            _ => Err(ApiError::invalid_api_key()),
        }
    }

    fn next_completion_id(&self) -> String {
        let n = self.completions.fetch_add(1, Ordering::Relaxed) + 1;
        format!("chatcmpl-mock{n:012}")
    }
}

type AppResult = Result<Response, ApiError>;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/chat/completions", post(chat_completions))
        .route("/v1/embeddings", post(create_embeddings))
        .route("/embeddings", post(create_embeddings))
        .route("/v1/models", get(list_models))
        .route("/models", get(list_models))
        .route("/v1/models/{*id}", get(retrieve_model))
        .route("/models/{*id}", get(retrieve_model))
        .route("/__mock/requests", get(recorded).delete(clear_recorded))
        .merge(crate::azure::routes())
        .merge(crate::ollama::routes())
        .merge(crate::cohere::routes())
        .merge(crate::anthropic::routes())
        .merge(crate::bedrock::routes())
        .merge(crate::google::routes())
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn chat_completions(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult {
    let request = state.receive(&method, &uri, &headers, &body)?;
    let chat = chat::validate(&request)?;
    let script = Script::parse(chat.model);
    if let Some(response) = early_fault(&state, &script, chat.model).await {
        return Ok(response);
    }
    let plan = chat::plan(&request, &chat)?;
    let meta = Meta {
        id: state.next_completion_id(),
        created: ids::now_secs(),
        model: chat.model.to_owned(),
    };
    if chat.stream {
        let transcript = stream::transcript(&meta, &plan, chat.include_usage);
        return Ok(delivery::sse(
            transcript,
            script.fault,
            script.delay,
            &state.shutdown,
        ));
    }
    state.shutdown.clone().pause(script.delay).await;
    let body = response::render(&meta, &plan);
    Ok(delivery::json(&body, script.fault, &state.shutdown))
}

async fn create_embeddings(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult {
    let request = state.receive(&method, &uri, &headers, &body)?;
    let model = embeddings::model(&request)?;
    let script = Script::parse(model);
    if let Some(response) = early_fault(&state, &script, model).await {
        return Ok(response);
    }
    let body = embeddings::respond(&request, model)?;
    state.shutdown.clone().pause(script.delay).await;
    Ok(delivery::json(&body, script.fault, &state.shutdown))
}

/// The faults that replace the answer outright: scripted errors (after the scripted delay)
/// and hangs (which end only when the server shuts down).
async fn early_fault(state: &AppState, script: &Script, model: &str) -> Option<Response> {
    match script.fault {
        Fault::Error(status) => {
            state.shutdown.clone().pause(script.delay).await;
            Some(ApiError::scripted(status, model).into_response())
        }
        Fault::Hang => {
            state.shutdown.clone().wait().await;
            Some(ApiError::scripted(StatusCode::SERVICE_UNAVAILABLE, model).into_response())
        }
        Fault::None | Fault::Garbage | Fault::Cut(_) | Fault::StallAfter(_) | Fault::Drip(_) => {
            None
        }
    }
}

async fn list_models(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult {
    state.receive(&method, &uri, &headers, &[])?;
    Ok(axum::Json(models::list()).into_response())
}

async fn retrieve_model(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult {
    state.receive(&method, &uri, &headers, &[])?;
    match models::get(&id) {
        Some(model) => Ok(axum::Json(model).into_response()),
        None => Err(ApiError::not_found(
            format!("The model '{id}' does not exist or you do not have access to it."),
            Some("model_not_found"),
        )),
    }
}

async fn recorded(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.log.snapshot()).into_response()
}

async fn clear_recorded(State(state): State<Arc<AppState>>) -> StatusCode {
    state.log.clear();
    StatusCode::NO_CONTENT
}

/// OpenAI's answer to an unknown path; the request is recorded so a test can see what the
/// gateway asked for by mistake.
async fn unknown_route(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult {
    state.receive(&method, &uri, &headers, &body)?;
    Err(ApiError::not_found(
        format!("Invalid URL ({method} {})", uri.path()),
        None,
    ))
}
