//! Cohere's `/v2/chat` answer → an OpenAI chat completion, and the pieces the stream shares:
//! finish reasons, usage, tool calls.

use llm_types::{
    ChatCompletionResponse, Choice, Error, ErrorKind, FinishReason, FunctionCall,
    PromptTokensDetails, ResponseMessage, Role, ToolCall, Usage,
};
use serde::Deserialize;

use crate::redact::redact_secrets;
use crate::stream_driver::bad_response;
use crate::upstream::now_secs;

#[derive(Debug, Deserialize)]
pub(crate) struct CohereResponse {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub message: CohereMessage,
    #[serde(default)]
    pub usage: Option<CohereUsage>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CohereMessage {
    #[serde(default)]
    pub content: Vec<ContentItem>,
    #[serde(default)]
    pub tool_plan: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<CohereToolCall>,
}

/// `{"type": "text", "text"}` or `{"type": "thinking", "thinking"}`; other kinds are skipped.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContentItem {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CohereToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: CohereFunction,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CohereFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CohereUsage {
    #[serde(default)]
    pub billed_units: Option<Tokens>,
    #[serde(default)]
    pub tokens: Option<Tokens>,
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Tokens {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
}

/// Cohere's finish reason; `ERROR` and `TIMEOUT` are failures, not finishes.
pub(crate) fn finish_reason(
    reason: Option<&str>,
    error: Option<&str>,
) -> Result<FinishReason, Error> {
    match reason {
        Some("MAX_TOKENS") => Ok(FinishReason::Length),
        Some("TOOL_CALL") => Ok(FinishReason::ToolCalls),
        Some("ERROR") => Err(Error::upstream(
            ErrorKind::UpstreamServerError,
            Some(200),
            format!(
                "upstream error: Cohere stopped with ERROR{}",
                error
                    .map(|e| format!(": {}", redact_secrets(e)))
                    .unwrap_or_default()
            ),
        )),
        Some("TIMEOUT") => Err(Error::upstream(
            ErrorKind::UpstreamTimeout,
            Some(200),
            "upstream error: Cohere stopped with TIMEOUT",
        )),
        // COMPLETE, STOP_SEQUENCE.
        _ => Ok(FinishReason::Stop),
    }
}

/// The tokens the model read and wrote (`tokens`), else what was billed.
pub(crate) fn usage(usage: &CohereUsage) -> Usage {
    let pick = |tokens: &Option<Tokens>, output: bool| {
        tokens.as_ref().and_then(|t| {
            if output {
                t.output_tokens
            } else {
                t.input_tokens
            }
        })
    };
    let input = pick(&usage.tokens, false)
        .or_else(|| pick(&usage.billed_units, false))
        .unwrap_or(0);
    let output = pick(&usage.tokens, true)
        .or_else(|| pick(&usage.billed_units, true))
        .unwrap_or(0);
    let mut out = Usage::new(input, output);
    if let Some(cached) = usage.cached_tokens {
        out.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            ..PromptTokensDetails::default()
        });
    }
    out
}

pub(crate) fn completion_id(id: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!("chatcmpl-{id}"),
        _ => format!("chatcmpl-cohere-{:x}", now_secs()),
    }
}

/// A complete answer as an OpenAI chat completion.
pub(crate) fn translate(bytes: &[u8], model: &str) -> Result<ChatCompletionResponse, Error> {
    let response: CohereResponse = serde_json::from_slice(bytes)
        .map_err(|e| bad_response(format!("the upstream sent an invalid chat response: {e}")))?;
    let finish = finish_reason(response.finish_reason.as_deref(), None)?;
    let mut text = String::new();
    let mut thinking = String::new();
    for item in &response.message.content {
        match item.kind.as_str() {
            "text" => text.push_str(item.text.as_deref().unwrap_or_default()),
            "thinking" => thinking.push_str(item.thinking.as_deref().unwrap_or_default()),
            _ => {}
        }
    }
    let tool_calls: Vec<ToolCall> = response
        .message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(index, call)| ToolCall {
            id: call.id.unwrap_or_else(|| format!("call_{index}")),
            kind: "function".to_owned(),
            function: FunctionCall {
                name: call.function.name.unwrap_or_default(),
                arguments: call.function.arguments.unwrap_or_else(|| "{}".to_owned()),
            },
        })
        .collect();
    // The tool plan is the model's visible text before its calls.
    let content = if text.is_empty() {
        response.message.tool_plan.filter(|p| !p.is_empty())
    } else {
        Some(text)
    };
    let usage = response.usage.as_ref().map(usage);
    Ok(ChatCompletionResponse {
        id: completion_id(response.id.as_deref()),
        object: "chat.completion".to_owned(),
        created: now_secs(),
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content,
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                function_call: None,
                reasoning_content: (!thinking.is_empty()).then_some(thinking),
                annotations: None,
                thinking_blocks: None,
            },
            finish_reason: Some(finish),
            logprobs: None,
        }],
        usage,
        system_fingerprint: None,
        service_tier: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn translates_answers() {
        let cases = [
            (
                json!({"id": "f17a", "finish_reason": "COMPLETE",
                       "message": {"role": "assistant", "content": [{"type": "text", "text": "Hello!"}]},
                       "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 9}, "tokens": {"input_tokens": 496, "output_tokens": 11}, "cached_tokens": 480}}),
                json!({"id": "chatcmpl-f17a", "object": "chat.completion", "created": 0, "model": "command-a",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": null},
                                    "finish_reason": "stop", "logprobs": null}],
                       "usage": {"prompt_tokens": 496, "completion_tokens": 11, "total_tokens": 507,
                                 "prompt_tokens_details": {"cached_tokens": 480}}}),
            ),
            (
                json!({"id": "t1", "finish_reason": "TOOL_CALL",
                       "message": {"role": "assistant", "tool_plan": "I will check the weather.",
                                   "tool_calls": [{"id": "get_weather_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                       "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 7}}}),
                json!({"id": "chatcmpl-t1", "object": "chat.completion", "created": 0, "model": "command-a",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "I will check the weather.", "refusal": null,
                                    "tool_calls": [{"id": "get_weather_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                                    "finish_reason": "tool_calls", "logprobs": null}],
                       "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}),
            ),
            (
                json!({"id": "r1", "finish_reason": "MAX_TOKENS",
                       "message": {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "4"}]}}),
                json!({"id": "chatcmpl-r1", "object": "chat.completion", "created": 0, "model": "command-a",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null, "reasoning_content": "hmm"},
                                    "finish_reason": "length", "logprobs": null}]}),
            ),
        ];
        for (input, expected) in cases {
            let translated = translate(input.to_string().as_bytes(), "command-a").unwrap();
            let mut value: Value = serde_json::to_value(translated).unwrap();
            value["created"] = json!(0);
            assert_eq!(value, expected);
        }
        let failed = json!({"id": "e", "finish_reason": "ERROR", "message": {"role": "assistant"}});
        assert_eq!(
            translate(failed.to_string().as_bytes(), "m")
                .unwrap_err()
                .status(),
            502
        );
    }
}
