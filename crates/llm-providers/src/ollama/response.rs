//! Ollama's answers → OpenAI: the `/api/chat` body, and its NDJSON stream chunk by chunk.
//!
//! Ollama gives no completion id or tool-call ids, so both are synthesized; `done_reason` is
//! `stop` even when the model called tools, so tool calls decide `tool_calls`; `thinking` is
//! the reasoning trace (`reasoning_content`); usage is `prompt_eval_count` / `eval_count`.

use llm_types::{
    ChatCompletionChunk, ChatCompletionResponse, Choice, Delta, Error, ErrorKind, FinishReason,
    FunctionCall, FunctionCallDelta, ResponseMessage, Role, ToolCall, ToolCallDelta, Usage,
};
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::redact::redact_secrets;
use crate::stream_driver::{Step, Translator, bad_response, delta_chunk};
use crate::upstream::now_secs;

/// One `/api/chat` answer or stream line. Unknown fields (durations, `created_at`, `logprobs`)
/// are tolerated.
#[derive(Debug, Deserialize)]
pub(crate) struct OllamaResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub message: Option<OllamaMessage>,
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub done_reason: Option<String>,
    #[serde(default)]
    pub prompt_eval_count: Option<u64>,
    #[serde(default)]
    pub eval_count: Option<u64>,
    /// A failure reported in the body (mid-stream, with status 200).
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OllamaMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    /// `null` in some versions' stream lines.
    #[serde(default)]
    pub tool_calls: Option<Vec<OllamaToolCall>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OllamaToolCall {
    /// Newer servers send an id; older ones none.
    #[serde(default)]
    pub id: Option<String>,
    pub function: OllamaFunctionCall,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OllamaFunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<Value>,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A completion id unique within the process (Ollama sends none).
pub(crate) fn completion_id() -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("chatcmpl-ollama-{:x}{nanos:08x}{n:x}", now_secs())
}

fn call_id(completion: &str, index: usize) -> String {
    let suffix = completion.strip_prefix("chatcmpl-").unwrap_or(completion);
    format!("call_{suffix}_{index}")
}

fn arguments(value: Option<Value>) -> String {
    match value {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    }
}

fn finish_reason(done_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match done_reason {
        Some("length") => FinishReason::Length,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

fn usage(response: &OllamaResponse) -> Option<Usage> {
    if response.prompt_eval_count.is_none() && response.eval_count.is_none() {
        return None;
    }
    Some(Usage::new(
        response.prompt_eval_count.unwrap_or(0),
        response.eval_count.unwrap_or(0),
    ))
}

fn error_in_body(message: &str) -> Error {
    Error::upstream(
        ErrorKind::UpstreamServerError,
        Some(200),
        format!("upstream error: {}", redact_secrets(message)),
    )
}

/// A complete `/api/chat` answer as an OpenAI chat completion.
pub(crate) fn translate(bytes: &[u8], model: &str) -> Result<ChatCompletionResponse, Error> {
    let response: OllamaResponse = serde_json::from_slice(bytes)
        .map_err(|e| bad_response(format!("the upstream sent an invalid chat response: {e}")))?;
    if let Some(error) = &response.error {
        return Err(error_in_body(error));
    }
    let id = completion_id();
    let usage = usage(&response);
    let message = response.message.unwrap_or_default();
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, call)| ToolCall {
            id: call.id.unwrap_or_else(|| call_id(&id, index)),
            kind: "function".to_owned(),
            function: FunctionCall {
                name: call.function.name,
                arguments: arguments(call.function.arguments),
            },
        })
        .collect();
    let content = message
        .content
        .filter(|c| !c.is_empty() || tool_calls.is_empty());
    let finish = finish_reason(response.done_reason.as_deref(), !tool_calls.is_empty());
    Ok(ChatCompletionResponse {
        id,
        object: "chat.completion".to_owned(),
        created: now_secs(),
        model: response.model.unwrap_or_else(|| model.to_owned()),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: Role::Assistant,
                content,
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                function_call: None,
                reasoning_content: message.thinking.filter(|t| !t.is_empty()),
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

/// NDJSON lines → chunks. Each tool call arrives whole in one line, so it becomes one delta
/// with id, name and all its arguments.
#[derive(Debug)]
pub(crate) struct OllamaChunks {
    id: String,
    model: String,
    created: u64,
    sent_role: bool,
    tool_calls: usize,
    done: bool,
}

impl OllamaChunks {
    pub(crate) fn new(model: &str) -> Self {
        OllamaChunks {
            id: completion_id(),
            model: model.to_owned(),
            created: now_secs(),
            sent_role: false,
            tool_calls: 0,
            done: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatCompletionChunk {
        delta_chunk(&self.id, self.created, &self.model, delta, finish_reason)
    }
}

impl Translator for OllamaChunks {
    type Frame = String;

    fn on_frame(
        &mut self,
        line: String,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let response: OllamaResponse = serde_json::from_str(&line)
            .map_err(|e| bad_response(format!("the upstream sent an invalid stream line ({e})")))?;
        if let Some(error) = &response.error {
            return Err(error_in_body(error));
        }
        if let Some(model) = &response.model
            && !model.is_empty()
        {
            model.clone_into(&mut self.model);
        }
        let message = response.message.as_ref();
        let content = message
            .and_then(|m| m.content.clone())
            .filter(|c| !c.is_empty());
        let thinking = message
            .and_then(|m| m.thinking.clone())
            .filter(|t| !t.is_empty());
        let calls: Vec<ToolCallDelta> = message
            .and_then(|m| m.tool_calls.as_ref())
            .into_iter()
            .flatten()
            .map(|call| {
                let index = self.tool_calls;
                self.tool_calls += 1;
                ToolCallDelta {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    id: Some(call.id.clone().unwrap_or_else(|| call_id(&self.id, index))),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name.clone()),
                        arguments: Some(arguments(call.function.arguments.clone())),
                    }),
                }
            })
            .collect();
        let has_delta = content.is_some() || thinking.is_some() || !calls.is_empty();
        if has_delta || (!self.sent_role && !response.done) {
            let role = (!self.sent_role).then_some(Role::Assistant);
            self.sent_role = true;
            let delta = Delta {
                role,
                content: content.or_else(|| role.map(|_| String::new())),
                reasoning_content: thinking,
                tool_calls: (!calls.is_empty()).then_some(calls),
                ..Delta::default()
            };
            out.push(self.chunk(delta, None));
        }
        if response.done {
            self.done = true;
            let finish = finish_reason(response.done_reason.as_deref(), self.tool_calls > 0);
            let mut last = self.chunk(Delta::default(), Some(finish));
            last.usage = usage(&response);
            out.push(last);
            return Ok(Step::Done);
        }
        Ok(Step::Continue)
    }

    fn complete_at_eof(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Normalizes the synthesized parts (ids, timestamps) so outputs compare.
    fn normalized(mut value: Value) -> Value {
        value["id"] = json!("ID");
        value["created"] = json!(0);
        if let Some(calls) = value
            .pointer_mut("/choices/0/message/tool_calls")
            .and_then(Value::as_array_mut)
        {
            for call in calls {
                call["id"] = json!("CALL");
            }
        }
        value
    }

    #[test]
    fn translates_answers() {
        let cases = [
            (
                json!({"model": "llama3.2", "created_at": "2023-12-12T14:13:43.416799Z",
                       "message": {"role": "assistant", "content": "Hello!"}, "done": true,
                       "total_duration": 5191566416u64, "prompt_eval_count": 26, "eval_count": 298}),
                json!({"id": "ID", "object": "chat.completion", "created": 0, "model": "llama3.2",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": null},
                                    "finish_reason": "stop", "logprobs": null}],
                       "usage": {"prompt_tokens": 26, "completion_tokens": 298, "total_tokens": 324}}),
            ),
            (
                json!({"model": "llama3.2", "message": {"role": "assistant", "content": "",
                       "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}}]},
                       "done_reason": "stop", "done": true, "prompt_eval_count": 169, "eval_count": 18}),
                json!({"id": "ID", "object": "chat.completion", "created": 0, "model": "llama3.2",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null,
                                    "tool_calls": [{"id": "CALL", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}]},
                                    "finish_reason": "tool_calls", "logprobs": null}],
                       "usage": {"prompt_tokens": 169, "completion_tokens": 18, "total_tokens": 187}}),
            ),
            (
                json!({"model": "qwen3", "message": {"role": "assistant", "content": "4", "thinking": "2+2"},
                       "done_reason": "length", "done": true}),
                json!({"id": "ID", "object": "chat.completion", "created": 0, "model": "qwen3",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "refusal": null, "reasoning_content": "2+2"},
                                    "finish_reason": "length", "logprobs": null}]}),
            ),
        ];
        for (input, expected) in cases {
            let translated = translate(input.to_string().as_bytes(), "fallback").unwrap();
            assert_eq!(
                normalized(serde_json::to_value(translated).unwrap()),
                expected
            );
        }
        assert!(translate(b"{\"error\":\"boom\"}", "m").is_err());
        assert!(translate(b"not json", "m").is_err());
    }

    #[test]
    fn translates_stream_lines() {
        let mut translator = OllamaChunks::new("llama3.2");
        let lines = [
            json!({"model": "llama3.2", "message": {"role": "assistant", "content": "The", "images": null}, "done": false}),
            json!({"model": "llama3.2", "message": {"role": "assistant", "content": " sky"}, "done": false}),
            json!({"model": "llama3.2", "message": {"role": "assistant", "content": "",
                   "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}, "done": false}),
            json!({"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done_reason": "stop",
                   "done": true, "prompt_eval_count": 3, "eval_count": 4}),
        ];
        let mut out = Vec::new();
        let mut steps = Vec::new();
        for line in lines {
            steps.push(translator.on_frame(line.to_string(), &mut out).unwrap());
        }
        assert_eq!(steps.last(), Some(&Step::Done));
        assert!(translator.complete_at_eof());
        let deltas: Vec<Value> = out
            .iter()
            .map(|c| serde_json::to_value(&c.choices[0].delta).unwrap())
            .collect();
        assert_eq!(deltas[0], json!({"role": "assistant", "content": "The"}));
        assert_eq!(deltas[1], json!({"content": " sky"}));
        let call = &out[2].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!(
            (
                call.index,
                call.function.as_ref().unwrap().arguments.as_deref()
            ),
            (0, Some("{\"a\":1}"))
        );
        assert!(call.id.as_deref().unwrap().starts_with("call_"));
        assert_eq!(
            out[3].choices[0].finish_reason,
            Some(FinishReason::ToolCalls)
        );
        assert_eq!(out[3].usage, Some(Usage::new(3, 4)));
        assert!(
            translator
                .on_frame("{\"error\":\"out of memory\"}".into(), &mut out)
                .is_err()
        );
        assert!(translator.on_frame("garbage".into(), &mut out).is_err());
    }
}
