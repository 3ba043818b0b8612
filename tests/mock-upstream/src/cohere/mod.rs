//! Cohere v2: `POST /v2/chat` (one JSON body, or named SSE events with `stream: true`) and
//! `POST /v2/embed`.
//!
//! The request is read into the OpenAI mock's planner (Cohere's messages and function tools
//! are already OpenAI-shaped; `response_format.json_schema`, `tool_choice` `REQUIRED`/`NONE`
//! and `max_tokens` are mapped), so the answer is the same deterministic echo, rendered the
//! way Cohere answers: content as typed parts, a `tool_plan` before tool calls, tool-call ids
//! like `get_weather_<hex>`, upper-case finish reasons, usage as `billed_units` and `tokens`,
//! and with `thinking` enabled a thinking part. Errors are `{"id", "message"}` bodies; the
//! key is a bearer token.

mod stream;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::chat::{self, ChatPlan, ChatRequest, Output};
use crate::ids::Fnv;
use crate::native::{self, Admitted, Refusals};
use crate::routes::AppState;
use crate::{delivery, embeddings};

/// What the mock "thinks" when thinking is enabled.
pub(crate) const THINKING: &str = "The user wants an echo, so I echo.";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v2/chat", post(chat_handler))
        .route("/v2/embed", post(embed_handler))
}

/// A deterministic UUID-shaped id for a request body.
pub(crate) fn uuid_for(body: &[u8]) -> String {
    let a = Fnv::new().write(body).finish();
    let b = Fnv::new().write(b"cohere").write(body).finish();
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn cohere_error(status: StatusCode, message: &str) -> Response {
    native::error_answer(
        status,
        json!({"id": uuid_for(message.as_bytes()), "message": message}),
    )
}

const REFUSALS: Refusals = Refusals {
    error: cohere_error,
    unauthorized: "invalid api token",
    model_required: "invalid request: model must be a string",
};

/// The native request as the OpenAI planner reads it.
fn as_openai(request: &Value) -> Value {
    let mut openai = json!({"model": request["model"], "messages": request["messages"]});
    if let Some(tools) = request.get("tools").filter(|t| t.is_array()) {
        openai["tools"] = tools.clone();
    }
    match request.pointer("/response_format/json_schema") {
        Some(schema) => {
            openai["response_format"] =
                json!({"type": "json_schema", "json_schema": {"name": "format", "schema": schema}});
        }
        None if request.pointer("/response_format/type").is_some() => {
            openai["response_format"] = json!({"type": "json_object"});
        }
        None => {}
    }
    match request.get("tool_choice").and_then(Value::as_str) {
        Some("REQUIRED") => openai["tool_choice"] = json!("required"),
        Some("NONE") => openai["tool_choice"] = json!("none"),
        _ => {}
    }
    if let Some(max) = request.get("max_tokens") {
        openai["max_tokens"] = max.clone();
    }
    openai
}

pub(crate) fn finish_reason(plan: &ChatPlan) -> &'static str {
    match plan.finish_reason {
        "length" => "MAX_TOKENS",
        "tool_calls" => "TOOL_CALL",
        _ => "COMPLETE",
    }
}

pub(crate) fn usage(plan: &ChatPlan) -> Value {
    json!({
        "billed_units": {"input_tokens": plan.prompt_tokens, "output_tokens": plan.completion_tokens},
        // Cohere's own count includes its prompt template.
        "tokens": {"input_tokens": plan.prompt_tokens + 480, "output_tokens": plan.completion_tokens},
    })
}

/// Cohere-style tool calls: ids `<name>_<hex>`, arguments serialized.
pub(crate) fn tool_calls(plan: &ChatPlan) -> Vec<Value> {
    match &plan.output {
        Output::ToolCalls(calls) => calls
            .iter()
            .map(|c| {
                let hex = Fnv::new().write(c.id.as_bytes()).finish();
                json!({"id": format!("{}_{:012x}", c.name, hex & 0xffff_ffff_ffff), "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect(),
        Output::Text(_) => Vec::new(),
    }
}

pub(crate) fn tool_plan(plan: &ChatPlan) -> String {
    match &plan.output {
        Output::ToolCalls(calls) => {
            let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
            format!("I will use {} to answer.", names.join(" and "))
        }
        Output::Text(_) => String::new(),
    }
}

fn thinks(request: &Value) -> bool {
    request.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled")
}

async fn chat_handler(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Admitted {
        request,
        model,
        script,
    } = match native::admit(&state, &method, &uri, &headers, &body, &REFUSALS).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let openai = as_openai(&request);
    let Some(messages) = openai["messages"].as_array().filter(|m| !m.is_empty()) else {
        return cohere_error(
            StatusCode::BAD_REQUEST,
            "invalid request: messages must not be empty",
        );
    };
    let chat = ChatRequest {
        model: &model,
        stream: request.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: false,
        messages,
    };
    let plan = match chat::plan(&openai, &chat) {
        Ok(plan) => plan,
        Err(error) => return cohere_error(error.status, &error.message),
    };
    let id = uuid_for(&body);
    let thinking = thinks(&request);
    if chat.stream {
        let transcript = stream::transcript(&id, &plan, thinking);
        return delivery::sse(transcript, script.fault, script.delay, &state.shutdown);
    }
    state.shutdown.clone().pause(script.delay).await;
    let mut content = Vec::new();
    if thinking {
        content.push(json!({"type": "thinking", "thinking": THINKING}));
    }
    let mut message = json!({"role": "assistant"});
    match &plan.output {
        Output::Text(text) => content.push(json!({"type": "text", "text": text})),
        Output::ToolCalls(_) => {
            message["tool_plan"] = json!(tool_plan(&plan));
            message["tool_calls"] = json!(tool_calls(&plan));
        }
    }
    if !content.is_empty() {
        message["content"] = json!(content);
    }
    let body = json!({
        "id": id,
        "message": message,
        "finish_reason": finish_reason(&plan),
        "usage": usage(&plan),
    });
    delivery::json(&body, script.fault, &state.shutdown)
}

async fn embed_handler(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Admitted {
        request,
        model,
        script,
    } = match native::admit(&state, &method, &uri, &headers, &body, &REFUSALS).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if request.get("input_type").and_then(Value::as_str).is_none() {
        return cohere_error(
            StatusCode::BAD_REQUEST,
            "invalid request: input_type is required for embedding models v3 and higher",
        );
    }
    let mut openai = json!({"model": model, "input": request["texts"]});
    if let Some(dimensions) = request.get("output_dimension") {
        openai["dimensions"] = dimensions.clone();
    }
    let answer = match embeddings::respond(&openai, &model) {
        Ok(answer) => answer,
        Err(error) => return cohere_error(error.status, &error.message),
    };
    let vectors = native::vectors(&answer);
    let body = json!({
        "id": uuid_for(&body),
        "embeddings": {"float": vectors},
        "texts": request["texts"],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": answer["usage"]["prompt_tokens"]}},
        "response_type": "embeddings_by_type",
    });
    state.shutdown.clone().pause(script.delay).await;
    delivery::json(&body, script.fault, &state.shutdown)
}
