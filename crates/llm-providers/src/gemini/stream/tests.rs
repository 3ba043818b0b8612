//! Gemini SSE events → OpenAI chunks, one `check(events, expected)` table.

use super::*;
use serde_json::{Value, json};

/// Feeds `events` through one translator; returns the chunks without `created`.
fn check(events: &[Value], expected: Value, complete: bool) {
    let mut translator = GeminiChunks::new("gemini-2.5-flash");
    let mut out = Vec::new();
    for event in events {
        let frame = SseEvent {
            event: None,
            data: event.to_string(),
        };
        assert_eq!(
            translator.on_frame(frame, &mut out).unwrap(),
            Step::Continue
        );
    }
    let got: Vec<Value> = out
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap();
            v.as_object_mut().unwrap().remove("created");
            v
        })
        .collect();
    assert_eq!(Value::Array(got), expected, "{events:?}");
    assert_eq!(translator.complete_at_eof(), complete);
}

fn chunk(choices: Value, usage: Option<Value>) -> Value {
    let mut c = json!({"id": "chatcmpl-r", "object": "chat.completion.chunk", "model": "v", "choices": choices});
    if let Some(usage) = usage {
        c["usage"] = usage;
    }
    c
}

#[test]
fn translates_streams() {
    let usage = json!({"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5});
    let openai_usage = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5});
    let cases = vec![
        (
            vec![
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}}], "modelVersion": "v", "responseId": "r"}),
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": " there"}]}, "finishReason": "STOP"}],
                       "usageMetadata": usage, "modelVersion": "v", "responseId": "r"}),
            ],
            json!([
                chunk(
                    json!([{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]),
                    None
                ),
                chunk(
                    json!([{"index": 0, "delta": {"content": " there"}, "finish_reason": "stop"}]),
                    Some(openai_usage.clone())
                ),
            ]),
            true,
        ),
        (
            vec![
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "hmm", "thought": true}]}}], "modelVersion": "v", "responseId": "r"}),
                json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"id": "fc1", "name": "f", "args": {"a": 1}}}]}}],
                       "modelVersion": "v", "responseId": "r"}),
                json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"id": "fc2", "name": "g"}}]}, "finishReason": "STOP"}],
                       "modelVersion": "v", "responseId": "r"}),
            ],
            json!([
                chunk(
                    json!([{"index": 0, "delta": {"role": "assistant", "reasoning_content": "hmm"}, "finish_reason": null}]),
                    None
                ),
                chunk(
                    json!([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "fc1", "type": "function",
                    "function": {"name": "f", "arguments": "{\"a\":1}"}}]}, "finish_reason": null}]),
                    None
                ),
                chunk(
                    json!([{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "fc2", "type": "function",
                    "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]),
                    None
                ),
            ]),
            true,
        ),
        (
            vec![
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "cut"}]}}], "modelVersion": "v", "responseId": "r"}),
            ],
            json!([chunk(
                json!([{"index": 0, "delta": {"role": "assistant", "content": "cut"}, "finish_reason": null}]),
                None
            )]),
            false,
        ),
        (
            vec![
                json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3},
                        "modelVersion": "v", "responseId": "r"}),
            ],
            json!([chunk(
                json!([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": "content_filter"}]),
                Some(json!({"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}))
            )]),
            true,
        ),
    ];
    for (events, expected, complete) in cases {
        check(&events, expected, complete);
    }
}

#[test]
fn error_events_end_the_stream() {
    let mut translator = GeminiChunks::new("m");
    let frame = SseEvent {
        event: None,
        data: r#"{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}"#.into(),
    };
    let error = translator.on_frame(frame, &mut Vec::new()).unwrap_err();
    assert!(error.message.contains("overloaded"), "{error:?}");
    assert_eq!(error.status(), 502);
}
