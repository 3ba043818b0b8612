//! `POST /v1/chat/completions`: what the mock answers, decided once per request.
//!
//! [`plan`] reads the request and decides the reply (text or tool calls), the finish
//! reason and the usage; [`response`] renders it as one JSON body and
//! [`crate::stream`] as SSE chunks, so both forms always say the same thing.

pub(crate) mod content;
pub(crate) mod response;
pub(crate) mod tools;

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::schema::{self, Fill};
use tools::ToolCall;

/// Upper bound on `n`, so one request cannot make the mock build an unbounded response.
const MAX_CHOICES: u64 = 128;

/// What the assistant says in each choice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    Text(String),
    ToolCalls(Vec<ToolCall>),
}

/// The decided answer to one chat request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatPlan {
    pub output: Output,
    pub finish_reason: &'static str,
    /// Number of identical choices.
    pub n: usize,
    pub prompt_tokens: u64,
    /// Over all choices, as OpenAI counts them.
    pub completion_tokens: u64,
}

/// The request fields the router needs before planning: the model and whether to stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatRequest<'a> {
    pub model: &'a str,
    pub stream: bool,
    pub include_usage: bool,
    pub messages: &'a [Value],
}

/// Checks the fields every chat request must have.
pub(crate) fn validate(request: &Value) -> Result<ChatRequest<'_>, ApiError> {
    if !request.is_object() {
        return Err(ApiError::bad_json());
    }
    let model = match request.get("model") {
        Some(Value::String(m)) => m.as_str(),
        Some(_) => {
            return Err(ApiError::invalid(
                "'model' must be a string.",
                Some("model"),
            ));
        }
        None => return Err(ApiError::missing("model")),
    };
    let messages = match request.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m.as_slice(),
        Some(Value::Array(_)) => {
            return Err(ApiError::invalid(
                "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                Some("messages"),
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "'messages' must be an array.",
                Some("messages"),
            ));
        }
        None => return Err(ApiError::missing("messages")),
    };
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let include_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    Ok(ChatRequest {
        model,
        stream,
        include_usage,
        messages,
    })
}

/// Decides the deterministic answer to a validated request.
pub(crate) fn plan(request: &Value, chat: &ChatRequest<'_>) -> Result<ChatPlan, ApiError> {
    let n = request
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, MAX_CHOICES);
    let prompt_tokens = content::prompt_tokens(chat.messages);
    let calls = tools::plan(request, chat.messages)?;
    let (output, finish_reason, per_choice) = if calls.is_empty() {
        let (text, finish_reason) = reply_text(request, chat.messages);
        let words = content::words(&text);
        (Output::Text(text), finish_reason, words)
    } else {
        let words: u64 = calls.iter().map(|c| content::words(&c.arguments)).sum();
        (Output::ToolCalls(calls), "tool_calls", words.max(1))
    };
    Ok(ChatPlan {
        output,
        finish_reason,
        n: usize::try_from(n).unwrap_or(1),
        prompt_tokens,
        completion_tokens: per_choice * n,
    })
}

/// The text reply and its finish reason.
fn reply_text(request: &Value, messages: &[Value]) -> (String, &'static str) {
    if let Some(last) = messages
        .last()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
    {
        return (
            format!("echo: tool result: {}", content::text_of(last)),
            "stop",
        );
    }
    let user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(content::text_of)
        .unwrap_or_default();
    match request
        .pointer("/response_format/type")
        .and_then(Value::as_str)
    {
        Some("json_schema") => {
            let schema = request
                .pointer("/response_format/json_schema/schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            return (
                schema::sample(&schema, &schema, Fill::All).to_string(),
                "stop",
            );
        }
        Some("json_object") => return (json!({ "echo": user }).to_string(), "stop"),
        _ => {}
    }
    let mut text = format!("echo: {user}");
    for (kind, label) in [("image_url", "images"), ("input_audio", "audio")] {
        let count = content::count_parts(messages, kind);
        if count > 0 {
            // No double space when the message had no text besides the media.
            text.truncate(text.trim_end().len());
            text.push_str(&format!(" [{label}: {count}]"));
        }
    }
    let max_tokens = request
        .get("max_completion_tokens")
        .or_else(|| request.get("max_tokens"))
        .and_then(Value::as_u64);
    // A reply that fits is a natural stop, as with a real model; only a cut one is `length`.
    match max_tokens.and_then(|max| content::truncate_words(&text, max)) {
        Some(short) => (short, "length"),
        None => (text, "stop"),
    }
}

#[cfg(test)]
mod tests;
