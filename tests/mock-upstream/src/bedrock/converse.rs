//! The mock's Converse "model": what it answers to a Converse request, rendered as a
//! `ConverseResponse` or as ConverseStream events.
//!
//! Deterministic like the OpenAI mock: the reply echoes the last user text (or tool result),
//! tools named by `toolConfig` are called with arguments sampled from their schema, usage
//! counts words. Real Bedrock quirks are reproduced: every stream event carries the `"p"`
//! padding field, stream usage carries `serverToolUsage` and the `...TokenCount` duplicates
//! the botocore model does not define, and tool blocks say `"type": "tool_use"`.

use serde_json::{Value, json};

use crate::chat::content::{truncate_words, words};
use crate::ids::Fnv;
use crate::schema::{self, Fill};

/// Characters of tool input per stream delta (Bedrock sends a few tokens at a time).
const INPUT_PIECE: usize = 8;
/// The padding alphabet Bedrock cuts its `"p"` values from.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolUse {
    pub id: String,
    pub name: String,
    pub input: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub reasoning: Option<String>,
    pub text: Option<String>,
    pub tools: Vec<ToolUse>,
    pub stop_reason: &'static str,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read: Option<u64>,
}

fn blocks(message: &Value) -> impl Iterator<Item = &Value> {
    message
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn text_of_blocks(message: &Value) -> String {
    let mut parts = Vec::new();
    for block in blocks(message) {
        if let Some(text) = block.get("text").and_then(Value::as_str) {
            parts.push(text.to_owned());
        }
        if let Some(result) = block.get("toolResult") {
            parts.push(text_of_blocks(result));
        }
    }
    parts.join(" ")
}

/// What the mock answers to `request`.
pub(crate) fn plan(request: &Value) -> Plan {
    let messages: Vec<&Value> = request
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let system: String = request
        .get("system")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let prompt_words = words(&system)
        + messages
            .iter()
            .map(|m| words(&text_of_blocks(m)))
            .sum::<u64>();
    let prompt_words = prompt_words.max(1);
    let last = messages.last().copied().unwrap_or(&Value::Null);
    let last_is_tool_result = blocks(last).any(|b| b.get("toolResult").is_some());
    let images = messages
        .iter()
        .flat_map(|m| blocks(m))
        .filter(|b| b.get("image").is_some())
        .count();
    let cached = messages
        .iter()
        .flat_map(|m| blocks(m))
        .any(|b| b.get("cachePoint").is_some());
    let extra = request.get("additionalModelRequestFields");
    let thinking =
        extra.is_some_and(|f| f.get("thinking").is_some() || f.get("reasoningConfig").is_some());
    let tools = tool_uses(request, &messages, last_is_tool_result);
    let mut text = format!("echo: {}", text_of_blocks(last));
    if images > 0 {
        text.push_str(&format!(" [{images} image(s)]"));
    }
    let mut stop_reason = if tools.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let max_tokens = request
        .pointer("/inferenceConfig/maxTokens")
        .and_then(Value::as_u64);
    if let Some(cut) = max_tokens.and_then(|max| truncate_words(&text, max)) {
        text = cut;
        stop_reason = "max_tokens";
    }
    let reasoning = thinking.then(|| format!("thinking about: {}", text_of_blocks(last)));
    let text = tools.is_empty().then_some(text);
    let output_tokens = text.as_deref().map_or(0, words)
        + reasoning.as_deref().map_or(0, words)
        + tools
            .iter()
            .map(|t| words(&t.input.to_string()))
            .sum::<u64>();
    let cache_read = cached.then_some(prompt_words / 2);
    Plan {
        reasoning,
        text,
        tools,
        stop_reason,
        input_tokens: prompt_words - cache_read.unwrap_or(0),
        output_tokens: output_tokens.max(1),
        cache_read,
    }
}

fn tool_uses(request: &Value, messages: &[&Value], last_is_tool_result: bool) -> Vec<ToolUse> {
    let specs: Vec<&Value> = request
        .pointer("/toolConfig/tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("toolSpec"))
        .collect();
    if specs.is_empty() || last_is_tool_result {
        return Vec::new();
    }
    let named = request
        .pointer("/toolConfig/toolChoice/tool/name")
        .and_then(Value::as_str);
    let spec = match named {
        Some(name) => specs
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name)),
        None => specs.first(),
    };
    let Some(spec) = spec else {
        return Vec::new();
    };
    let name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let schema = spec
        .pointer("/inputSchema/json")
        .cloned()
        .unwrap_or_else(|| json!({"type": "object"}));
    // Structured output (the forced JSON tool) fills every property; tool calls the required.
    let fill = if name == "json_tool_call" {
        Fill::All
    } else {
        Fill::Required
    };
    let input = match schema::sample(&schema, &schema, fill) {
        value @ Value::Object(_) => value,
        _ => json!({}),
    };
    let seed = Fnv::new()
        .write(&messages.len().to_le_bytes())
        .write(name.as_bytes())
        .finish();
    vec![ToolUse {
        id: format!("tooluse_{seed:016x}"),
        name,
        input,
    }]
}

fn usage(plan: &Plan) -> Value {
    let mut usage = json!({
        "inputTokens": plan.input_tokens,
        "outputTokens": plan.output_tokens,
        "totalTokens": plan.input_tokens + plan.cache_read.unwrap_or(0) + plan.output_tokens,
    });
    if let Some(read) = plan.cache_read {
        usage["cacheReadInputTokens"] = json!(read);
        usage["cacheWriteInputTokens"] = json!(0);
    }
    usage
}

/// The `ConverseResponse` body.
pub(crate) fn render(plan: &Plan) -> Value {
    let mut content = Vec::new();
    if let Some(reasoning) = &plan.reasoning {
        content.push(json!({"reasoningContent": {"reasoningText": {"text": reasoning, "signature": "mock-signature"}}}));
    }
    if let Some(text) = &plan.text {
        content.push(json!({"text": text}));
    }
    for tool in &plan.tools {
        content.push(json!({"toolUse": {"toolUseId": tool.id, "name": tool.name, "input": tool.input, "type": "tool_use"}}));
    }
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": plan.stop_reason,
        "usage": usage(plan),
        "metrics": {"latencyMs": 42},
    })
}

/// One stream event: its `:event-type` and JSON payload (with Bedrock's `"p"` padding).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub kind: &'static str,
    pub payload: Value,
}

fn event(kind: &'static str, mut payload: Value, n: usize) -> Event {
    let len = 8 + (n * 7) % (PADDING.len() - 8);
    if let Some(object) = payload.as_object_mut() {
        object.insert("p".into(), json!(&PADDING[..len]));
    }
    Event { kind, payload }
}

/// The whole event sequence, and where content begins and the finish is (for faults).
pub(crate) struct Events {
    pub events: Vec<Event>,
    pub opening: usize,
    pub finish_at: usize,
}

/// The ConverseStream events for `plan`.
pub(crate) fn stream(plan: &Plan) -> Events {
    let mut events = vec![event("messageStart", json!({"role": "assistant"}), 0)];
    let opening = events.len();
    let mut index = 0u32;
    let push = |events: &mut Vec<Event>, kind, payload| {
        let n = events.len();
        events.push(event(kind, payload, n));
    };
    if let Some(reasoning) = &plan.reasoning {
        for piece in word_pieces(reasoning) {
            push(
                &mut events,
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"text": piece}}}),
            );
        }
        push(
            &mut events,
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": "mock-signature"}}}),
        );
        push(
            &mut events,
            "contentBlockStop",
            json!({"contentBlockIndex": index}),
        );
        index += 1;
    }
    if let Some(text) = &plan.text {
        for piece in word_pieces(text) {
            push(
                &mut events,
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"text": piece}}),
            );
        }
        push(
            &mut events,
            "contentBlockStop",
            json!({"contentBlockIndex": index}),
        );
        index += 1;
    }
    for tool in &plan.tools {
        push(
            &mut events,
            "contentBlockStart",
            json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool.id, "name": tool.name, "type": "tool_use"}}}),
        );
        let input = tool.input.to_string();
        let chars: Vec<char> = input.chars().collect();
        for piece in chars.chunks(INPUT_PIECE) {
            let piece: String = piece.iter().collect();
            push(
                &mut events,
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}}),
            );
        }
        push(
            &mut events,
            "contentBlockStop",
            json!({"contentBlockIndex": index}),
        );
        index += 1;
    }
    let finish_at = events.len();
    push(
        &mut events,
        "messageStop",
        json!({"stopReason": plan.stop_reason}),
    );
    let mut usage = usage(plan);
    // Real streams carry these extras beside the modelled members.
    usage["serverToolUsage"] = json!({});
    usage["cacheReadInputTokenCount"] = usage
        .get("cacheReadInputTokens")
        .cloned()
        .unwrap_or(json!(0));
    usage["cacheWriteInputTokenCount"] = usage
        .get("cacheWriteInputTokens")
        .cloned()
        .unwrap_or(json!(0));
    push(
        &mut events,
        "metadata",
        json!({"usage": usage, "metrics": {"latencyMs": 42}}),
    );
    Events {
        events,
        opening,
        finish_at,
    }
}

/// Words with their leading space, as models stream them.
fn word_pieces(text: &str) -> Vec<String> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_answers() {
        let cases = [
            (
                json!({"messages": [{"role": "user", "content": [{"text": "hello there"}]}]}),
                Some("echo: hello there"),
                0,
                "end_turn",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"text": "weather?"}]}],
                       "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}]}}),
                None,
                1,
                "tool_use",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "22C"}]}}]}],
                       "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}]}}),
                Some("echo: 22C"),
                0,
                "end_turn",
            ),
            (
                json!({"messages": [{"role": "user", "content": [{"text": "one two three"}]}], "inferenceConfig": {"maxTokens": 2}}),
                Some("echo: one"),
                0,
                "max_tokens",
            ),
        ];
        for (request, text, tools, stop) in cases {
            let plan = plan(&request);
            assert_eq!(
                (plan.text.as_deref(), plan.tools.len(), plan.stop_reason),
                (text, tools, stop),
                "{request}"
            );
        }
    }

    #[test]
    fn every_event_is_padded() {
        let request = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
        let events = stream(&plan(&request));
        assert!(events.events.iter().all(|e| e.payload.get("p").is_some()));
        assert_eq!(events.events[events.finish_at].kind, "messageStop");
    }
}
