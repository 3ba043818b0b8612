//! Cohere's v2 stream events → OpenAI chunks.
//!
//! `message-start` opens the message (role chunk); `content-delta` carries text or, for
//! reasoning models, thinking; `tool-plan-delta` the text before tool calls; `tool-call-start`
//! a call's id and name, `tool-call-delta` pieces of its arguments; `message-end` the finish
//! reason and usage. `content-start`/`-end` and `tool-call-end` carry nothing we need.

use llm_types::{
    ChatCompletionChunk, Delta, Error, FinishReason, FunctionCallDelta, Role, ToolCallDelta,
};
use serde::Deserialize;

use super::response::{CohereUsage, completion_id, finish_reason, usage};
use crate::sse::SseEvent;
use crate::stream_driver::{Step, Translator, bad_response, delta_chunk};
use crate::upstream::now_secs;

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    delta: Option<EventDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct EventDelta {
    #[serde(default)]
    message: Option<MessageDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<CohereUsage>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDelta {
    #[serde(default)]
    content: Option<ContentDelta>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Option<ToolCallPiece>,
}

/// In `content-delta` an object. `message-start` sends an empty array here, which serde's
/// derived sequence form reads as all-default fields: nothing.
#[derive(Debug, Default, Deserialize)]
struct ContentDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
}

/// In `tool-call-*` events an object; `message-start` sends an empty array (read as empty).
#[derive(Debug, Default, Deserialize)]
struct ToolCallPiece {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionPiece>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionPiece {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug)]
pub(crate) struct CohereChunks {
    id: String,
    model: String,
    created: u64,
    sent_role: bool,
    tool_index: Option<u32>,
    tool_calls: u32,
    done: bool,
}

impl CohereChunks {
    pub(crate) fn new(model: &str) -> Self {
        CohereChunks {
            id: completion_id(None),
            model: model.to_owned(),
            created: now_secs(),
            sent_role: false,
            tool_index: None,
            tool_calls: 0,
            done: false,
        }
    }

    fn push(
        &mut self,
        out: &mut Vec<ChatCompletionChunk>,
        mut delta: Delta,
        finish: Option<FinishReason>,
    ) {
        if !self.sent_role {
            self.sent_role = true;
            delta.role = Some(Role::Assistant);
        }
        out.push(delta_chunk(
            &self.id,
            self.created,
            &self.model,
            delta,
            finish,
        ));
    }
}

impl Translator for CohereChunks {
    type Frame = SseEvent;

    fn on_frame(
        &mut self,
        frame: SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(Step::Continue);
        }
        let event: Event = serde_json::from_str(data).map_err(|e| {
            bad_response(format!("the upstream sent an invalid stream event ({e})"))
        })?;
        let delta = event.delta.unwrap_or_default();
        let message = delta.message.unwrap_or_default();
        match event.kind.as_str() {
            "message-start" => {
                if let Some(id) = event.id.filter(|id| !id.is_empty()) {
                    self.id = completion_id(Some(&id));
                }
                self.push(
                    out,
                    Delta {
                        content: Some(String::new()),
                        ..Delta::default()
                    },
                    None,
                );
            }
            "content-delta" => {
                if let Some(ContentDelta { text, thinking }) = message.content {
                    let delta = Delta {
                        content: text.filter(|t| !t.is_empty()),
                        reasoning_content: thinking.filter(|t| !t.is_empty()),
                        ..Delta::default()
                    };
                    if delta.content.is_some() || delta.reasoning_content.is_some() {
                        self.push(out, delta, None);
                    }
                }
            }
            "tool-plan-delta" => {
                if let Some(plan) = message.tool_plan.filter(|p| !p.is_empty()) {
                    let delta = Delta {
                        content: Some(plan),
                        ..Delta::default()
                    };
                    self.push(out, delta, None);
                }
            }
            "tool-call-start" | "tool-call-delta" => {
                let Some(ToolCallPiece { id, function }) = message.tool_calls else {
                    return Ok(Step::Continue);
                };
                let function = function.unwrap_or_default();
                let starts = event.kind == "tool-call-start";
                if starts {
                    self.tool_index = Some(self.tool_calls);
                    self.tool_calls += 1;
                }
                let index = self.tool_index.unwrap_or(event.index.unwrap_or(0));
                let call = ToolCallDelta {
                    index,
                    id: if starts { id } else { None },
                    kind: starts.then(|| "function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: if starts { function.name } else { None },
                        arguments: Some(function.arguments.unwrap_or_default()),
                    }),
                };
                let delta = Delta {
                    tool_calls: Some(vec![call]),
                    ..Delta::default()
                };
                self.push(out, delta, None);
            }
            "message-end" => {
                let finish = finish_reason(delta.finish_reason.as_deref(), delta.error.as_deref())?;
                self.push(out, Delta::default(), Some(finish));
                if let (Some(usage_in), Some(last)) = (delta.usage.as_ref(), out.last_mut()) {
                    last.usage = Some(usage(usage_in));
                }
                self.done = true;
                return Ok(Step::Done);
            }
            // content-start, content-end, tool-call-end, citation-*, debug: nothing to emit.
            _ => {}
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
    use serde_json::{Value, json};

    fn event(value: Value) -> SseEvent {
        SseEvent {
            event: value["type"].as_str().map(str::to_owned),
            data: value.to_string(),
        }
    }

    #[test]
    fn translates_events() {
        let events = [
            json!({"id": "abc", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"thinking": "hmm"}}}}),
            json!({"type": "content-delta", "index": 1, "delta": {"message": {"content": {"text": "Hi"}}}}),
            json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
            json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\"city\""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": ":\"Paris\"}"}}}}}),
            json!({"type": "tool-call-end", "index": 0}),
            json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 4}, "tokens": {"input_tokens": 30, "output_tokens": 4}}}}),
        ];
        let mut translator = CohereChunks::new("command-a");
        let mut out = Vec::new();
        let mut last = Step::Continue;
        for e in events {
            last = translator.on_frame(event(e), &mut out).unwrap();
        }
        assert_eq!(last, Step::Done);
        assert!(translator.complete_at_eof());
        let deltas: Vec<Value> = out
            .iter()
            .map(|c| serde_json::to_value(&c.choices[0].delta).unwrap())
            .collect();
        assert_eq!(
            deltas,
            [
                json!({"role": "assistant", "content": ""}),
                json!({"reasoning_content": "hmm"}),
                json!({"content": "Hi"}),
                json!({"content": "I will"}),
                json!({"tool_calls": [{"index": 0, "id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\""}}]}),
                json!({"tool_calls": [{"index": 0, "function": {"arguments": ":\"Paris\"}"}}]}),
                json!({}),
            ]
        );
        let end = out.last().unwrap();
        assert_eq!(end.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(end.usage.as_ref().map(|u| u.prompt_tokens), Some(30));
        assert_eq!(out[0].id, "chatcmpl-abc");
        let mut failing = CohereChunks::new("m");
        let error = json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "overloaded"}});
        assert!(failing.on_frame(event(error), &mut Vec::new()).is_err());
        assert!(
            failing
                .on_frame(
                    SseEvent {
                        event: None,
                        data: "nope".into()
                    },
                    &mut Vec::new()
                )
                .is_err()
        );
    }
}
