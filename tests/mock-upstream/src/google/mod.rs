//! A mock of Google's Gemini APIs: Google AI Studio and Vertex AI (same bodies, other URLs
//! and credentials), plus Google's OAuth2 token endpoint.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1beta/models/{model}:{method}`, `/v1/models/...` | Gemini (`x-goog-api-key`) |
//! | `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}`, `/v1beta1/...` | Vertex (`Authorization: Bearer`) |
//! | `POST /v1/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:rawPredict`, `:streamRawPredict` | Claude on Vertex (Anthropic body, see [`partner`]) |
//! | `POST /token` | JWT bearer grant → access token for the Vertex routes |
//!
//! Methods: `generateContent`, `streamGenerateContent?alt=sse`, `embedContent`,
//! `batchEmbedContents` (Gemini), `predict` (Vertex embeddings). The model name selects the
//! same scripted faults as the OpenAI routes (`error-<status>`, `garbage`, `cut-<k>`, `hang`,
//! `stall-after-<k>`, `slow-<ms>`), errors in Google's shape.

mod auth;
mod chat;
mod embed;
mod errors;
mod partner;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use serde_json::Value;

use crate::delivery;
use crate::faults::{Fault, Script};
use crate::native;
use crate::routes::AppState;
use auth::Tokens;
use errors::GoogleError;

/// What the Google routes keep between requests.
#[derive(Debug, Default)]
struct GoogleState {
    tokens: Tokens,
    responses: AtomicU64,
}

/// The Google routes, to merge into the mock's router.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    let vertex = "/projects/{project}/locations/{location}/publishers/{publisher}/models/{*id}";
    Router::new()
        .route("/v1beta/models/{*id}", post(gemini))
        .route("/v1/models/{*id}", post(gemini))
        .route(&format!("/v1{vertex}"), post(vertex_ai))
        .route(&format!("/v1beta1{vertex}"), post(vertex_ai))
        .route("/token", post(token))
        .layer(Extension(Arc::new(GoogleState::default())))
}

async fn token(
    State(state): State<Arc<AppState>>,
    Extension(google): Extension<Arc<GoogleState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    native::record(&state, &method, &uri, &headers, &body);
    auth::token(&body, &google.tokens)
}

async fn gemini(
    State(state): State<Arc<AppState>>,
    Extension(google): Extension<Arc<GoogleState>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = native::record(&state, &method, &uri, &headers, &body);
    if let Err(error) = auth::check_api_key(&headers, uri.query(), state.api_key.as_deref()) {
        return error.into_response();
    }
    serve(&state, &google, &id, uri.query(), false, request).await
}

async fn vertex_ai(
    State(state): State<Arc<AppState>>,
    Extension(google): Extension<Arc<GoogleState>>,
    Path((_project, _location, publisher, id)): Path<(String, String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = native::record(&state, &method, &uri, &headers, &body);
    if let Err(error) = auth::check_bearer(&headers, &google.tokens, state.api_key.as_deref()) {
        return error.into_response();
    }
    if publisher == "anthropic" {
        let (model, rpc) = id.rsplit_once(':').unwrap_or((id.as_str(), ""));
        return partner::raw_predict(&state, model, rpc, request).await;
    }
    if publisher != "google" {
        return GoogleError::new(
            StatusCode::NOT_FOUND,
            format!("Publisher Model `{publisher}/{id}` is not served by this mock."),
        )
        .into_response();
    }
    serve(&state, &google, &id, uri.query(), true, request).await
}

/// One `{model}:{method}` call, after authentication.
async fn serve(
    state: &AppState,
    google: &GoogleState,
    id: &str,
    query: Option<&str>,
    vertex: bool,
    request: Value,
) -> Response {
    let Some((model, rpc)) = id.rsplit_once(':') else {
        return GoogleError::new(StatusCode::NOT_FOUND, format!("unknown method on `{id}`"))
            .into_response();
    };
    if !request.is_object() {
        return GoogleError::invalid("Invalid JSON payload received.").into_response();
    }
    let script = Script::parse(model);
    match script.fault {
        Fault::Error(status) => {
            state.shutdown.clone().pause(script.delay).await;
            return GoogleError::scripted(status, model).into_response();
        }
        Fault::Hang => {
            state.shutdown.clone().wait().await;
            return GoogleError::scripted(StatusCode::SERVICE_UNAVAILABLE, model).into_response();
        }
        Fault::None | Fault::Garbage | Fault::Cut(_) | Fault::StallAfter(_) | Fault::Drip(_) => {}
    }
    let answer = match (rpc, vertex) {
        ("generateContent" | "streamGenerateContent", _) => chat::plan(&request),
        ("embedContent", false) => {
            return json(state, &script, embed::embed_content(&request)).await;
        }
        ("batchEmbedContents", false) => {
            return json(state, &script, embed::batch_embed_contents(&request)).await;
        }
        ("predict", true) => return json(state, &script, embed::predict(&request)).await,
        _ => {
            return GoogleError::new(StatusCode::NOT_FOUND, format!("Method `{rpc}` not found."))
                .into_response();
        }
    };
    let plan = match answer {
        Ok(plan) => plan,
        Err(error) => return error.into_response(),
    };
    let n = google.responses.fetch_add(1, Ordering::Relaxed) + 1;
    let meta = chat::Meta {
        model,
        response_id: format!("mockResp{n:012}"),
        vertex,
    };
    if rpc == "streamGenerateContent" {
        if !query.is_some_and(|q| q.split('&').any(|p| p == "alt=sse")) {
            return GoogleError::invalid("this mock streams only with ?alt=sse").into_response();
        }
        return delivery::sse(
            plan.transcript(&meta),
            script.fault,
            script.delay,
            &state.shutdown,
        );
    }
    state.shutdown.clone().pause(script.delay).await;
    delivery::json(&plan.render(&meta), script.fault, &state.shutdown)
}

async fn json(state: &AppState, script: &Script, body: Result<Value, GoogleError>) -> Response {
    match body {
        Ok(body) => {
            state.shutdown.clone().pause(script.delay).await;
            delivery::json(&body, script.fault, &state.shutdown)
        }
        Err(error) => error.into_response(),
    }
}
