//! Gemini answer → OpenAI completion, one `check(input, expected)` table.

use super::*;
use serde_json::{Value, json};

fn check(answer: Value, expected: Value) {
    let parsed: GenerateContentResponse = serde_json::from_value(answer.clone()).unwrap();
    let mut got = serde_json::to_value(translate(parsed, "gemini-2.5-flash")).unwrap();
    got.as_object_mut().unwrap().remove("created");
    assert_eq!(got, expected, "{answer}");
}

fn message(content: Value) -> Value {
    json!({"role": "assistant", "content": content, "refusal": null})
}

#[test]
fn translates_answers() {
    let cases = vec![
        (
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris"}, {"text": " is."}]},
                    "finishReason": "STOP", "index": 0, "avgLogprobs": -0.1}],
                   "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7,
                       "trafficType": "ON_DEMAND"},
                   "modelVersion": "gemini-2.5-flash-001", "responseId": "abc"}),
            json!({"id": "chatcmpl-abc", "object": "chat.completion", "model": "gemini-2.5-flash-001",
                   "choices": [{"index": 0, "message": message(json!("Paris is.")), "finish_reason": "stop", "logprobs": null}],
                   "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
        ),
        (
            json!({"candidates": [{"content": {"role": "model", "parts": [
                       {"text": "Let me think", "thought": true},
                       {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}]},
                    "finishReason": "STOP"}],
                   "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 20,
                       "cachedContentTokenCount": 4, "totalTokenCount": 35},
                   "responseId": "r2"}),
            json!({"id": "chatcmpl-r2", "object": "chat.completion", "model": "gemini-2.5-flash",
                   "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null,
                       "message": {"role": "assistant", "content": null, "refusal": null,
                           "reasoning_content": "Let me think",
                           "tool_calls": [{"id": ids::tool_call_id(
                               &super::super::wire::FunctionCall {id: None, name: "get_weather".into(), args: Some(json!({"city": "Paris"}))},
                               0, Some("c2ln")),
                               "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 25, "total_tokens": 35,
                       "prompt_tokens_details": {"cached_tokens": 4}, "cache_read_input_tokens": 4,
                       "completion_tokens_details": {"reasoning_tokens": 20}}}),
        ),
        (
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "a"}]}, "finishReason": "MAX_TOKENS"},
                                  {"content": {"role": "model", "parts": [{"text": "b"}]}, "finishReason": "SAFETY", "index": 1}],
                   "responseId": "r3"}),
            json!({"id": "chatcmpl-r3", "object": "chat.completion", "model": "gemini-2.5-flash",
                   "choices": [{"index": 0, "message": message(json!("a")), "finish_reason": "length", "logprobs": null},
                               {"index": 1, "message": message(json!("b")), "finish_reason": "content_filter", "logprobs": null}]}),
        ),
        (
            json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "responseId": "r4",
                   "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}),
            json!({"id": "chatcmpl-r4", "object": "chat.completion", "model": "gemini-2.5-flash",
                   "choices": [{"index": 0, "message": message(Value::Null), "finish_reason": "content_filter", "logprobs": null}],
                   "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}}),
        ),
    ];
    for (answer, expected) in cases {
        check(answer, expected);
    }
}

#[test]
fn maps_every_finish_reason() {
    let cases = [
        ("STOP", false, FinishReason::Stop),
        ("STOP", true, FinishReason::ToolCalls),
        ("MAX_TOKENS", true, FinishReason::Length),
        ("SAFETY", false, FinishReason::ContentFilter),
        ("RECITATION", false, FinishReason::ContentFilter),
        ("BLOCKLIST", false, FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", false, FinishReason::ContentFilter),
        ("SPII", false, FinishReason::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", false, FinishReason::Stop),
        ("OTHER", false, FinishReason::Stop),
        ("SOMETHING_NEW", false, FinishReason::Stop),
    ];
    for (reason, called, expected) in cases {
        assert_eq!(finish_reason(reason, called), expected, "{reason}");
    }
}
