//! Gemini `generateContent` answer in → OpenAI chat completion.
//!
//! Each candidate becomes a choice: text parts join into `content`, `thought` parts into
//! `reasoning_content`, `functionCall` parts into `tool_calls` (with synthesized ids, see
//! [`super::ids`]). Finish reasons and `usageMetadata` map as [`finish_reason`] and [`usage`]
//! document.

use llm_types::{
    ChatCompletionResponse, Choice, CompletionTokensDetails, FinishReason, FunctionCall,
    ResponseMessage, Role, ToolCall, Usage,
};

use super::ids;
use super::wire::{Candidate, GenerateContentResponse, Part, UsageMetadata};

/// Gemini's `finishReason` as OpenAI's. A candidate that called functions finished with
/// `tool_calls` whatever Gemini says (it says `STOP`); the safety family is `content_filter`;
/// everything else (`OTHER`, `MALFORMED_FUNCTION_CALL`, newer values) is a plain stop.
pub fn finish_reason(reason: &str, called_tools: bool) -> FinishReason {
    match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// `usageMetadata` as OpenAI usage. Thoughts count as completion tokens (OpenAI counts
/// reasoning tokens inside `completion_tokens`); the prompt includes tool-use prompt tokens;
/// cached content tokens are `cached_tokens` and `cache_read_input_tokens` (Gemini's
/// `promptTokenCount` already includes them; it reports no cache writes).
pub fn usage(meta: &UsageMetadata) -> Usage {
    let thoughts = meta.thoughts_token_count.unwrap_or(0);
    let prompt = meta.prompt_token_count + meta.tool_use_prompt_token_count.unwrap_or(0);
    let mut usage = Usage::new(prompt, meta.candidates_token_count + thoughts)
        .with_cache(meta.cached_content_token_count, None);
    if let Some(reasoning) = meta.thoughts_token_count {
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..CompletionTokensDetails::default()
        });
    }
    usage
}

/// What a candidate's parts say, sorted into OpenAI's fields.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
}

/// Sorts parts; `first_call` numbers the calls (streams continue the count across events).
pub(super) fn sort_parts(parts: &[Part], first_call: usize) -> Sorted {
    let mut sorted = Sorted::default();
    for part in parts {
        if let Some(call) = &part.function_call {
            let index = first_call + sorted.tool_calls.len();
            let arguments = call
                .args
                .as_ref()
                .map_or_else(|| "{}".to_owned(), |args| args.to_string());
            sorted.tool_calls.push(ToolCall {
                id: ids::tool_call_id(call, index, part.thought_signature.as_deref()),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name.clone(),
                    arguments,
                },
            });
        } else if let Some(text) = &part.text {
            let slot = if part.thought == Some(true) {
                &mut sorted.reasoning
            } else {
                &mut sorted.text
            };
            slot.get_or_insert_with(String::new).push_str(text);
        }
        // inlineData output (images), executableCode and the like have no OpenAI field.
    }
    sorted
}

/// The OpenAI id for a Gemini answer.
pub(super) fn completion_id(response_id: Option<&str>) -> String {
    match response_id {
        Some(id) if !id.is_empty() => format!("chatcmpl-{id}"),
        _ => format!("chatcmpl-{:032x}", rand_id()),
    }
}

fn rand_id() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let mut hasher = state.build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    u128::from(hasher.finish()) << 64 | u128::from(state.build_hasher().finish())
}

pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Translates a complete answer; `model` names the deployment's model when Gemini does not.
pub fn translate(response: GenerateContentResponse, model: &str) -> ChatCompletionResponse {
    let mut choices: Vec<Choice> = response
        .candidates
        .iter()
        .enumerate()
        .map(|(position, candidate)| choice(candidate, position))
        .collect();
    if choices.is_empty() {
        // A prompt blocked before generation has no candidate, only `promptFeedback`.
        let blocked = response
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_ref())
            .is_some();
        choices.push(Choice {
            index: 0,
            message: message(Sorted::default()),
            finish_reason: Some(if blocked {
                FinishReason::ContentFilter
            } else {
                FinishReason::Stop
            }),
            logprobs: None,
        });
    }
    ChatCompletionResponse {
        id: completion_id(response.response_id.as_deref()),
        object: "chat.completion".to_owned(),
        created: now(),
        model: response.model_version.unwrap_or_else(|| model.to_owned()),
        choices,
        usage: response.usage_metadata.as_ref().map(usage),
        system_fingerprint: None,
        service_tier: None,
    }
}

fn choice(candidate: &Candidate, position: usize) -> Choice {
    let parts = candidate
        .content
        .as_ref()
        .map(|c| c.parts.as_slice())
        .unwrap_or_default();
    let sorted = sort_parts(parts, 0);
    let called = !sorted.tool_calls.is_empty();
    Choice {
        index: candidate
            .index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX)),
        finish_reason: Some(finish_reason(
            candidate.finish_reason.as_deref().unwrap_or("STOP"),
            called,
        )),
        message: message(sorted),
        logprobs: None,
    }
}

fn message(sorted: Sorted) -> ResponseMessage {
    ResponseMessage {
        role: Role::Assistant,
        content: sorted.text,
        refusal: None,
        tool_calls: (!sorted.tool_calls.is_empty()).then_some(sorted.tool_calls),
        function_call: None,
        reasoning_content: sorted.reasoning,
        annotations: None,
        thinking_blocks: None,
    }
}

#[cfg(test)]
mod tests;
