//! Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions?api-version=...` and
//! `.../embeddings`.
//!
//! The answers are the OpenAI mock's, with Azure's real additions: `prompt_filter_results` on
//! the body, `content_filter_results` on every choice, and a first stream chunk that has no
//! choices (only the prompt's filter results, with empty `id`, `model` and `object`). The key
//! comes in `api-key` (or as an Azure AD `Authorization: Bearer` token); the deployment name in
//! the path, not the body's `model`, picks the scripted fault. The deployment `content-filter`
//! answers Azure's 400 `content_filter` error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::{self, response::Meta};
use crate::faults::Script;
use crate::native;
use crate::routes::AppState;
use crate::stream::Transcript;
use crate::{delivery, embeddings, ids};

/// The deployment that trips the content filter on the prompt.
const CONTENT_FILTER_DEPLOYMENT: &str = "content-filter";

static COMPLETIONS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(chat_completions),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            post(create_embeddings),
        )
}

#[derive(Debug, Deserialize)]
struct Version {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

/// An Azure-shaped error: `{"error": {"code", "message"}}`, with `Retry-After` on 429s.
fn azure_error(status: StatusCode, code: &str, message: &str) -> Response {
    native::error_answer(status, json!({"error": {"code": code, "message": message}}))
}

/// Records the request, then checks the API version and the credential; `Err` is the answer.
#[allow(
    clippy::result_large_err,
    reason = "the error is the finished HTTP answer, returned at once; boxing buys nothing"
)]
fn receive(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    version: &Version,
) -> Result<Value, Response> {
    let value = native::record(state, method, uri, headers, body);
    if version.api_version.as_deref().is_none_or(str::is_empty) {
        return Err(azure_error(
            StatusCode::NOT_FOUND,
            "404",
            "Resource not found",
        ));
    }
    if let Some(expected) = &state.api_key {
        let key = headers.get("api-key").and_then(|v| v.to_str().ok());
        let bearer = native::bearer(headers);
        if key != Some(expected) && bearer != Some(expected) {
            return Err(azure_error(
                StatusCode::UNAUTHORIZED,
                "401",
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure \
                 to provide a valid key for an active subscription and use a correct regional \
                 API endpoint for your resource.",
            ));
        }
    }
    if !value.is_object() {
        return Err(azure_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the request body is not a JSON object",
        ));
    }
    Ok(value)
}

/// Scripted errors and hangs, read from the deployment name.
async fn early_fault(state: &AppState, script: &Script, deployment: &str) -> Option<Response> {
    native::early_fault(
        state,
        script,
        &format!("deployment '{deployment}'"),
        |status, message| azure_error(status, status.as_str(), message),
    )
    .await
}

fn filter_results() -> Value {
    json!({
        "hate": {"filtered": false, "severity": "safe"},
        "self_harm": {"filtered": false, "severity": "safe"},
        "sexual": {"filtered": false, "severity": "safe"},
        "violence": {"filtered": false, "severity": "safe"},
    })
}

fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": filter_results()}])
}

async fn chat_completions(
    State(state): State<Arc<AppState>>,
    Path(deployment): Path<String>,
    Query(version): Query<Version>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = match receive(&state, &method, &uri, &headers, &body, &version) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if deployment == CONTENT_FILTER_DEPLOYMENT {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
                "type": null,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {
                        "hate": {"filtered": true, "severity": "high"},
                        "jailbreak": {"filtered": false, "detected": false},
                        "self_harm": {"filtered": false, "severity": "safe"},
                        "sexual": {"filtered": false, "severity": "safe"},
                        "violence": {"filtered": false, "severity": "safe"},
                    },
                },
            }})),
        )
            .into_response();
    }
    // Azure routes by the path; the body's `model` is optional and ignored.
    request["model"] = json!(deployment);
    let script = Script::parse(&deployment);
    if let Some(response) = early_fault(&state, &script, &deployment).await {
        return response;
    }
    let chat = match chat::validate(&request) {
        Ok(chat) => chat,
        Err(error) => return error.into_response(),
    };
    let plan = match chat::plan(&request, &chat) {
        Ok(plan) => plan,
        Err(error) => return error.into_response(),
    };
    let n = COMPLETIONS.fetch_add(1, Ordering::Relaxed) + 1;
    let meta = Meta {
        id: format!("chatcmpl-azure{n:010}"),
        created: ids::now_secs(),
        model: "gpt-4o-2024-08-06".to_owned(),
    };
    if chat.stream {
        let transcript =
            azure_transcript(crate::stream::transcript(&meta, &plan, chat.include_usage));
        return delivery::sse(transcript, script.fault, script.delay, &state.shutdown);
    }
    state.shutdown.clone().pause(script.delay).await;
    let mut body = chat::response::render(&meta, &plan);
    body["prompt_filter_results"] = prompt_filter_results();
    if let Some(choices) = body["choices"].as_array_mut() {
        for choice in choices {
            choice["content_filter_results"] = filter_results();
        }
    }
    delivery::json(&body, script.fault, &state.shutdown)
}

/// The OpenAI transcript as Azure streams it: a leading chunk with only the prompt's filter
/// results, and filter results on every choice.
fn azure_transcript(openai: Transcript) -> Transcript {
    let first = json!({
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": prompt_filter_results(),
    });
    let mut frames = vec![Bytes::from(format!("data: {first}\n\n"))];
    for frame in openai.frames {
        let parsed = std::str::from_utf8(&frame)
            .ok()
            .and_then(|f| f.strip_prefix("data: "))
            .and_then(|f| serde_json::from_str::<Value>(f.trim_end()).ok());
        match parsed {
            Some(mut chunk) if chunk.is_object() => {
                if let Some(choices) = chunk["choices"].as_array_mut() {
                    for choice in choices {
                        choice["content_filter_results"] = json!({});
                    }
                }
                frames.push(Bytes::from(format!("data: {chunk}\n\n")));
            }
            _ => frames.push(frame),
        }
    }
    Transcript {
        frames,
        opening: openai.opening + 1,
        finish_at: openai.finish_at + 1,
    }
}

async fn create_embeddings(
    State(state): State<Arc<AppState>>,
    Path(deployment): Path<String>,
    Query(version): Query<Version>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = match receive(&state, &method, &uri, &headers, &body, &version) {
        Ok(request) => request,
        Err(response) => return response,
    };
    request["model"] = json!(deployment);
    let script = Script::parse(&deployment);
    if let Some(response) = early_fault(&state, &script, &deployment).await {
        return response;
    }
    match embeddings::respond(&request, "text-embedding-3-small") {
        Ok(body) => {
            state.shutdown.clone().pause(script.delay).await;
            delivery::json(&body, script.fault, &state.shutdown)
        }
        Err(error) => error.into_response(),
    }
}
