//! Data-driven checks of what the mock decides to answer.

use serde_json::{Value, json};

use super::*;

fn plan_for(request: Value) -> ChatPlan {
    let chat = validate(&request).unwrap();
    plan(&request, &chat).unwrap()
}

fn text(plan: &ChatPlan) -> &str {
    match &plan.output {
        Output::Text(t) => t,
        Output::ToolCalls(_) => panic!("expected text, got {plan:?}"),
    }
}

#[test]
fn text_replies() {
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "hello world"}]}),
            "echo: hello world",
            "stop",
        ),
        (
            json!({"messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "echo: first"},
                {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}, {"type": "image_url", "image_url": {"url": "https://x/z.png"}}]}
            ]}),
            "echo: look [images: 2]",
            "stop",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]}),
            "echo: [audio: 1]",
            "stop",
        ),
        (
            json!({"messages": [{"role": "user", "content": "one two three"}], "max_tokens": 2}),
            "echo: one",
            "length",
        ),
        (
            json!({"messages": [{"role": "user", "content": "one two three"}], "max_completion_tokens": 3}),
            "echo: one two",
            "length",
        ),
        (
            json!({"messages": [{"role": "user", "content": "one"}], "max_tokens": 50}),
            "echo: one",
            "stop",
        ),
        (
            json!({"messages": [{"role": "user", "content": "weather?"}, {"role": "tool", "tool_call_id": "c", "content": "sunny"}], "tools": [{"type": "function", "function": {"name": "w"}}]}),
            "echo: tool result: sunny",
            "stop",
        ),
        (
            json!({"messages": [{"role": "user", "content": "say \"hi\""}], "response_format": {"type": "json_object"}}),
            r#"{"echo":"say \"hi\""}"#,
            "stop",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "kind": {"enum": ["a", "b"]}, "pet": {"type": "object", "properties": {"legs": {"type": "number"}}}},
                "required": ["name"]
            }}}}),
            r#"{"age":1,"kind":"a","name":"mock","pet":{"legs":1}}"#,
            "stop",
        ),
    ];
    for (mut request, expected, finish) in cases {
        request["model"] = json!("gpt-4o-mini");
        let plan = plan_for(request.clone());
        assert_eq!(text(&plan), expected, "request {request}");
        assert_eq!(plan.finish_reason, finish, "request {request}");
    }
}

#[test]
fn usage_counts_words() {
    let plan = plan_for(json!({
        "model": "m",
        "n": 3,
        "messages": [{"role": "system", "content": "a b"}, {"role": "user", "content": "c d e"}]
    }));
    assert_eq!(plan.n, 3);
    assert_eq!(plan.prompt_tokens, 5);
    // "echo: c d e" is 4 words, in each of 3 choices.
    assert_eq!(plan.completion_tokens, 12);
}

#[test]
fn tool_calls_end_with_tool_calls() {
    let plan = plan_for(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]
    }));
    assert_eq!(plan.finish_reason, "tool_calls");
    let Output::ToolCalls(calls) = &plan.output else {
        panic!("expected tool calls, got {plan:?}");
    };
    assert_eq!(calls[0].arguments, r#"{"q":"mock"}"#);
    assert_eq!(plan.completion_tokens, 1);
}

#[test]
fn rejects_requests_missing_required_fields() {
    let cases = [
        (json!([1, 2]), None),
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            Some("model"),
        ),
        (json!({"model": "m"}), Some("messages")),
        (json!({"model": "m", "messages": []}), Some("messages")),
        (
            json!({"model": 7, "messages": [{"role": "user", "content": "x"}]}),
            Some("model"),
        ),
    ];
    for (request, param) in cases {
        let err = validate(&request).unwrap_err();
        assert_eq!(err.status.as_u16(), 400, "request {request}");
        assert_eq!(err.param, param, "request {request}");
    }
}
