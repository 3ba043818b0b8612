//! Anthropic's named SSE events → OpenAI chunks.
//!
//! `message_start` opens the message (role chunk); `content_block_start` of a `tool_use`
//! block opens a tool call (id and name, empty arguments) and its `input_json_delta`s stream
//! the arguments; `text_delta` becomes `content`; `thinking_delta` becomes `reasoning_content`
//! and, as LiteLLM streams it, a `thinking_blocks` piece with the text; `signature_delta` a
//! `thinking_blocks` piece with the block's signature (a `redacted_thinking` block arrives
//! whole, as one piece); `message_delta` carries the stop reason and the final usage;
//! `message_stop` ends the answer; `ping` yields nothing; `error` fails the stream with the
//! mapped error. Dispatch is on the JSON `type` (which always agrees with the event name), so
//! a proxy that drops the `event:` lines still works.

use llm_types::{
    ChatCompletionChunk, Delta, Error, FinishReason, FunctionCallDelta, Role, ThinkingBlock,
    ToolCallDelta,
};

use super::error::stream_error;
use super::request::JSON_TOOL_NAME;
use super::response::{finish_reason, usage};
use super::wire::{AnthropicUsage, BlockDelta, ResponseBlock, StreamEvent};
use crate::sse::SseEvent;
use crate::stream_driver::{Step, Translator, bad_response, delta_chunk};

/// What a content block index of the upstream stream is, for its deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// A tool call, with its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// The forced JSON tool of a `response_format` request: its input is the content.
    JsonAnswer,
    Other,
}

/// The stream [`Translator`] of the Anthropic family (also used by Vertex AI's Anthropic
/// models, whose `streamRawPredict` speaks the same events).
#[derive(Debug)]
pub struct AnthropicChunks {
    json_mode: bool,
    created: u64,
    id: String,
    model: String,
    blocks: Vec<(u32, BlockKind)>,
    tools: u32,
    usage: AnthropicUsage,
    saw_json_answer: bool,
    finished: bool,
}

impl AnthropicChunks {
    /// A translator for one stream; `json_mode` as in
    /// [`super::response::from_anthropic_response`], `created` stamps every chunk.
    pub fn new(json_mode: bool, created: u64) -> Self {
        AnthropicChunks {
            json_mode,
            created,
            id: String::new(),
            model: String::new(),
            blocks: Vec::new(),
            tools: 0,
            usage: AnthropicUsage::default(),
            saw_json_answer: false,
            finished: false,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatCompletionChunk {
        delta_chunk(&self.id, self.created, &self.model, delta, finish_reason)
    }

    fn kind_of(&self, index: u32) -> BlockKind {
        self.blocks
            .iter()
            .find(|(i, _)| *i == index)
            .map_or(BlockKind::Other, |(_, kind)| *kind)
    }

    /// Translates one event's data.
    pub fn on_event(
        &mut self,
        event: StreamEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        match event {
            StreamEvent::MessageStart { message } => {
                self.id = message.id;
                self.model = message.model;
                if let Some(usage) = &message.usage {
                    self.usage.update(usage);
                }
                out.push(self.chunk(
                    Delta {
                        role: Some(Role::Assistant),
                        content: Some(String::new()),
                        ..Delta::default()
                    },
                    None,
                ));
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                ResponseBlock::ToolUse { id, name, .. } => {
                    if self.json_mode && name == JSON_TOOL_NAME {
                        self.saw_json_answer = true;
                        self.blocks.push((index, BlockKind::JsonAnswer));
                    } else {
                        let tool = self.tools;
                        self.tools += 1;
                        self.blocks.push((index, BlockKind::Tool(tool)));
                        out.push(
                            self.chunk(tool_delta(tool, Some(id), Some(name), String::new()), None),
                        );
                    }
                }
                ResponseBlock::Text { text } if !text.is_empty() => {
                    out.push(self.chunk(content(text), None));
                }
                ResponseBlock::RedactedThinking { data } => {
                    out.push(self.chunk(thinking_piece(ThinkingBlock::redacted(data)), None));
                }
                _ => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } if !text.is_empty() => {
                    out.push(self.chunk(content(text), None));
                }
                BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                    let piece = ThinkingBlock::thinking(Some(thinking.clone()), None);
                    let delta = Delta {
                        reasoning_content: Some(thinking),
                        ..thinking_piece(piece)
                    };
                    out.push(self.chunk(delta, None));
                }
                BlockDelta::SignatureDelta { signature } if !signature.is_empty() => {
                    // LiteLLM's shape for this piece: empty text, the signature.
                    let piece = ThinkingBlock::thinking(Some(String::new()), Some(signature));
                    out.push(self.chunk(thinking_piece(piece), None));
                }
                BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    match self.kind_of(index) {
                        BlockKind::Tool(tool) => {
                            out.push(self.chunk(tool_delta(tool, None, None, partial_json), None));
                        }
                        BlockKind::JsonAnswer => {
                            out.push(self.chunk(content(partial_json), None));
                        }
                        BlockKind::Other => {}
                    }
                }
                _ => {}
            },
            StreamEvent::MessageDelta { delta, usage: more } => {
                if let Some(more) = &more {
                    self.usage.update(more);
                }
                let mut reason = delta
                    .stop_reason
                    .as_deref()
                    .map_or(FinishReason::Stop, finish_reason);
                if self.saw_json_answer && self.tools == 0 {
                    reason = FinishReason::Stop;
                }
                let mut chunk = self.chunk(Delta::default(), Some(reason));
                chunk.usage = Some(usage(&self.usage));
                out.push(chunk);
                self.finished = true;
            }
            StreamEvent::MessageStop {} => return Ok(Step::Done),
            StreamEvent::Error { error } => return Err(stream_error(&error)),
            StreamEvent::ContentBlockStop {} | StreamEvent::Ping {} | StreamEvent::Other => {}
        }
        Ok(Step::Continue)
    }
}

fn content(text: String) -> Delta {
    Delta {
        content: Some(text),
        ..Delta::default()
    }
}

fn thinking_piece(piece: ThinkingBlock) -> Delta {
    Delta {
        thinking_blocks: Some(vec![piece]),
        ..Delta::default()
    }
}

fn tool_delta(index: u32, id: Option<String>, name: Option<String>, arguments: String) -> Delta {
    let kind = id.as_ref().map(|_| "function".to_owned());
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            id,
            kind,
            function: Some(FunctionCallDelta {
                name,
                arguments: Some(arguments),
            }),
        }]),
        ..Delta::default()
    }
}

impl Translator for AnthropicChunks {
    type Frame = SseEvent;

    fn on_frame(
        &mut self,
        frame: SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let event: StreamEvent = serde_json::from_str(&frame.data).map_err(|e| {
            bad_response(format!("the upstream sent an invalid stream event ({e})"))
        })?;
        self.on_event(event, out)
    }

    fn complete_at_eof(&self) -> bool {
        // `message_delta` carried the stop reason: only `message_stop` is missing.
        self.finished
    }
}
