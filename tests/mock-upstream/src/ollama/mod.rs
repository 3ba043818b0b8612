//! Ollama's native API: `POST /api/chat` (one JSON body, or NDJSON lines when `stream` is not
//! `false`, Ollama's default) and `POST /api/embed`.
//!
//! The request is read into the OpenAI mock's planner (images become image parts, `format`
//! becomes `response_format`, `options.num_predict` the token limit), so the answer is the same
//! deterministic echo, rendered in Ollama's shape: no ids anywhere, tool calls with their
//! arguments as JSON objects, `done_reason` `stop` even after tool calls, usage as
//! `prompt_eval_count` / `eval_count` with durations, and with `think` a `thinking` trace.
//! Errors are `{"error": "..."}`. A key, when the mock has one, is a bearer token (ollama.com).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::chat::{self, ChatPlan, ChatRequest, Output};
use crate::native::{self, Admitted, Refusals};
use crate::routes::AppState;
use crate::stream::Transcript;
use crate::{delivery, embeddings};

/// A fixed timestamp: the mock is deterministic, and clients only parse it.
const CREATED_AT: &str = "2025-07-07T20:22:19.184789Z";
/// What the mock "thinks" when asked to.
const THINKING: &str = "The user wants an echo. I will echo.";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/chat", post(chat_handler))
        .route("/api/embed", post(embed_handler))
}

fn ollama_error(status: StatusCode, message: &str) -> Response {
    native::error_answer(status, json!({ "error": message }))
}

const REFUSALS: Refusals = Refusals {
    error: ollama_error,
    unauthorized: "unauthorized",
    model_required: "model is required",
};

/// The native request as the OpenAI planner reads it.
fn as_openai(request: &Value) -> Value {
    let messages: Vec<Value> = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let text = m["content"].as_str().unwrap_or_default();
            let images = m["images"].as_array().map_or(0, Vec::len);
            let content = if images == 0 {
                json!(text)
            } else {
                let mut parts = vec![json!({"type": "text", "text": text})];
                parts.extend(
                    (0..images)
                        .map(|_| json!({"type": "image_url", "image_url": {"url": "data:"}})),
                );
                Value::Array(parts)
            };
            json!({"role": m["role"], "content": content})
        })
        .collect();
    let mut openai = json!({"model": request["model"], "messages": messages});
    if let Some(tools) = request.get("tools").filter(|t| t.is_array()) {
        openai["tools"] = tools.clone();
    }
    match request.get("format") {
        Some(Value::String(_)) => openai["response_format"] = json!({"type": "json_object"}),
        Some(schema @ Value::Object(_)) => {
            openai["response_format"] =
                json!({"type": "json_schema", "json_schema": {"name": "format", "schema": schema}});
        }
        _ => {}
    }
    if let Some(max) = request.pointer("/options/num_predict") {
        openai["max_tokens"] = max.clone();
    }
    openai
}

fn done_reason(plan: &ChatPlan) -> &'static str {
    if plan.finish_reason == "length" {
        "length"
    } else {
        "stop"
    }
}

fn tool_calls(plan: &ChatPlan) -> Option<Value> {
    match &plan.output {
        Output::ToolCalls(calls) => Some(Value::Array(
            calls
                .iter()
                .map(|c| {
                    let arguments: Value = serde_json::from_str(&c.arguments).unwrap_or(json!({}));
                    json!({"function": {"name": c.name, "arguments": arguments}})
                })
                .collect(),
        )),
        Output::Text(_) => None,
    }
}

/// The closing fields of every final answer.
fn final_fields(line: &mut Value, plan: &ChatPlan) {
    line["done"] = json!(true);
    line["done_reason"] = json!(done_reason(plan));
    line["total_duration"] = json!(4_883_583_458u64);
    line["load_duration"] = json!(1_334_875u64);
    line["prompt_eval_count"] = json!(plan.prompt_tokens);
    line["prompt_eval_duration"] = json!(342_546_000u64);
    line["eval_count"] = json!(plan.completion_tokens);
    line["eval_duration"] = json!(4_535_599_000u64);
}

fn thinks(request: &Value) -> bool {
    match request.get("think") {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(_)) => true,
        _ => false,
    }
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
        return ollama_error(StatusCode::BAD_REQUEST, "messages are required");
    };
    let chat = ChatRequest {
        model: &model,
        // Ollama streams unless told not to.
        stream: request.get("stream").and_then(Value::as_bool) != Some(false),
        include_usage: false,
        messages,
    };
    let plan = match chat::plan(&openai, &chat) {
        Ok(plan) => plan,
        Err(error) => return ollama_error(error.status, &error.message),
    };
    let thinking = thinks(&request);
    if chat.stream {
        let transcript = transcript(&model, &plan, thinking);
        let mut response = delivery::sse(transcript, script.fault, script.delay, &state.shutdown);
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return response;
    }
    state.shutdown.clone().pause(script.delay).await;
    let mut message = json!({"role": "assistant", "content": ""});
    match &plan.output {
        Output::Text(text) => message["content"] = json!(text),
        Output::ToolCalls(_) => message["tool_calls"] = tool_calls(&plan).unwrap_or_default(),
    }
    if thinking {
        message["thinking"] = json!(THINKING);
    }
    let mut body = json!({"model": model, "created_at": CREATED_AT, "message": message});
    final_fields(&mut body, &plan);
    delivery::json(&body, script.fault, &state.shutdown)
}

/// NDJSON lines: thinking words, content words (or one line with every tool call), then the
/// final line with `done: true` and the counts.
fn transcript(model: &str, plan: &ChatPlan, thinking: bool) -> Transcript {
    let line = |message: Value| {
        let value =
            json!({"model": model, "created_at": CREATED_AT, "message": message, "done": false});
        Bytes::from(format!("{value}\n"))
    };
    let mut frames = Vec::new();
    if thinking {
        for word in THINKING.split_inclusive(' ') {
            frames.push(line(
                json!({"role": "assistant", "content": "", "thinking": word}),
            ));
        }
    }
    match &plan.output {
        Output::Text(text) => {
            for word in text.split_inclusive(' ') {
                frames.push(line(json!({"role": "assistant", "content": word})));
            }
        }
        Output::ToolCalls(_) => frames.push(line(
            json!({"role": "assistant", "content": "", "tool_calls": tool_calls(plan)}),
        )),
    }
    let finish_at = frames.len();
    let mut last = json!({"model": model, "created_at": CREATED_AT, "message": {"role": "assistant", "content": ""}});
    final_fields(&mut last, plan);
    frames.push(Bytes::from(format!("{last}\n")));
    Transcript {
        frames,
        opening: 0,
        finish_at,
    }
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
    let mut openai = json!({"model": model, "input": request["input"]});
    if let Some(dimensions) = request.get("dimensions") {
        openai["dimensions"] = dimensions.clone();
    }
    let answer = match embeddings::respond(&openai, &model) {
        Ok(answer) => answer,
        Err(error) => return ollama_error(error.status, &error.message),
    };
    let vectors = native::vectors(&answer);
    let body = json!({
        "model": model,
        "embeddings": vectors,
        "total_duration": 14_143_917u64,
        "load_duration": 1_019_500u64,
        "prompt_eval_count": answer["usage"]["prompt_tokens"],
    });
    state.shutdown.clone().pause(script.delay).await;
    delivery::json(&body, script.fault, &state.shutdown)
}
