//! ConverseStream: AWS event-stream framing (`application/vnd.amazon.eventstream`, decoded by
//! `aws-smithy-eventstream`, CRCs checked) and the translation of its events into OpenAI chunks.
//!
//! Events: `messageStart` (role), `contentBlockStart` (a tool call's id and name),
//! `contentBlockDelta` (text, tool input JSON pieces, reasoning text, signature or redacted
//! reasoning: `reasoning_content` plus LiteLLM's `thinking_blocks` pieces), `contentBlockStop`,
//! `messageStop` (`stopReason`), then `metadata` (usage) which ends the stream. Exceptions
//! arrive as messages of type `exception` named by `:exception-type`.

use std::collections::HashMap;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::BytesMut;
use llm_types::{
    ChatCompletionChunk, Delta, Error, FinishReason, FunctionCallDelta, Role, ThinkingBlock,
    ToolCallDelta,
};
use serde::de::DeserializeOwned;

use super::error::stream_exception;
use super::request::JSON_TOOL_NAME;
use super::response::{finish_reason, usage};
use super::wire::{
    ContentBlockDelta, ContentBlockStart, ErrorPayload, MessageStop, Metadata, ReasoningDelta,
};
use crate::stream_driver::{Framing, MAX_FRAME_BYTES, Step, Translator, bad_response, delta_chunk};

/// Cuts the body into event-stream messages.
#[derive(Debug, Default)]
pub struct EventStreamFraming {
    buffer: BytesMut,
    decoder: MessageFrameDecoder,
}

impl Framing for EventStreamFraming {
    type Frame = Message;

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Result<Option<Message>, Error> {
        match self.decoder.decode_frame(&mut self.buffer) {
            Ok(DecodedFrame::Complete(message)) => Ok(Some(message)),
            // A frame still incomplete past the bound is a runaway upstream.
            Ok(DecodedFrame::Incomplete) if self.buffer.len() > MAX_FRAME_BYTES => Err(
                bad_response("the upstream sent an oversized event-stream message".into()),
            ),
            Ok(DecodedFrame::Incomplete) => Ok(None),
            Err(e) => Err(bad_response(format!(
                "the upstream sent an invalid event-stream message: {e}"
            ))),
        }
    }

    fn finish(&mut self) -> Result<Option<Message>, Error> {
        if self.buffer.is_empty() {
            Ok(None)
        } else {
            Err(bad_response(
                "the upstream stream ended inside an event-stream message".into(),
            ))
        }
    }
}

/// A string header of an event-stream message.
pub fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// ConverseStream events → OpenAI chunks.
#[derive(Debug)]
pub struct ConverseChunks {
    id: String,
    created: u64,
    model: String,
    json_mode: bool,
    /// Converse content-block index → OpenAI tool-call index (and whether it is the JSON tool).
    tools: HashMap<u32, (u32, bool)>,
    next_tool: u32,
    stopped: bool,
}

impl ConverseChunks {
    pub fn new(id: String, created: u64, model: String, json_mode: bool) -> Self {
        ConverseChunks {
            id,
            created,
            model,
            json_mode,
            tools: HashMap::new(),
            next_tool: 0,
            stopped: false,
        }
    }

    fn chunk(&self, delta: Delta, finish: Option<FinishReason>) -> ChatCompletionChunk {
        delta_chunk(&self.id, self.created, &self.model, delta, finish)
    }

    fn on_event(
        &mut self,
        event: &str,
        payload: &[u8],
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        match event {
            "messageStart" => out.push(self.chunk(
                Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                },
                None,
            )),
            "contentBlockStart" => {
                let start: ContentBlockStart = parse(event, payload)?;
                if let Some(tool) = start.start.tool_use {
                    let is_json = self.json_mode && tool.name == JSON_TOOL_NAME;
                    let index = self.next_tool;
                    self.tools
                        .insert(start.content_block_index, (index, is_json));
                    if !is_json {
                        self.next_tool += 1;
                        out.push(self.chunk(
                            Delta {
                                tool_calls: Some(vec![ToolCallDelta {
                                    index,
                                    id: Some(tool.tool_use_id),
                                    kind: Some("function".to_owned()),
                                    function: Some(FunctionCallDelta {
                                        name: Some(tool.name),
                                        arguments: Some(String::new()),
                                    }),
                                }]),
                                ..Delta::default()
                            },
                            None,
                        ));
                    }
                }
            }
            "contentBlockDelta" => {
                let delta: ContentBlockDelta = parse(event, payload)?;
                self.on_delta(delta, out);
            }
            "messageStop" => {
                let stop: MessageStop = parse(event, payload)?;
                let mut finish = stop
                    .stop_reason
                    .as_deref()
                    .map_or(FinishReason::Stop, finish_reason);
                let only_json_tool = self.tools.values().all(|(_, json)| *json);
                if finish == FinishReason::ToolCalls && self.json_mode && only_json_tool {
                    finish = FinishReason::Stop;
                }
                self.stopped = true;
                out.push(self.chunk(Delta::default(), Some(finish)));
            }
            "metadata" => {
                let metadata: Metadata = parse(event, payload)?;
                if let Some(counts) = metadata.usage {
                    let mut chunk = self.chunk(Delta::default(), None);
                    chunk.choices.clear();
                    chunk.usage = Some(usage(&counts));
                    out.push(chunk);
                }
                return Ok(Step::Done);
            }
            // contentBlockStop and events newer than this code carry nothing to translate.
            _ => {}
        }
        Ok(Step::Continue)
    }

    fn on_delta(&mut self, delta: ContentBlockDelta, out: &mut Vec<ChatCompletionChunk>) {
        let block = delta.delta;
        if let Some(text) = block.text.filter(|t| !t.is_empty()) {
            out.push(self.chunk(
                Delta {
                    content: Some(text),
                    ..Delta::default()
                },
                None,
            ));
        }
        if let Some(reasoning) = block.reasoning_content {
            self.on_reasoning(reasoning, out);
        }
        if let Some(tool) = block.tool_use.filter(|t| !t.input.is_empty()) {
            let delta = match self.tools.get(&delta.content_block_index) {
                // The forced JSON tool's input is the answer's content.
                Some((_, true)) => Delta {
                    content: Some(tool.input),
                    ..Delta::default()
                },
                Some((index, false)) => Delta {
                    tool_calls: Some(vec![ToolCallDelta {
                        index: *index,
                        id: None,
                        kind: None,
                        function: Some(FunctionCallDelta {
                            name: None,
                            arguments: Some(tool.input),
                        }),
                    }]),
                    ..Delta::default()
                },
                // Input for a block that never started as a tool: nothing to attach it to.
                None => return,
            };
            out.push(self.chunk(delta, None));
        }
    }
}

impl ConverseChunks {
    /// Reasoning pieces in the shape the Anthropic family streams them (LiteLLM's).
    fn on_reasoning(&self, reasoning: ReasoningDelta, out: &mut Vec<ChatCompletionChunk>) {
        let piece = |block: ThinkingBlock| Delta {
            thinking_blocks: Some(vec![block]),
            ..Delta::default()
        };
        if let Some(text) = reasoning.text.filter(|t| !t.is_empty()) {
            let delta = Delta {
                reasoning_content: Some(text.clone()),
                ..piece(ThinkingBlock::thinking(Some(text), None))
            };
            out.push(self.chunk(delta, None));
        }
        if let Some(signature) = reasoning.signature.filter(|s| !s.is_empty()) {
            let block = ThinkingBlock::thinking(Some(String::new()), Some(signature));
            out.push(self.chunk(piece(block), None));
        }
        if let Some(data) = reasoning.redacted_content.filter(|d| !d.is_empty()) {
            out.push(self.chunk(piece(ThinkingBlock::redacted(data)), None));
        }
    }
}

fn parse<T: DeserializeOwned>(event: &str, payload: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(payload)
        .map_err(|e| bad_response(format!("the upstream sent an invalid `{event}` event: {e}")))
}

impl Translator for ConverseChunks {
    type Frame = Message;

    fn on_frame(
        &mut self,
        message: Message,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let payload = message.payload();
        match header(&message, ":message-type") {
            Some("event") => {
                let event = header(&message, ":event-type").unwrap_or_default();
                self.on_event(event, payload, out)
            }
            Some("exception") => {
                let kind = header(&message, ":exception-type").unwrap_or("exception");
                let body: ErrorPayload = serde_json::from_slice(payload).unwrap_or_default();
                Err(stream_exception(
                    kind,
                    body.message.as_deref().unwrap_or("no message"),
                ))
            }
            Some("error") => {
                let code = header(&message, ":error-code").unwrap_or("error");
                let text = header(&message, ":error-message").unwrap_or("no message");
                Err(stream_exception(code, text))
            }
            other => Err(bad_response(format!(
                "the upstream sent an event-stream message of unknown type {other:?}"
            ))),
        }
    }

    fn complete_at_eof(&self) -> bool {
        // `metadata` follows `messageStop`; an answer that stopped is complete without it.
        self.stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Each event's deltas, as JSON.
    fn deltas(events: &[(&str, Value)]) -> Vec<Value> {
        let mut translator = ConverseChunks::new("c".into(), 1, "m".into(), false);
        let mut out = Vec::new();
        for (event, payload) in events {
            let payload = serde_json::to_vec(payload).unwrap();
            translator.on_event(event, &payload, &mut out).unwrap();
        }
        out.iter()
            .map(|chunk| serde_json::to_value(&chunk.choices[0].delta).unwrap())
            .collect()
    }

    #[test]
    fn reasoning_streams_as_text_then_signature_as_litellm_does() {
        let reasoning = |r: Value| {
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": r}}),
            )
        };
        let cases = [
            (
                reasoning(json!({"text": "hm"})),
                json!({"reasoning_content": "hm", "thinking_blocks": [{"type": "thinking", "thinking": "hm"}]}),
            ),
            (
                reasoning(json!({"signature": "sig"})),
                json!({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig"}]}),
            ),
            (
                reasoning(json!({"redactedContent": "ZW5j"})),
                json!({"thinking_blocks": [{"type": "redacted_thinking", "data": "ZW5j"}]}),
            ),
        ];
        for ((event, payload), expected) in cases {
            assert_eq!(
                deltas(&[(event, payload.clone())]),
                vec![expected],
                "{payload}"
            );
        }
    }

    #[test]
    fn usage_keeps_cache_reads_and_writes() {
        let mut translator = ConverseChunks::new("c".into(), 1, "m".into(), false);
        let mut out = Vec::new();
        let payload = serde_json::to_vec(&json!({"usage": {"inputTokens": 3, "outputTokens": 2,
            "cacheReadInputTokens": 10, "cacheWriteInputTokens": 4}, "metrics": {}}))
        .unwrap();
        translator.on_event("metadata", &payload, &mut out).unwrap();
        let usage = serde_json::to_value(out[0].usage.as_ref().unwrap()).unwrap();
        assert_eq!(
            usage,
            json!({"prompt_tokens": 17, "completion_tokens": 2, "total_tokens": 19,
                   "prompt_tokens_details": {"cached_tokens": 10},
                   "cache_read_input_tokens": 10, "cache_creation_input_tokens": 4})
        );
    }
}
