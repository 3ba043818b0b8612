//! A Cohere v2 stream: `event: <type>` + `data: {...}` frames, from `message-start` to
//! `message-end` (which carries the finish reason and usage); no `[DONE]`.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{THINKING, finish_reason, tool_calls, tool_plan, usage};
use crate::chat::{ChatPlan, Output};
use crate::stream::Transcript;

/// Characters of tool-call arguments per event.
const ARGUMENT_PIECE: usize = 8;

fn frame(kind: &str, mut data: Value) -> Bytes {
    data["type"] = json!(kind);
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

pub(crate) fn transcript(id: &str, plan: &ChatPlan, thinking: bool) -> Transcript {
    let mut frames = vec![frame(
        "message-start",
        json!({"id": id, "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
    )];
    let mut index = 0;
    if thinking {
        frames.push(frame("content-start", json!({"index": index, "delta": {"message": {"content": {"type": "thinking", "thinking": ""}}}})));
        for word in THINKING.split_inclusive(' ') {
            frames.push(frame(
                "content-delta",
                json!({"index": index, "delta": {"message": {"content": {"thinking": word}}}}),
            ));
        }
        frames.push(frame("content-end", json!({"index": index})));
        index += 1;
    }
    let opening;
    match &plan.output {
        Output::Text(text) => {
            frames.push(frame("content-start", json!({"index": index, "delta": {"message": {"content": {"type": "text", "text": ""}}}})));
            opening = frames.len();
            for word in text.split_inclusive(' ') {
                frames.push(frame(
                    "content-delta",
                    json!({"index": index, "delta": {"message": {"content": {"text": word}}}}),
                ));
            }
            frames.push(frame("content-end", json!({"index": index})));
        }
        Output::ToolCalls(_) => {
            opening = frames.len();
            for word in tool_plan(plan).split_inclusive(' ') {
                frames.push(frame(
                    "tool-plan-delta",
                    json!({"delta": {"message": {"tool_plan": word}}}),
                ));
            }
            for (i, call) in tool_calls(plan).iter().enumerate() {
                let mut start = call.clone();
                start["function"]["arguments"] = json!("");
                frames.push(frame(
                    "tool-call-start",
                    json!({"index": i, "delta": {"message": {"tool_calls": start}}}),
                ));
                let arguments = call["function"]["arguments"].as_str().unwrap_or_default();
                for piece in pieces(arguments, ARGUMENT_PIECE) {
                    frames.push(frame("tool-call-delta", json!({"index": i, "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}}})));
                }
                frames.push(frame("tool-call-end", json!({"index": i})));
            }
        }
    }
    let finish_at = frames.len();
    frames.push(frame(
        "message-end",
        json!({"delta": {"finish_reason": finish_reason(plan), "usage": usage(plan)}}),
    ));
    Transcript {
        frames,
        opening,
        finish_at,
    }
}
