//! Converse answer → OpenAI chat completion: content, tool calls, reasoning (as
//! `reasoning_content` and LiteLLM's signed `thinking_blocks`), `stopReason` and usage (cache
//! read tokens become `prompt_tokens_details.cached_tokens`; reads and writes are also kept
//! at the top level, as LiteLLM reports them).

use llm_types::{
    ChatCompletionResponse, Choice, FinishReason, FunctionCall, ResponseMessage, Role,
    ThinkingBlock, ToolCall, Usage,
};

use super::request::JSON_TOOL_NAME;
use super::wire::{ConverseResponse, TokenUsage};

/// Maps Converse's `stopReason` onto OpenAI's five finish reasons.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        // end_turn, stop_sequence and reasons newer than this code: a natural stop.
        _ => FinishReason::Stop,
    }
}

/// OpenAI usage from Converse's: `inputTokens` excludes cached tokens, OpenAI's
/// `prompt_tokens` includes them (cache reads as `cached_tokens`).
pub fn usage(usage: &TokenUsage) -> Usage {
    let cache_read = usage.cache_read_input_tokens.unwrap_or(0);
    let cache_write = usage.cache_write_input_tokens.unwrap_or(0);
    Usage::new(
        usage.input_tokens + cache_read + cache_write,
        usage.output_tokens,
    )
    .with_cache(
        usage.cache_read_input_tokens,
        usage.cache_write_input_tokens,
    )
}

/// The OpenAI response for a Converse answer. `json_mode`: the forced JSON tool's input is
/// the content (and the answer a natural stop).
pub fn chat_response(
    answer: ConverseResponse,
    id: String,
    created: u64,
    model: &str,
    json_mode: bool,
) -> ChatCompletionResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    let blocks = answer.output.message.map(|m| m.content).unwrap_or_default();
    let mut json_content = None;
    for block in blocks {
        if let Some(piece) = block.text {
            text.push_str(&piece);
        }
        if let Some(block) = block.reasoning_content {
            if let Some(piece) = block.reasoning_text {
                reasoning.push_str(&piece.text);
                thinking_blocks.push(ThinkingBlock::thinking(Some(piece.text), piece.signature));
            }
            if let Some(data) = block.redacted_content {
                thinking_blocks.push(ThinkingBlock::redacted(data));
            }
        }
        if let Some(tool) = block.tool_use {
            let arguments = tool.input.to_string();
            if json_mode && tool.name == JSON_TOOL_NAME {
                json_content = Some(arguments);
                continue;
            }
            tool_calls.push(ToolCall {
                id: tool.tool_use_id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: tool.name,
                    arguments,
                },
            });
        }
    }
    let mut finish = answer
        .stop_reason
        .as_deref()
        .map_or(FinishReason::Stop, finish_reason);
    if let Some(json) = json_content {
        text = json;
        if finish == FinishReason::ToolCalls && tool_calls.is_empty() {
            finish = FinishReason::Stop;
        }
    }
    let message = ResponseMessage {
        role: Role::Assistant,
        content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
        refusal: None,
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        function_call: None,
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        annotations: None,
        thinking_blocks: (!thinking_blocks.is_empty()).then_some(thinking_blocks),
    };
    ChatCompletionResponse {
        id,
        object: "chat.completion".to_owned(),
        created,
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish),
            logprobs: None,
        }],
        usage: answer.usage.as_ref().map(usage),
        system_fingerprint: None,
        service_tier: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check(answer: Value, json_mode: bool, expected: Value) {
        let parsed: ConverseResponse = serde_json::from_value(answer.clone()).unwrap();
        let out = chat_response(parsed, "chatcmpl-1".into(), 7, "m", json_mode);
        let got = serde_json::to_value(&out).unwrap();
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(
                got.pointer(key).unwrap_or(&Value::Null),
                value,
                "{key} of {answer}"
            );
        }
    }

    #[test]
    fn translates_answers() {
        let cases = [
            (
                json!({"output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
                       "stopReason": "end_turn", "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
                       "metrics": {"latencyMs": 1}}),
                false,
                json!({"/choices/0/message/content": "Hi", "/choices/0/finish_reason": "stop",
                       "/usage/prompt_tokens": 3, "/usage/total_tokens": 4,
                       "/usage/prompt_tokens_details": null, "/usage/cache_read_input_tokens": null,
                       "/choices/0/message/thinking_blocks": null,
                       "/choices/0/message/refusal": null, "/choices/0/logprobs": null}),
            ),
            (
                json!({"output": {"message": {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                    {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}, "type": "tool_use"}}]}},
                    "stopReason": "tool_use",
                    "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7, "cacheReadInputTokens": 10, "cacheWriteInputTokens": 4}}),
                false,
                json!({"/choices/0/message/content": null, "/choices/0/finish_reason": "tool_calls",
                       "/choices/0/message/tool_calls/0/function/arguments": "{\"city\":\"Paris\"}",
                       "/choices/0/message/tool_calls/0/id": "t1",
                       "/choices/0/message/reasoning_content": "hmm",
                       "/choices/0/message/thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "s"}],
                       "/usage/prompt_tokens": 19, "/usage/completion_tokens": 2,
                       "/usage/prompt_tokens_details/cached_tokens": 10,
                       "/usage/cache_read_input_tokens": 10, "/usage/cache_creation_input_tokens": 4}),
            ),
            (
                json!({"output": {"message": {"content": [
                    {"reasoningContent": {"reasoningText": {"text": "a"}}},
                    {"reasoningContent": {"redactedContent": "ZW5j"}},
                    {"text": "done"}]}},
                    "stopReason": "end_turn",
                    "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7, "cacheWriteInputTokens": 4}}),
                false,
                json!({"/choices/0/message/content": "done", "/choices/0/message/reasoning_content": "a",
                       "/choices/0/message/thinking_blocks": [{"type": "thinking", "thinking": "a"},
                                                              {"type": "redacted_thinking", "data": "ZW5j"}],
                       "/usage/prompt_tokens": 9, "/usage/prompt_tokens_details/cached_tokens": 0,
                       "/usage/cache_read_input_tokens": null, "/usage/cache_creation_input_tokens": 4}),
            ),
            (
                json!({"output": {"message": {"content": [{"toolUse": {"toolUseId": "t", "name": "json_tool_call", "input": {"a": 1}}}]}},
                       "stopReason": "tool_use"}),
                true,
                json!({"/choices/0/message/content": "{\"a\":1}", "/choices/0/finish_reason": "stop",
                       "/choices/0/message/tool_calls": null, "/usage": null}),
            ),
            (
                json!({"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": "max_tokens"}),
                false,
                json!({"/choices/0/finish_reason": "length"}),
            ),
            (
                json!({"output": {"message": {"content": []}}, "stopReason": "guardrail_intervened"}),
                false,
                json!({"/choices/0/finish_reason": "content_filter", "/choices/0/message/content": ""}),
            ),
        ];
        for (answer, json_mode, expected) in cases {
            check(answer, json_mode, expected);
        }
    }

    #[test]
    fn maps_every_stop_reason() {
        let cases = [
            ("end_turn", FinishReason::Stop),
            ("stop_sequence", FinishReason::Stop),
            ("max_tokens", FinishReason::Length),
            ("tool_use", FinishReason::ToolCalls),
            ("guardrail_intervened", FinishReason::ContentFilter),
            ("content_filtered", FinishReason::ContentFilter),
            ("model_context_window_exceeded", FinishReason::Length),
            ("something_new", FinishReason::Stop),
        ];
        for (reason, expected) in cases {
            assert_eq!(finish_reason(reason), expected, "{reason}");
        }
    }
}
