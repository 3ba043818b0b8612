//! Anthropic `Message` → OpenAI chat completion: text, tool calls, thinking as
//! `reasoning_content` and as LiteLLM's `thinking_blocks` (with signatures, so a client can
//! hand them back), stop reasons, and usage with cache tokens.

use llm_types::{
    ChatCompletionResponse, Choice, FinishReason, FunctionCall, ResponseMessage, Role,
    ThinkingBlock, ToolCall, Usage,
};

use super::request::JSON_TOOL_NAME;
use super::wire::{AnthropicResponse, AnthropicUsage, ResponseBlock};

/// Maps Anthropic's `stop_reason` onto OpenAI's `finish_reason`.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn and anything newer end the turn normally.
        _ => FinishReason::Stop,
    }
}

/// OpenAI usage: cache reads and writes are prompt tokens too (Anthropic counts them apart
/// from `input_tokens`); reads are `cached_tokens`, and both are kept at the top level as
/// LiteLLM reports them.
pub fn usage(usage: &AnthropicUsage) -> Usage {
    let prompt = usage.input_tokens.unwrap_or(0)
        + usage.cache_creation_input_tokens.unwrap_or(0)
        + usage.cache_read_input_tokens.unwrap_or(0);
    Usage::new(prompt, usage.output_tokens.unwrap_or(0)).with_cache(
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
    )
}

/// Translates a complete answer. With `json_mode` (the request had a `response_format`), the
/// forced [`JSON_TOOL_NAME`] call is the answer and becomes the message content.
pub fn from_anthropic_response(
    response: AnthropicResponse,
    json_mode: bool,
    created: u64,
) -> ChatCompletionResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    for block in response.content {
        match block {
            ResponseBlock::Text { text: piece } => text.push_str(&piece),
            ResponseBlock::Thinking {
                thinking,
                signature,
            } => {
                reasoning.push_str(&thinking);
                thinking_blocks.push(ThinkingBlock::thinking(Some(thinking), signature));
            }
            ResponseBlock::RedactedThinking { data } => {
                thinking_blocks.push(ThinkingBlock::redacted(data));
            }
            ResponseBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name,
                    arguments: input.to_string(),
                },
            }),
            ResponseBlock::Other => {}
        }
    }
    let mut finish = response.stop_reason.as_deref().map(finish_reason);
    if json_mode
        && let [only] = tool_calls.as_slice()
        && only.function.name == JSON_TOOL_NAME
    {
        text = only.function.arguments.clone();
        tool_calls.clear();
        finish = Some(FinishReason::Stop);
    }
    ChatCompletionResponse {
        id: response.id,
        object: "chat.completion".to_owned(),
        created,
        model: response.model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                function_call: None,
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                annotations: None,
                thinking_blocks: (!thinking_blocks.is_empty()).then_some(thinking_blocks),
            },
            finish_reason: Some(finish.unwrap_or(FinishReason::Stop)),
            logprobs: None,
        }],
        usage: response.usage.as_ref().map(usage),
        system_fingerprint: None,
        service_tier: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_stop_reasons() {
        let cases = [
            ("end_turn", FinishReason::Stop),
            ("stop_sequence", FinishReason::Stop),
            ("max_tokens", FinishReason::Length),
            ("tool_use", FinishReason::ToolCalls),
            ("refusal", FinishReason::ContentFilter),
            ("pause_turn", FinishReason::Stop),
        ];
        for (reason, expected) in cases {
            assert_eq!(finish_reason(reason), expected, "{reason}");
        }
    }

    #[test]
    fn counts_cache_tokens_as_prompt_tokens() {
        // (input, output, read, write) → (prompt, completion, cached_tokens, read, write)
        let cases = [
            ((10, 5, None, None), (10, 5, None, None, None)),
            (
                (10, 5, Some(100), Some(20)),
                (130, 5, Some(100), Some(100), Some(20)),
            ),
            ((3, 1, Some(0), Some(0)), (3, 1, Some(0), Some(0), Some(0))),
            ((3, 1, None, Some(8)), (11, 1, Some(0), None, Some(8))),
        ];
        for ((input, output, read, write), (prompt, completion, cached, top_read, top_write)) in
            cases
        {
            let got = usage(&AnthropicUsage {
                input_tokens: Some(input),
                output_tokens: Some(output),
                cache_read_input_tokens: read,
                cache_creation_input_tokens: write,
            });
            assert_eq!(
                (
                    got.prompt_tokens,
                    got.completion_tokens,
                    got.total_tokens,
                    got.prompt_tokens_details.and_then(|d| d.cached_tokens),
                    got.cache_read_input_tokens,
                    got.cache_creation_input_tokens,
                ),
                (
                    prompt,
                    completion,
                    prompt + completion,
                    cached,
                    top_read,
                    top_write
                )
            );
        }
    }
}
