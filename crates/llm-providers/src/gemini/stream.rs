//! `streamGenerateContent?alt=sse` events in → OpenAI chunks.
//!
//! Every event is a whole `GenerateContentResponse` holding only the new parts. Text and
//! thought parts become `content` / `reasoning_content` deltas; a function call arrives whole
//! and becomes one tool-call delta (id, name and all arguments). Each event repeats the running
//! `usageMetadata`; the stream driver keeps the last one for the final usage chunk. Gemini sends
//! no `[DONE]`: the stream is complete once a candidate carried a `finishReason`.

use llm_types::{
    ChatCompletionChunk, ChunkChoice, Delta, Error, FunctionCallDelta, Role, ToolCallDelta,
};

use super::error::in_stream_error;
use super::response::{completion_id, finish_reason, now, sort_parts, usage};
use super::wire::GenerateContentResponse;
use crate::sse::SseEvent;
use crate::stream_driver::{Step, Translator};

/// Per-stream state: the ids and what each candidate has sent so far.
#[derive(Debug)]
pub struct GeminiChunks {
    model: String,
    id: Option<String>,
    created: u64,
    /// Per candidate index: whether the role was sent, and how many tool calls.
    candidates: Vec<CandidateState>,
    saw_finish: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct CandidateState {
    opened: bool,
    tool_calls: usize,
}

impl GeminiChunks {
    /// `model` names the chunks until Gemini says its `modelVersion`.
    pub fn new(model: &str) -> Self {
        GeminiChunks {
            model: model.to_owned(),
            id: None,
            created: now(),
            candidates: Vec::new(),
            saw_finish: false,
        }
    }

    fn state(&mut self, index: usize) -> &mut CandidateState {
        if self.candidates.len() <= index {
            self.candidates
                .resize(index.saturating_add(1), CandidateState::default());
        }
        &mut self.candidates[index]
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone().unwrap_or_default(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: None,
            system_fingerprint: None,
            service_tier: None,
        }
    }

    /// Translates one parsed event.
    pub fn on_response(
        &mut self,
        response: GenerateContentResponse,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Step {
        if self.id.is_none() {
            self.id = Some(completion_id(response.response_id.as_deref()));
        }
        if let Some(version) = response.model_version {
            self.model = version;
        }
        let mut choices = Vec::new();
        for (position, candidate) in response.candidates.iter().enumerate() {
            let index = candidate
                .index
                .map_or(position, |i| usize::try_from(i).unwrap_or(position));
            let state = *self.state(index);
            let parts = candidate
                .content
                .as_ref()
                .map(|c| c.parts.as_slice())
                .unwrap_or_default();
            let sorted = sort_parts(parts, state.tool_calls);
            let tool_calls: Vec<ToolCallDelta> = sorted
                .tool_calls
                .into_iter()
                .enumerate()
                .map(|(n, call)| ToolCallDelta {
                    index: u32::try_from(state.tool_calls + n).unwrap_or(u32::MAX),
                    id: Some(call.id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name),
                        arguments: Some(call.function.arguments),
                    }),
                })
                .collect();
            let called = state.tool_calls + tool_calls.len();
            let finish = candidate
                .finish_reason
                .as_deref()
                .map(|reason| finish_reason(reason, called > 0));
            let delta = Delta {
                role: (!state.opened).then_some(Role::Assistant),
                content: sorted.text,
                refusal: None,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                function_call: None,
                reasoning_content: sorted.reasoning,
                thinking_blocks: None,
            };
            let state = self.state(index);
            state.opened = true;
            state.tool_calls = called;
            if finish.is_some() {
                self.saw_finish = true;
            }
            if delta == Delta::default() && finish.is_none() {
                continue;
            }
            choices.push(ChunkChoice {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                delta,
                finish_reason: finish,
                logprobs: None,
            });
        }
        if response.candidates.is_empty()
            && response
                .prompt_feedback
                .as_ref()
                .and_then(|f| f.block_reason.as_ref())
                .is_some()
        {
            // A blocked prompt: one filtered, empty choice.
            self.saw_finish = true;
            choices.push(ChunkChoice {
                index: 0,
                delta: Delta {
                    role: Some(Role::Assistant),
                    ..Delta::default()
                },
                finish_reason: Some(llm_types::FinishReason::ContentFilter),
                logprobs: None,
            });
        }
        let mut chunk = self.chunk(choices);
        chunk.usage = response.usage_metadata.as_ref().map(usage);
        if !chunk.choices.is_empty() || chunk.usage.is_some() {
            out.push(chunk);
        }
        Step::Continue
    }
}

impl Translator for GeminiChunks {
    type Frame = SseEvent;

    fn on_frame(
        &mut self,
        event: SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(Step::Continue);
        }
        match serde_json::from_str::<GenerateContentResponse>(data) {
            Ok(response) if response.error.is_some() => Err(in_stream_error(data)),
            Ok(response) => Ok(self.on_response(response, out)),
            Err(_) => Err(in_stream_error(data)),
        }
    }

    fn complete_at_eof(&self) -> bool {
        self.saw_finish
    }
}

#[cfg(test)]
mod tests;
