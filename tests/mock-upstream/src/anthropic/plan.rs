//! What the Anthropic mock answers, decided once per request, and its JSON `Message` body.
//!
//! Deterministic like the OpenAI mock: text echoes the last user turn (`"echo: " + text`,
//! `[images: N]` appended), a conversation ending in a `tool_result` is answered in text,
//! tools are called with arguments sampled from their `input_schema`, thinking (when enabled)
//! is one block before the answer, and usage counts words.

use serde_json::{Value, json};

use crate::chat::content::{truncate_words, words};
use crate::ids::Fnv;
use crate::schema::{self, Fill};

/// One content block of the answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Thinking(String),
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// The decided answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub blocks: Vec<Block>,
    pub stop_reason: &'static str,
    pub stop_sequence: Option<String>,
    pub input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

/// Signature of the mock's thinking blocks (real ones are opaque base64).
pub(crate) const SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";

/// The text of a `content` value: the string, or its text blocks joined by a space.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn blocks_of<'a>(message: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |b| b.get("type").and_then(Value::as_str) == Some(kind))
}

/// Whether any block, system block or tool carries a `cache_control` breakpoint.
fn has_cache_breakpoint(request: &Value) -> bool {
    fn walk(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                map.contains_key("cache_control") && !map["cache_control"].is_null()
                    || map.values().any(walk)
            }
            Value::Array(items) => items.iter().any(walk),
            _ => false,
        }
    }
    ["system", "messages", "tools"]
        .iter()
        .filter_map(|key| request.get(*key))
        .any(walk)
}

pub(crate) fn plan(request: &Value, messages: &[Value]) -> Plan {
    let last = messages.last();
    let results: Vec<String> = last
        .map(|m| {
            blocks_of(m, "tool_result")
                .map(|b| text_of(b.get("content")))
                .collect()
        })
        .unwrap_or_default();
    let user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content")))
        .unwrap_or_default();
    let mut blocks = Vec::new();
    if request.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled") {
        blocks.push(Block::Thinking(format!("thinking about: {user}")));
    }
    let calls = if results.is_empty() {
        tool_calls(request, messages)
    } else {
        Vec::new()
    };
    let (stop_reason, stop_sequence) = if calls.is_empty() {
        let mut text = if results.is_empty() {
            format!("echo: {user}")
        } else {
            format!("echo: tool result: {}", results.join(" "))
        };
        let images: usize = messages.iter().map(|m| blocks_of(m, "image").count()).sum();
        if images > 0 {
            text.truncate(text.trim_end().len());
            text.push_str(&format!(" [images: {images}]"));
        }
        let (text, reason, sequence) = stop(request, text);
        blocks.push(Block::Text(text));
        (reason, sequence)
    } else {
        blocks.extend(calls);
        ("tool_use", None)
    };
    let system = text_of(request.get("system"));
    let prompt: u64 = words(&system)
        + messages
            .iter()
            .map(|m| words(&text_of(m.get("content"))))
            .sum::<u64>();
    let prompt = prompt.max(1);
    // With a cache breakpoint the mock says the whole prompt but one token came from cache.
    let cache_read = if has_cache_breakpoint(request) {
        prompt.saturating_sub(1)
    } else {
        0
    };
    let output_tokens = blocks
        .iter()
        .map(|b| match b {
            Block::Thinking(t) | Block::Text(t) => words(t),
            Block::ToolUse { input, .. } => words(&input.to_string()),
        })
        .sum::<u64>()
        .max(1);
    Plan {
        blocks,
        stop_reason,
        stop_sequence,
        input_tokens: prompt - cache_read,
        cache_read_input_tokens: cache_read,
        output_tokens,
    }
}

/// Applies `stop_sequences` and `max_tokens` to the reply text.
fn stop(request: &Value, text: String) -> (String, &'static str, Option<String>) {
    let sequences = request
        .get("stop_sequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for sequence in sequences {
        if let Some(at) = text.find(sequence).filter(|_| !sequence.is_empty()) {
            return (
                text[..at].to_owned(),
                "stop_sequence",
                Some(sequence.to_owned()),
            );
        }
    }
    let max = request.get("max_tokens").and_then(Value::as_u64);
    match max.and_then(|max| truncate_words(&text, max)) {
        Some(short) => (short, "max_tokens", None),
        None => (text, "end_turn", None),
    }
}

/// Tool calls per `tool_choice`: `tool` the named one, `any` every tool (one with
/// `disable_parallel_tool_use`), `auto` the first, `none` nothing.
fn tool_calls(request: &Value, messages: &[Value]) -> Vec<Block> {
    let tools: Vec<&Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("input_schema").is_some())
        .collect();
    let choice = request.get("tool_choice");
    let kind = choice
        .and_then(|c| c.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("auto");
    let single = choice
        .and_then(|c| c.get("disable_parallel_tool_use"))
        .and_then(Value::as_bool)
        == Some(true);
    let chosen: Vec<&Value> = match kind {
        "none" => Vec::new(),
        "tool" => {
            let name = choice.and_then(|c| c.get("name")).and_then(Value::as_str);
            tools
                .into_iter()
                .filter(|t| t.get("name").and_then(Value::as_str) == name)
                .take(1)
                .collect()
        }
        "any" if !single => tools,
        _ => tools.into_iter().take(1).collect(),
    };
    let seed = Fnv::new()
        .write(&messages.len().to_le_bytes())
        .write(user_text(messages).as_bytes());
    chosen
        .into_iter()
        .enumerate()
        .map(|(index, tool)| {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let schema = tool.get("input_schema").cloned().unwrap_or(json!({}));
            let input = match schema::sample(&schema, &schema, Fill::Required) {
                value @ Value::Object(_) => value,
                _ => json!({}),
            };
            let hash = seed
                .write(name.as_bytes())
                .write(&index.to_le_bytes())
                .finish();
            Block::ToolUse {
                id: format!("toolu_{hash:016x}"),
                name,
                input,
            }
        })
        .collect()
}

fn user_text(messages: &[Value]) -> String {
    messages
        .last()
        .map(|m| text_of(m.get("content")))
        .unwrap_or_default()
}

impl Plan {
    /// The usage object; `output_tokens` as given (1 in `message_start`, as Anthropic does).
    pub(crate) fn usage(&self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
        })
    }

    /// The non-streamed `Message` body.
    pub(crate) fn render(&self, id: &str, model: &str) -> Value {
        let content: Vec<Value> = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Thinking(thinking) => {
                    json!({"type": "thinking", "thinking": thinking, "signature": SIGNATURE})
                }
                Block::Text(text) => json!({"type": "text", "text": text}),
                Block::ToolUse { id, name, input } => {
                    json!({"type": "tool_use", "id": id, "name": name, "input": input})
                }
            })
            .collect();
        json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.usage(self.output_tokens),
        })
    }
}
