//! Rendering a [`ChatPlan`] as the SSE frames of a streamed chat completion.
//!
//! The shape follows recorded OpenAI traffic: a first chunk with the role, one chunk per
//! word (or a few characters of tool arguments at a time), a finish chunk with an empty
//! delta, an optional usage chunk with `choices: []`, then `data: [DONE]`.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::chat::response::{Meta, SYSTEM_FINGERPRINT, usage};
use crate::chat::{ChatPlan, Output};

/// Characters of tool-call arguments per chunk; OpenAI sends a token or two at a time.
const ARGUMENT_PIECE: usize = 8;

/// A complete stream, and where its parts begin (for the faults that cut it short).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Transcript {
    pub frames: Vec<Bytes>,
    /// How many leading frames only open the message (role and tool-call headers aside,
    /// one per choice); content chunks follow them.
    pub opening: usize,
    /// Index of the first finish chunk; a stream cut before it never says it ended.
    pub finish_at: usize,
}

impl Transcript {
    /// The opening frames and at most `k` content frames, never reaching the finish chunk.
    pub(crate) fn prefix(&self, k: usize) -> &[Bytes] {
        let end = self.opening.saturating_add(k).min(self.finish_at);
        self.frames.get(..end).unwrap_or(&self.frames)
    }
}

pub(crate) fn transcript(meta: &Meta, plan: &ChatPlan, include_usage: bool) -> Transcript {
    let chunks = Chunks {
        meta,
        include_usage,
    };
    let choices = 0..plan.n;
    let mut frames = Vec::new();
    let opening;
    match &plan.output {
        Output::Text(text) => {
            let first = json!({"role": "assistant", "content": "", "refusal": null});
            frames.extend(choices.clone().map(|i| chunks.delta(i, &first)));
            opening = frames.len();
            for piece in word_pieces(text) {
                let delta = json!({ "content": piece });
                frames.extend(choices.clone().map(|i| chunks.delta(i, &delta)));
            }
        }
        Output::ToolCalls(calls) => {
            opening = plan.n;
            for (index, call) in calls.iter().enumerate() {
                let header = json!([{
                    "index": index,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }]);
                // The first delta of a tool-call stream also opens the message, as OpenAI's does.
                let delta = if index == 0 {
                    json!({"role": "assistant", "content": null, "tool_calls": header, "refusal": null})
                } else {
                    json!({ "tool_calls": header })
                };
                frames.extend(choices.clone().map(|i| chunks.delta(i, &delta)));
                for piece in char_pieces(&call.arguments, ARGUMENT_PIECE) {
                    let delta =
                        json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
                    frames.extend(choices.clone().map(|i| chunks.delta(i, &delta)));
                }
            }
        }
    }
    let finish_at = frames.len();
    frames.extend(choices.map(|i| chunks.finish(i, plan.finish_reason)));
    if include_usage {
        frames.push(chunks.usage(plan));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    Transcript {
        frames,
        opening,
        finish_at,
    }
}

struct Chunks<'a> {
    meta: &'a Meta,
    include_usage: bool,
}

impl Chunks<'_> {
    fn delta(&self, index: usize, delta: &Value) -> Bytes {
        self.frame(
            json!([{"index": index, "delta": delta, "logprobs": null, "finish_reason": null}]),
            None,
        )
    }

    fn finish(&self, index: usize, reason: &str) -> Bytes {
        self.frame(
            json!([{"index": index, "delta": {}, "logprobs": null, "finish_reason": reason}]),
            None,
        )
    }

    fn usage(&self, plan: &ChatPlan) -> Bytes {
        self.frame(json!([]), Some(usage(plan)))
    }

    fn frame(&self, choices: Value, usage: Option<Value>) -> Bytes {
        let mut chunk = json!({
            "id": self.meta.id,
            "object": "chat.completion.chunk",
            "created": self.meta.created,
            "model": self.meta.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        });
        // With include_usage OpenAI puts `"usage": null` on every chunk but the last.
        if self.include_usage {
            chunk["usage"] = usage.unwrap_or(Value::Null);
        }
        Bytes::from(format!("data: {chunk}\n\n"))
    }
}

/// Splits text into words that keep their trailing whitespace, so the pieces concatenate
/// back to exactly the non-streamed reply.
fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut after_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            after_space = true;
        } else if after_space {
            pieces.push(&text[start..i]);
            start = i;
            after_space = false;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Splits text into pieces of at most `size` characters, on character boundaries.
fn char_pieces(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest.char_indices().nth(size).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_pieces_concatenate_to_the_text() {
        let cases: [(&str, &[&str]); 4] = [
            ("echo: hello world", &["echo: ", "hello ", "world"]),
            ("a  b\nc", &["a  ", "b\n", "c"]),
            ("", &[]),
            ("{\"echo\":\"x y\"}", &["{\"echo\":\"x ", "y\"}"]),
        ];
        for (text, expected) in cases {
            assert_eq!(word_pieces(text), expected, "text {text:?}");
            assert_eq!(word_pieces(text).concat(), text);
        }
    }

    #[test]
    fn char_pieces_respect_boundaries() {
        assert_eq!(
            char_pieces("{\"a\":\"héllo\"}", 5),
            ["{\"a\":", "\"héll", "o\"}"]
        );
        assert!(char_pieces("", 5).is_empty());
    }
}
