//! Rendering a [`ChatPlan`] as a non-streamed `chat.completion` body.

use serde_json::{Value, json};

use super::{ChatPlan, Output};

/// The per-response fields every body and chunk repeats.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meta {
    pub id: String,
    pub created: u64,
    pub model: String,
}

/// A fixed fingerprint: the spec types it as a string, and some clients log it.
pub(crate) const SYSTEM_FINGERPRINT: &str = "fp_mock";

pub(crate) fn render(meta: &Meta, plan: &ChatPlan) -> Value {
    let message = match &plan.output {
        Output::Text(text) => json!({
            "role": "assistant",
            "content": text,
            "refusal": null,
            "annotations": [],
        }),
        Output::ToolCalls(calls) => json!({
            "role": "assistant",
            "content": null,
            "refusal": null,
            "annotations": [],
            "tool_calls": calls.iter().map(|c| json!({
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            })).collect::<Vec<_>>(),
        }),
    };
    let choices: Vec<Value> = (0..plan.n)
        .map(|index| {
            json!({
                "index": index,
                "message": message,
                "logprobs": null,
                "finish_reason": plan.finish_reason,
            })
        })
        .collect();
    json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": choices,
        "usage": usage(plan),
        "system_fingerprint": SYSTEM_FINGERPRINT,
    })
}

/// The usage object, with the detail blocks current OpenAI responses carry.
pub(crate) fn usage(plan: &ChatPlan) -> Value {
    json!({
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}
