//! Unit tests of the Anthropic mock's planning and stream rendering.

use serde_json::{Value, json};

use super::plan::{Block, plan};
use super::sse::transcript;

fn messages(request: &Value) -> Vec<Value> {
    request["messages"].as_array().cloned().unwrap_or_default()
}

#[test]
fn plans_text_tools_results_and_stops() {
    let weather = json!([{"name": "get_weather", "input_schema": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let cases = [
        (
            json!({"max_tokens": 100, "messages": [{"role": "user", "content": "hello there"}]}),
            "end_turn",
            "echo: hello there",
        ),
        (
            json!({"max_tokens": 2, "messages": [{"role": "user", "content": "one two three"}]}),
            "max_tokens",
            "echo: one",
        ),
        (
            json!({"max_tokens": 50, "stop_sequences": ["two"],
                   "messages": [{"role": "user", "content": "one two three"}]}),
            "stop_sequence",
            "echo: one ",
        ),
        (
            json!({"max_tokens": 50, "tools": weather, "tool_choice": {"type": "none"},
                   "messages": [{"role": "user", "content": "hi"}]}),
            "end_turn",
            "echo: hi",
        ),
        (
            json!({"max_tokens": 50, "tools": weather,
                   "messages": [{"role": "user", "content": [
                       {"type": "tool_result", "tool_use_id": "t1", "content": "22C"}]}]}),
            "end_turn",
            "echo: tool result: 22C",
        ),
        (
            json!({"max_tokens": 50, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}]}),
            "end_turn",
            "echo: what is this [images: 1]",
        ),
    ];
    for (request, stop_reason, text) in cases {
        let got = plan(&request, &messages(&request));
        assert_eq!(got.stop_reason, stop_reason, "{request}");
        assert_eq!(got.blocks, vec![Block::Text(text.to_owned())], "{request}");
    }
    let request = json!({"max_tokens": 50, "tools": weather, "tool_choice": {"type": "any"},
                         "messages": [{"role": "user", "content": "weather?"}]});
    let got = plan(&request, &messages(&request));
    assert_eq!(got.stop_reason, "tool_use");
    assert!(
        matches!(&got.blocks[..], [Block::ToolUse { name, input, .. }]
        if name == "get_weather" && input["city"].is_string())
    );
}

#[test]
fn streams_named_events_and_cuts_them() {
    let request = json!({"max_tokens": 50, "messages": [{"role": "user", "content": "a b c"}]});
    let plan = plan(&request, &messages(&request));
    let full = transcript(&plan, "msg_1", "m", None);
    let text: Vec<String> = full
        .frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let events: Vec<&str> = text
        .iter()
        .filter_map(|f| f.lines().next()?.strip_prefix("event: "))
        .collect();
    assert_eq!(
        events,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(text[0].contains("      }\n"), "padding quirk: {}", text[0]);
    let broken = transcript(&plan, "msg_1", "m", Some(1));
    let last = String::from_utf8_lossy(broken.frames.last().unwrap()).into_owned();
    assert!(last.starts_with("event: error"), "{last}");
    assert_eq!(broken.frames.len(), 5);
}
