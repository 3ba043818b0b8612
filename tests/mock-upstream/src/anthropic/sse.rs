//! A [`Plan`] as Anthropic's named SSE events.
//!
//! Shape of recorded traffic: `message_start` (usage with `output_tokens: 1`), a `ping`, then
//! per block `content_block_start` / `content_block_delta`s / `content_block_stop`, then
//! `message_delta` (stop reason, final usage) and `message_stop`. Like the real API, some
//! `data:` payloads carry whitespace padding before their closing brace.

use bytes::Bytes;
use serde_json::{Value, json};

use super::plan::{Block, Plan, SIGNATURE};
use crate::stream::Transcript;

/// Characters of tool input per `input_json_delta`, as Anthropic streams a few at a time.
const JSON_PIECE: usize = 8;

fn frame(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// A frame whose JSON ends in `}      }`, the real API's padding.
fn padded(event: &str, data: &Value) -> Bytes {
    let text = data.to_string();
    let text = match text.strip_suffix('}') {
        Some(body) => format!("{body}      }}"),
        None => text,
    };
    Bytes::from(format!("event: {event}\ndata: {text}\n\n"))
}

/// Splits text into words that keep their trailing whitespace.
fn word_pieces(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for word in text.split_inclusive(char::is_whitespace) {
        match pieces.last_mut() {
            Some(last) if word.trim().is_empty() => last.push_str(word),
            _ => pieces.push(word.to_owned()),
        }
    }
    pieces
}

fn char_pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// The whole stream; `error_after` replaces everything from the `k`-th content delta on by
/// an `error` event (`overloaded_error`), as Anthropic does when overloaded mid-stream.
pub(crate) fn transcript(
    plan: &Plan,
    id: &str,
    model: &str,
    error_after: Option<usize>,
) -> Transcript {
    let mut frames = vec![
        padded(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": id, "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": plan.usage(1),
            }}),
        ),
        frame("ping", &json!({"type": "ping"})),
    ];
    let mut opening = None;
    for (index, block) in plan.blocks.iter().enumerate() {
        let (start, deltas): (Value, Vec<Value>) = match block {
            Block::Thinking(thinking) => {
                let mut deltas: Vec<Value> = word_pieces(thinking)
                    .into_iter()
                    .map(|p| json!({"type": "thinking_delta", "thinking": p}))
                    .collect();
                deltas.push(json!({"type": "signature_delta", "signature": SIGNATURE}));
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    deltas,
                )
            }
            Block::Text(text) => (
                json!({"type": "text", "text": ""}),
                word_pieces(text)
                    .into_iter()
                    .map(|p| json!({"type": "text_delta", "text": p}))
                    .collect(),
            ),
            Block::ToolUse { id, name, input } => {
                let mut deltas = vec![json!({"type": "input_json_delta", "partial_json": ""})];
                deltas.extend(
                    char_pieces(&input.to_string(), JSON_PIECE)
                        .into_iter()
                        .map(|p| json!({"type": "input_json_delta", "partial_json": p})),
                );
                (
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    deltas,
                )
            }
        };
        frames.push(frame(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        ));
        opening.get_or_insert(frames.len());
        for delta in deltas {
            frames.push(frame(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        frames.push(frame(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ));
    }
    let opening = opening.unwrap_or(frames.len());
    if let Some(k) = error_after {
        frames.truncate(opening.saturating_add(k).min(frames.len()));
        frames.push(frame(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ));
        let finish_at = frames.len();
        return Transcript {
            frames,
            opening,
            finish_at,
        };
    }
    let finish_at = frames.len();
    frames.push(padded(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
                "usage": {"input_tokens": plan.input_tokens,
                          "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": plan.cache_read_input_tokens,
                          "output_tokens": plan.output_tokens}}),
    ));
    frames.push(frame("message_stop", &json!({"type": "message_stop"})));
    Transcript {
        frames,
        opening,
        finish_at,
    }
}
