//! Each translation direction of the Anthropic family through its public functions (the ones
//! Vertex AI's Anthropic models reuse), as `check(input, expected)` tables.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_providers::anthropic::wire::{AnthropicResponse, StreamEvent};
use llm_providers::anthropic::{AnthropicChunks, from_anthropic_response, to_anthropic_request};
use llm_providers::params::ParamPolicy;
use llm_types::{ChatCompletionChunk, ChatCompletionRequest};
use serde_json::{Value, json};

/// Translates an OpenAI request (as JSON) and returns the Anthropic body (as JSON), or the
/// error's `param: message`.
fn translate(openai: Value) -> Result<Value, String> {
    let mut openai = openai;
    openai["model"] = json!("public");
    let request: ChatCompletionRequest = serde_json::from_value(openai).unwrap();
    to_anthropic_request(&request, Some("claude-x"), &ParamPolicy::default())
        .map(|body| serde_json::to_value(body).unwrap())
        .map_err(|e| format!("{}: {}", e.param.unwrap_or_default(), e.message))
}

fn check(openai: Value, expected: Value) {
    let got = translate(openai.clone()).unwrap_or_else(|e| panic!("{openai}: {e}"));
    assert_eq!(got, expected, "\nfrom {openai:#}");
}

fn hi() -> Value {
    json!([{"role": "user", "content": "hi"}])
}

#[test]
fn requests_translate() {
    let weather =
        json!({"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}});
    let cases = vec![
        // System and developer messages go to `system`; a single one as a string.
        (
            json!({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}),
            json!({"model": "claude-x", "max_tokens": 4096, "system": "be brief", "messages": hi()}),
        ),
        (
            json!({"messages": [{"role": "system", "content": "a"}, {"role": "developer", "content": [{"type": "text", "text": "b"}]}, {"role": "user", "content": "hi"}]}),
            json!({"model": "claude-x", "max_tokens": 4096,
                   "system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], "messages": hi()}),
        ),
        // Parameters with a direct counterpart; max_completion_tokens wins over max_tokens.
        (
            json!({"messages": hi(), "max_tokens": 5, "max_completion_tokens": 7, "temperature": 0.5,
                   "top_p": 0.9, "stop": "END", "user": "u1", "top_k": 3}),
            json!({"model": "claude-x", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 3,
                   "stop_sequences": ["END"], "metadata": {"user_id": "u1"}, "messages": hi()}),
        ),
        // Tool choices, and parallel_tool_calls=false as disable_parallel_tool_use.
        (
            json!({"messages": hi(), "tools": [weather], "tool_choice": "required", "parallel_tool_calls": false}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "w", "input_schema": {"type": "object"}}],
                   "tool_choice": {"type": "any", "disable_parallel_tool_use": true}}),
        ),
        (
            json!({"messages": hi(), "tools": [weather], "tool_choice": {"type": "function", "function": {"name": "w"}}}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "w", "input_schema": {"type": "object"}}],
                   "tool_choice": {"type": "tool", "name": "w"}}),
        ),
        (
            json!({"messages": hi(), "tools": [weather], "tool_choice": "none"}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "w", "input_schema": {"type": "object"}}],
                   "tool_choice": {"type": "none"}}),
        ),
        (
            json!({"messages": hi(), "tools": [weather], "parallel_tool_calls": false}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "w", "input_schema": {"type": "object"}}],
                   "tool_choice": {"type": "auto", "disable_parallel_tool_use": true}}),
        ),
        // Tool calls and results: consecutive results (and a following user turn) merge.
        (
            json!({"messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "let me see", "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{\"c\":1}"}},
                    {"id": "t2", "type": "function", "function": {"name": "w", "arguments": ""}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "r1"},
                {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "r2"}]},
                {"role": "user", "content": "and?"}]}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "let me see"},
                    {"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}},
                    {"type": "tool_use", "id": "t2", "name": "w", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "r1"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "r2"}]},
                    {"type": "text", "text": "and?"}]}]}),
        ),
        // Thinking blocks handed back (LiteLLM's `thinking_blocks`) lead the assistant turn.
        (
            json!({"messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a", "thinking_blocks": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "xx"}]},
                {"role": "user", "content": "more"}]}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "xx"},
                    {"type": "text", "text": "a"}]},
                {"role": "user", "content": "more"}]}),
        ),
        // Images: data: URLs as base64 sources, http(s) URLs as url sources; PDFs as documents.
        (
            json!({"messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}},
                {"type": "text", "text": "what?"}]}]}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
                {"type": "text", "text": "what?"}]}]}),
        ),
        // cache_control on a message marks its last block; on a tool, the tool.
        (
            json!({"messages": [{"role": "user", "content": "long", "cache_control": {"type": "ephemeral"}}],
                   "tools": [{"type": "function", "function": {"name": "w"}, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}),
            json!({"model": "claude-x", "max_tokens": 4096,
                   "messages": [{"role": "user", "content": [{"type": "text", "text": "long", "cache_control": {"type": "ephemeral"}}]}],
                   "tools": [{"name": "w", "input_schema": {"type": "object", "properties": {}}, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}),
        ),
        // cache_control on content parts marks that part's block: text, image, document, in
        // user turns, system prompts and tool results alike.
        (
            json!({"messages": [
                {"role": "system", "content": [
                    {"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "today"}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}},
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}, "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "q"}]},
                {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": [
                    {"type": "text", "text": "big result", "cache_control": {"type": "ephemeral"}}]}]}),
            json!({"model": "claude-x", "max_tokens": 4096,
                   "system": [{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}},
                              {"type": "text", "text": "today"}],
                   "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}},
                    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
                     "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "q"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                    {"type": "text", "text": "big result", "cache_control": {"type": "ephemeral"}}]}]}]}),
        ),
        // A lone cached part keeps its block form (a plain string cannot carry the marker).
        (
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}),
            json!({"model": "claude-x", "max_tokens": 4096,
                   "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}),
        ),
        // JSON mode through the forced json_tool_call tool (LiteLLM's shape).
        (
            json!({"messages": hi(), "response_format": {"type": "json_object"}}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "json_tool_call", "input_schema": {"type": "object", "additionalProperties": true, "properties": {}}}],
                   "tool_choice": {"type": "tool", "name": "json_tool_call"}}),
        ),
        (
            json!({"messages": hi(), "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}}),
            json!({"model": "claude-x", "max_tokens": 4096, "messages": hi(),
                   "tools": [{"name": "json_tool_call", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}],
                   "tool_choice": {"type": "tool", "name": "json_tool_call"}}),
        ),
        // reasoning_effort → thinking budget; max_tokens then leaves room for the answer;
        // a forced tool is not allowed while thinking, so JSON mode leaves the choice open.
        (
            json!({"messages": hi(), "reasoning_effort": "low", "response_format": {"type": "json_object"}}),
            json!({"model": "claude-x", "max_tokens": 5120, "messages": hi(),
                   "thinking": {"type": "enabled", "budget_tokens": 1024},
                   "tools": [{"name": "json_tool_call", "input_schema": {"type": "object", "additionalProperties": true, "properties": {}}}]}),
        ),
        (
            json!({"messages": hi(), "reasoning_effort": "high", "max_tokens": 9000}),
            json!({"model": "claude-x", "max_tokens": 9000, "messages": hi(),
                   "thinking": {"type": "enabled", "budget_tokens": 4096}}),
        ),
        (
            json!({"messages": hi(), "thinking": {"type": "enabled", "budget_tokens": 3000}}),
            json!({"model": "claude-x", "max_tokens": 7096, "messages": hi(),
                   "thinking": {"type": "enabled", "budget_tokens": 3000}}),
        ),
    ];
    for (openai, expected) in cases {
        check(openai, expected);
    }
}

#[test]
fn requests_anthropic_cannot_express_are_refused() {
    let cases = [
        (
            json!({"messages": hi(), "logit_bias": {"1": 1.0}}),
            "logit_bias",
        ),
        (json!({"messages": hi(), "n": 2}), "n"),
        (json!({"messages": hi(), "seed": 1}), "seed"),
        (
            json!({"messages": hi(), "reasoning_effort": "extreme"}),
            "reasoning_effort",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]}),
            "messages[0].content[0]",
        ),
        (
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "t", "type": "function", "function": {"name": "w", "arguments": "{not json"}}]}]}),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "r"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"messages": hi(), "tools": [{"type": "web_search"}]}),
            "tools",
        ),
    ];
    for (openai, param) in cases {
        let error = translate(openai.clone()).unwrap_err();
        assert!(
            error.starts_with(&format!("{param}: ")),
            "{openai}: {error}"
        );
    }
    let mut request: ChatCompletionRequest =
        serde_json::from_value(json!({"model": "m", "messages": hi(), "seed": 1})).unwrap();
    let dropping = ParamPolicy::new(true, &[]);
    assert!(to_anthropic_request(&request, None, &dropping).is_ok());
    request.additional_drop_params = Some(vec!["seed".into()]);
    let body = to_anthropic_request(&request, None, &ParamPolicy::default()).unwrap();
    // Vertex AI: no model in the body.
    assert!(serde_json::to_value(body).unwrap().get("model").is_none());
}

fn response(content: Value, stop_reason: &str, json_mode: bool) -> Value {
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 3, "cache_read_input_tokens": 90,
                  "cache_creation_input_tokens": 5, "server_tool_use": null}
    });
    let parsed: AnthropicResponse = serde_json::from_value(body).unwrap();
    let mut out = serde_json::to_value(from_anthropic_response(parsed, json_mode, 7)).unwrap();
    out["choices"][0]
        .as_object_mut()
        .unwrap()
        .remove("logprobs");
    out["choices"][0]["message"]
        .as_object_mut()
        .unwrap()
        .remove("refusal");
    out
}

#[test]
fn responses_translate() {
    // Cache reads and writes: in the prompt, reads as cached_tokens, both kept apart (LiteLLM).
    let usage = json!({"prompt_tokens": 105, "completion_tokens": 3, "total_tokens": 108,
                       "prompt_tokens_details": {"cached_tokens": 90},
                       "cache_read_input_tokens": 90, "cache_creation_input_tokens": 5});
    let cases = vec![
        (
            response(
                json!([{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]),
                "end_turn",
                false,
            ),
            json!({"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hello"}}),
        ),
        (
            response(
                json!([
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "redacted_thinking", "data": "x"},
                {"type": "text", "text": "ok"},
                {"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}},
                {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}}]),
                "tool_use",
                false,
            ),
            json!({"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
                   "content": "ok", "reasoning_content": "hmm",
                   "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "s"},
                                       {"type": "redacted_thinking", "data": "x"}],
                   "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "w", "arguments": "{\"c\":1}"}}]}}),
        ),
        (
            response(
                json!([{"type": "tool_use", "id": "t1", "name": "json_tool_call", "input": {"a": 1}}]),
                "tool_use",
                true,
            ),
            json!({"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "{\"a\":1}"}}),
        ),
        (
            response(
                json!([{"type": "text", "text": "cut"}]),
                "max_tokens",
                false,
            ),
            json!({"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "cut"}}),
        ),
        (
            response(json!([]), "refusal", false),
            json!({"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": ""}}),
        ),
    ];
    for (got, expected_choice) in cases {
        assert_eq!(got["choices"][0], expected_choice, "{got:#}");
        assert_eq!(got["usage"], usage);
        assert_eq!(
            (got["id"].as_str(), got["model"].as_str()),
            (Some("msg_1"), Some("claude-x"))
        );
    }
}

/// Runs events through the translator; each chunk as JSON without the fields that repeat.
fn stream(events: &[Value], json_mode: bool) -> Vec<Value> {
    let mut translator = AnthropicChunks::new(json_mode, 7);
    let mut out: Vec<ChatCompletionChunk> = Vec::new();
    for event in events {
        let event: StreamEvent = serde_json::from_value(event.clone()).unwrap();
        translator.on_event(event, &mut out).unwrap();
    }
    out.into_iter()
        .map(|chunk| {
            let mut value = serde_json::to_value(chunk).unwrap();
            for key in ["id", "object", "created", "model"] {
                value.as_object_mut().unwrap().remove(key);
            }
            value
        })
        .collect()
}

fn start() -> Value {
    json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude-x", "content": [],
           "usage": {"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": 2}}})
}

fn delta(index: u32, delta: Value) -> Value {
    json!({"type": "content_block_delta", "index": index, "delta": delta})
}

fn block(index: u32, block: Value) -> Value {
    json!({"type": "content_block_start", "index": index, "content_block": block})
}

fn choice(delta: Value, finish: Value) -> Value {
    json!({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

#[test]
fn stream_events_translate() {
    let role = choice(json!({"role": "assistant", "content": ""}), Value::Null);
    let end = |reason: &str, output: u64| {
        let mut chunk = choice(json!({}), json!(reason));
        chunk["usage"] = json!({"prompt_tokens": 7, "completion_tokens": output,
            "total_tokens": 7 + output, "prompt_tokens_details": {"cached_tokens": 2},
            "cache_read_input_tokens": 2});
        chunk
    };
    let message_delta = |reason: &str, output: u64| json!({"type": "message_delta", "delta": {"stop_reason": reason}, "usage": {"output_tokens": output}});
    let cases: Vec<(Vec<Value>, bool, Vec<Value>)> = vec![
        (
            vec![
                start(),
                json!({"type": "ping"}),
                block(0, json!({"type": "thinking", "thinking": ""})),
                delta(0, json!({"type": "thinking_delta", "thinking": "hm"})),
                delta(0, json!({"type": "signature_delta", "signature": "s"})),
                json!({"type": "content_block_stop", "index": 0}),
                block(1, json!({"type": "redacted_thinking", "data": "enc"})),
                json!({"type": "content_block_stop", "index": 1}),
                block(2, json!({"type": "text", "text": ""})),
                delta(2, json!({"type": "text_delta", "text": "Hi"})),
                message_delta("end_turn", 4),
                json!({"type": "message_stop"}),
            ],
            false,
            // Thinking as LiteLLM streams it: the text twice (reasoning_content and a
            // thinking_blocks piece), then the signature as its own piece.
            vec![
                role.clone(),
                choice(
                    json!({"reasoning_content": "hm", "thinking_blocks": [{"type": "thinking", "thinking": "hm"}]}),
                    Value::Null,
                ),
                choice(
                    json!({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "s"}]}),
                    Value::Null,
                ),
                choice(
                    json!({"thinking_blocks": [{"type": "redacted_thinking", "data": "enc"}]}),
                    Value::Null,
                ),
                choice(json!({"content": "Hi"}), Value::Null),
                end("stop", 4),
            ],
        ),
        (
            vec![
                start(),
                block(
                    0,
                    json!({"type": "tool_use", "id": "t1", "name": "w", "input": {}}),
                ),
                delta(0, json!({"type": "input_json_delta", "partial_json": ""})),
                delta(
                    0,
                    json!({"type": "input_json_delta", "partial_json": "{\"c\":"}),
                ),
                block(
                    1,
                    json!({"type": "tool_use", "id": "t2", "name": "v", "input": {}}),
                ),
                delta(1, json!({"type": "input_json_delta", "partial_json": "{}"})),
                delta(0, json!({"type": "input_json_delta", "partial_json": "1}"})),
                message_delta("tool_use", 9),
            ],
            false,
            vec![
                role.clone(),
                choice(
                    json!({"tool_calls": [{"index": 0, "id": "t1", "type": "function", "function": {"name": "w", "arguments": ""}}]}),
                    Value::Null,
                ),
                choice(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"c\":"}}]}),
                    Value::Null,
                ),
                choice(
                    json!({"tool_calls": [{"index": 1, "id": "t2", "type": "function", "function": {"name": "v", "arguments": ""}}]}),
                    Value::Null,
                ),
                choice(
                    json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
                    Value::Null,
                ),
                choice(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
                    Value::Null,
                ),
                end("tool_calls", 9),
            ],
        ),
        (
            vec![
                start(),
                block(
                    0,
                    json!({"type": "tool_use", "id": "t1", "name": "json_tool_call", "input": {}}),
                ),
                delta(
                    0,
                    json!({"type": "input_json_delta", "partial_json": "{\"a\""}),
                ),
                delta(
                    0,
                    json!({"type": "input_json_delta", "partial_json": ":1}"}),
                ),
                message_delta("tool_use", 3),
            ],
            true,
            vec![
                role.clone(),
                choice(json!({"content": "{\"a\""}), Value::Null),
                choice(json!({"content": ":1}"}), Value::Null),
                end("stop", 3),
            ],
        ),
        (
            vec![start(), message_delta("refusal", 1)],
            false,
            vec![role.clone(), end("content_filter", 1)],
        ),
        (
            vec![start(), message_delta("max_tokens", 2)],
            false,
            vec![role, end("length", 2)],
        ),
    ];
    for (events, json_mode, expected) in cases {
        assert_eq!(stream(&events, json_mode), expected, "{events:#?}");
    }
}

#[test]
fn stream_error_events_fail_the_stream() {
    let mut translator = AnthropicChunks::new(false, 7);
    let mut out = Vec::new();
    let event: StreamEvent = serde_json::from_value(
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
    )
    .unwrap();
    let error = translator.on_event(event, &mut out).unwrap_err();
    assert_eq!(error.status(), 429);
    assert!(out.is_empty());
}

/// A thinking + tools conversation round-trips: the answer's `thinking_blocks` (signature
/// included), handed back on the assistant turn as LiteLLM clients do, lead that turn in the
/// next Anthropic request, signed, before its tool_use.
#[test]
fn thinking_blocks_round_trip_through_a_tool_conversation() {
    let answer = response(
        json!([
            {"type": "thinking", "thinking": "need weather", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "enc"},
            {"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}}]),
        "tool_use",
        false,
    );
    let mut assistant = answer["choices"][0]["message"].clone();
    // What a client keeps of the answer: the message as it came.
    assistant
        .as_object_mut()
        .unwrap()
        .remove("reasoning_content");
    let next = json!({
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "user", "content": "weather?"},
            assistant,
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"}]});
    let body = translate(next).unwrap();
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "need weather", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "enc"},
            {"type": "tool_use", "id": "t1", "name": "w", "input": {"c": 1}}]})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]})
    );
}
