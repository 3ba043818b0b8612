//! Streams and whole answers, one into the other: [`assemble`] turns the chunks of a complete
//! streamed answer into the [`ChatCompletionResponse`] a non-streamed call would have returned
//! (to cache it, or to hand it to a post-call check), and [`replay`] turns a response back into
//! chunks (to serve a cached answer to a streaming client).
//!
//! `assemble(&replay(r, _)) == Some(r)` for every response whose messages carry only what a
//! chunk can carry: `annotations` have no place in a [`Delta`], so they are not replayed.

use std::collections::BTreeMap;

use crate::chat_chunk::{
    ChatCompletionChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta,
};
use crate::chat_message::Role;
use crate::chat_response::{
    ChatCompletionResponse, Choice, FinishReason, Logprobs, ResponseMessage, ThinkingBlock,
};
use crate::tools::{FunctionCall, ToolCall};
use crate::usage::Usage;

/// The non-streamed response a complete stream adds up to; `None` when the stream is not
/// complete (no choice at all, or a choice without a `finish_reason`), since a cut answer must
/// never be cached or passed off as whole.
///
/// Per choice index: `content`, `reasoning_content` and `refusal` are concatenated, tool calls
/// are gathered by their `index` (arguments joined, the first id, type and name kept), thinking
/// blocks are rebuilt from their pieces, logprobs are concatenated, and the last
/// `finish_reason` wins. `id`, `created`, `model`, `system_fingerprint` and `service_tier` come
/// from the first chunk that has them; `usage` from the last chunk that carries one.
pub fn assemble(chunks: &[ChatCompletionChunk]) -> Option<ChatCompletionResponse> {
    let first = chunks.first()?;
    let mut choices: BTreeMap<u32, ChoiceParts> = BTreeMap::new();
    let mut usage: Option<Usage> = None;
    for chunk in chunks {
        if chunk.usage.is_some() {
            usage.clone_from(&chunk.usage);
        }
        for choice in &chunk.choices {
            choices.entry(choice.index).or_default().add(choice);
        }
    }
    if choices.is_empty() {
        return None;
    }
    let choices = choices
        .into_iter()
        .map(|(index, parts)| parts.finish(index))
        .collect::<Option<Vec<Choice>>>()?;
    Some(ChatCompletionResponse {
        id: first.id.clone(),
        object: "chat.completion".to_owned(),
        created: first.created,
        model: first.model.clone(),
        choices,
        usage,
        system_fingerprint: chunks.iter().find_map(|c| c.system_fingerprint.clone()),
        service_tier: chunks.iter().find_map(|c| c.service_tier.clone()),
    })
}

/// What the chunks of one choice said so far.
#[derive(Default)]
struct ChoiceParts {
    role: Option<Role>,
    content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    tool_calls: BTreeMap<u32, ToolCallParts>,
    function_call: Option<FunctionCallParts>,
    thinking: Vec<ThinkingBlock>,
    logprobs: Option<Logprobs>,
    finish_reason: Option<FinishReason>,
}

#[derive(Default)]
struct ToolCallParts {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

#[derive(Default)]
struct FunctionCallParts {
    name: Option<String>,
    arguments: String,
}

/// Appends `piece` to an optional text, creating it on the first piece (even an empty one:
/// a stream that said `content: ""` answered with an empty text, not with none).
fn append(text: &mut Option<String>, piece: Option<&String>) {
    if let Some(piece) = piece {
        text.get_or_insert_with(String::new).push_str(piece);
    }
}

/// Keeps the first non-empty value: the name and id of a call come once, in its first piece,
/// but some hosts repeat them in every piece.
fn keep_first(slot: &mut Option<String>, value: Option<&String>) {
    if slot.as_deref().is_none_or(str::is_empty)
        && let Some(value) = value
    {
        *slot = Some(value.clone());
    }
}

impl ChoiceParts {
    fn add(&mut self, choice: &ChunkChoice) {
        let delta = &choice.delta;
        if delta.role.is_some() {
            self.role = delta.role;
        }
        append(&mut self.content, delta.content.as_ref());
        append(&mut self.reasoning, delta.reasoning_content.as_ref());
        append(&mut self.refusal, delta.refusal.as_ref());
        for call in delta.tool_calls.iter().flatten() {
            let parts = self.tool_calls.entry(call.index).or_default();
            keep_first(&mut parts.id, call.id.as_ref());
            keep_first(&mut parts.kind, call.kind.as_ref());
            if let Some(function) = &call.function {
                keep_first(&mut parts.name, function.name.as_ref());
                parts
                    .arguments
                    .push_str(function.arguments.as_deref().unwrap_or_default());
            }
        }
        if let Some(function) = &delta.function_call {
            let parts = self.function_call.get_or_insert_with(Default::default);
            keep_first(&mut parts.name, function.name.as_ref());
            parts
                .arguments
                .push_str(function.arguments.as_deref().unwrap_or_default());
        }
        for piece in delta.thinking_blocks.iter().flatten() {
            self.add_thinking(piece);
        }
        if let Some(logprobs) = &choice.logprobs {
            let total = self.logprobs.get_or_insert(Logprobs {
                content: None,
                refusal: None,
            });
            if let Some(content) = &logprobs.content {
                total
                    .content
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(content);
            }
            if let Some(refusal) = &logprobs.refusal {
                total
                    .refusal
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(refusal);
            }
        }
        if choice.finish_reason.is_some() {
            self.finish_reason = choice.finish_reason;
        }
    }

    /// A thinking piece continues the open block (one of the same kind not yet signed);
    /// otherwise it starts a new one. The signature comes last and closes the block.
    fn add_thinking(&mut self, piece: &ThinkingBlock) {
        let open = self.thinking.last_mut().filter(|block| {
            block.kind == piece.kind
                && block.kind == ThinkingBlock::THINKING
                && block.signature.is_none()
        });
        match open {
            Some(block) => {
                append(&mut block.thinking, piece.thinking.as_ref());
                if piece.signature.is_some() {
                    block.signature.clone_from(&piece.signature);
                }
            }
            None => self.thinking.push(piece.clone()),
        }
    }

    fn finish(self, index: u32) -> Option<Choice> {
        let finish_reason = Some(self.finish_reason?);
        let tool_calls = (!self.tool_calls.is_empty()).then(|| {
            self.tool_calls
                .into_values()
                .map(|call| ToolCall {
                    id: call.id.unwrap_or_default(),
                    kind: call.kind.unwrap_or_else(|| "function".to_owned()),
                    function: FunctionCall {
                        name: call.name.unwrap_or_default(),
                        arguments: call.arguments,
                    },
                })
                .collect()
        });
        Some(Choice {
            index,
            message: ResponseMessage {
                role: self.role.unwrap_or(Role::Assistant),
                content: self.content,
                refusal: self.refusal,
                tool_calls,
                function_call: self.function_call.map(|f| FunctionCall {
                    name: f.name.unwrap_or_default(),
                    arguments: f.arguments,
                }),
                reasoning_content: self.reasoning,
                annotations: None,
                thinking_blocks: (!self.thinking.is_empty()).then_some(self.thinking),
            },
            finish_reason,
            logprobs: self.logprobs,
        })
    }
}

/// The chunks of a stream that says what `response` says, for a streaming client served from
/// the cache. Per choice, in choice order: a role chunk; then one chunk each for the reasoning,
/// the thinking blocks, the content (with the choice's logprobs), the refusal, every tool call
/// (id, type, name and the whole arguments) and the legacy function call, each only when
/// present; then a finish chunk with an empty delta. When `include_usage` is set and the
/// response has usage, a usage-only chunk (`choices: []`) ends the stream, as OpenAI sends it
/// for `stream_options.include_usage`.
pub fn replay(response: &ChatCompletionResponse, include_usage: bool) -> Vec<ChatCompletionChunk> {
    let chunk = |choices: Vec<ChunkChoice>, usage: Option<Usage>| ChatCompletionChunk {
        id: response.id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created: response.created,
        model: response.model.clone(),
        choices,
        usage,
        system_fingerprint: response.system_fingerprint.clone(),
        service_tier: response.service_tier.clone(),
    };
    let mut chunks = Vec::new();
    for choice in &response.choices {
        let piece = |delta: Delta| ChunkChoice {
            index: choice.index,
            delta,
            finish_reason: None,
            logprobs: None,
        };
        let mut pieces = choice_deltas(&choice.message)
            .into_iter()
            .map(piece)
            .collect::<Vec<_>>();
        let mut finish = ChunkChoice {
            finish_reason: choice.finish_reason,
            ..piece(Delta::default())
        };
        // Logprobs ride with the text they describe, or with the finish when there is none.
        match pieces
            .iter_mut()
            .find(|p| p.delta.content.is_some() || p.delta.refusal.is_some())
        {
            Some(text) => text.logprobs.clone_from(&choice.logprobs),
            None => finish.logprobs.clone_from(&choice.logprobs),
        }
        pieces.push(finish);
        chunks.extend(pieces.into_iter().map(|p| chunk(vec![p], None)));
    }
    if include_usage && let Some(usage) = &response.usage {
        chunks.push(chunk(Vec::new(), Some(usage.clone())));
    }
    chunks
}

/// The deltas of one message, the finish excluded.
fn choice_deltas(message: &ResponseMessage) -> Vec<Delta> {
    let mut deltas = vec![Delta {
        role: Some(message.role),
        ..Delta::default()
    }];
    if message.reasoning_content.is_some() {
        deltas.push(Delta {
            reasoning_content: message.reasoning_content.clone(),
            ..Delta::default()
        });
    }
    if message.thinking_blocks.is_some() {
        deltas.push(Delta {
            thinking_blocks: message.thinking_blocks.clone(),
            ..Delta::default()
        });
    }
    if message.content.is_some() {
        deltas.push(Delta {
            content: message.content.clone(),
            ..Delta::default()
        });
    }
    if message.refusal.is_some() {
        deltas.push(Delta {
            refusal: message.refusal.clone(),
            ..Delta::default()
        });
    }
    for (index, call) in message.tool_calls.iter().flatten().enumerate() {
        deltas.push(Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                id: Some(call.id.clone()),
                kind: Some(call.kind.clone()),
                function: Some(FunctionCallDelta {
                    name: Some(call.function.name.clone()),
                    arguments: Some(call.function.arguments.clone()),
                }),
            }]),
            ..Delta::default()
        });
    }
    if let Some(function) = &message.function_call {
        deltas.push(Delta {
            function_call: Some(FunctionCallDelta {
                name: Some(function.name.clone()),
                arguments: Some(function.arguments.clone()),
            }),
            ..Delta::default()
        });
    }
    deltas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat_response::{TokenLogprob, TopLogprob};
    use serde_json::{Value, json};

    fn chunk(value: Value) -> ChatCompletionChunk {
        let mut value = value;
        for (key, default) in [
            ("id", json!("chatcmpl-1")),
            ("object", json!("chat.completion.chunk")),
            ("created", json!(1_700_000_000)),
            ("model", json!("gpt-4o")),
        ] {
            value.as_object_mut().unwrap().entry(key).or_insert(default);
        }
        serde_json::from_value(value).unwrap()
    }

    fn response(value: Value) -> ChatCompletionResponse {
        let mut value = value;
        for (key, default) in [
            ("id", json!("chatcmpl-1")),
            ("object", json!("chat.completion")),
            ("created", json!(1_700_000_000)),
            ("model", json!("gpt-4o")),
        ] {
            value.as_object_mut().unwrap().entry(key).or_insert(default);
        }
        serde_json::from_value(value).unwrap()
    }

    fn text(index: u32, content: &str, finish: &str) -> Value {
        json!({"index": index, "message": {"role": "assistant", "content": content},
               "finish_reason": finish})
    }

    fn logprob(token: &str) -> TokenLogprob {
        TokenLogprob {
            token: token.to_owned(),
            logprob: -0.5,
            bytes: Some(token.bytes().collect()),
            top_logprobs: vec![TopLogprob {
                token: token.to_owned(),
                logprob: -0.5,
                bytes: None,
            }],
        }
    }

    /// Responses of every shape a cached answer can have.
    fn responses() -> Vec<(&'static str, ChatCompletionResponse)> {
        let usage = json!({"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                           "prompt_tokens_details": {"cached_tokens": 0}});
        let mut with_logprobs = response(json!({"choices": [text(0, "Hi there", "stop")]}));
        with_logprobs.choices[0].logprobs = Some(Logprobs {
            content: Some(vec![logprob("Hi"), logprob(" there")]),
            refusal: None,
        });
        vec![
            (
                "text",
                response(
                    json!({"choices": [text(0, "Hello, world!", "stop")], "usage": usage,
                                "system_fingerprint": "fp_1", "service_tier": "default"}),
                ),
            ),
            (
                "empty text",
                response(json!({"choices": [text(0, "", "length")]})),
            ),
            (
                "tool calls",
                response(
                    json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_a", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                        {"id": "call_b", "type": "function",
                         "function": {"name": "get_time", "arguments": ""}}]}}],
                    "usage": usage}),
                ),
            ),
            (
                "text and a tool call",
                response(
                    json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": "Let me check.", "tool_calls": [
                        {"id": "call_a", "type": "function",
                         "function": {"name": "lookup", "arguments": "{}"}}]}}]}),
                ),
            ),
            (
                "n=2",
                response(
                    json!({"choices": [text(0, "one", "stop"), text(1, "two, longer", "length")],
                                "usage": usage}),
                ),
            ),
            (
                "refusal",
                response(json!({"choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": null,
                                "refusal": "I can't help with that."}}]})),
            ),
            (
                "reasoning and thinking blocks",
                response(json!({"choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "42",
                                "reasoning_content": "Think first.",
                                "thinking_blocks": [
                                    {"type": "thinking", "thinking": "Think first.", "signature": "sig"},
                                    {"type": "redacted_thinking", "data": "xyz"}]}}]})),
            ),
            (
                "legacy function call",
                response(
                    json!({"choices": [{"index": 0, "finish_reason": "function_call",
                    "message": {"role": "assistant", "content": null,
                                "function_call": {"name": "f", "arguments": "{\"a\":1}"}}}]}),
                ),
            ),
            ("logprobs", with_logprobs),
        ]
    }

    #[test]
    fn assembly_of_the_replay_is_the_response() {
        for (name, response) in responses() {
            for include_usage in [false, true] {
                let chunks = replay(&response, include_usage);
                let mut expected = response.clone();
                if !include_usage {
                    expected.usage = None;
                }
                assert_eq!(
                    assemble(&chunks).as_ref(),
                    Some(&expected),
                    "{name}, include_usage {include_usage}"
                );
                let usage_chunks = chunks.iter().filter(|c| c.is_usage_only()).count();
                let expected_usage = usize::from(include_usage && response.usage.is_some());
                assert_eq!(usage_chunks, expected_usage, "{name}");
                assert!(
                    chunks
                        .last()
                        .is_some_and(|c| c.is_usage_only() || c.choices[0].finish_reason.is_some()),
                    "{name}: the stream ends with the finish or the usage"
                );
                for chunk in &chunks {
                    assert!(
                        chunk.choices.len() <= 1 && chunk.usage.is_some() == chunk.is_usage_only()
                    );
                    assert_eq!(
                        (chunk.id.as_str(), chunk.object.as_str()),
                        ("chatcmpl-1", "chat.completion.chunk")
                    );
                }
            }
        }
    }

    #[test]
    fn replay_starts_each_choice_with_its_role_and_ends_it_with_its_finish() {
        for (name, response) in responses() {
            let chunks = replay(&response, true);
            for choice in &response.choices {
                let own: Vec<&ChunkChoice> = chunks
                    .iter()
                    .flat_map(|c| &c.choices)
                    .filter(|c| c.index == choice.index)
                    .collect();
                assert_eq!(own[0].delta.role, Some(Role::Assistant), "{name}");
                let finishes: Vec<usize> = own
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.finish_reason.is_some())
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(finishes, vec![own.len() - 1], "{name}: one finish, last");
            }
        }
    }

    /// Streams as upstreams send them: text in pieces, tool arguments split across chunks with
    /// the name only in the first piece, choices interleaved, usage in a last chunk.
    #[test]
    fn assembly_of_streams_as_upstreams_send_them() {
        let piece = |index: u32, delta: Value, finish: Value| {
            chunk(json!({"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}))
        };
        let usage = json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
        let cases: Vec<(
            &str,
            Vec<ChatCompletionChunk>,
            Option<ChatCompletionResponse>,
        )> = vec![
            (
                "text in pieces, usage last",
                vec![
                    piece(
                        0,
                        json!({"role": "assistant", "content": "", "refusal": null}),
                        Value::Null,
                    ),
                    piece(0, json!({"content": "Hel"}), Value::Null),
                    piece(0, json!({"content": "lo"}), Value::Null),
                    piece(0, json!({}), json!("stop")),
                    chunk(json!({"choices": [], "usage": usage})),
                ],
                Some(response(
                    json!({"choices": [text(0, "Hello", "stop")], "usage": usage}),
                )),
            ),
            (
                "tool arguments split, name once",
                vec![
                    piece(
                        0,
                        json!({"role": "assistant", "content": null}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                    "function": {"name": "f", "arguments": ""}}]}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\""}}]}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"tool_calls": [{"index": 1, "id": "call_2", "type": "function",
                                    "function": {"name": "g", "arguments": "{}"}}]}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}),
                        Value::Null,
                    ),
                    piece(0, json!({}), json!("tool_calls")),
                ],
                Some(response(
                    json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                        {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}]}),
                )),
            ),
            (
                "n=2 interleaved, usage on the finish chunk",
                vec![
                    piece(1, json!({"role": "assistant", "content": "b"}), Value::Null),
                    piece(0, json!({"role": "assistant", "content": "a"}), Value::Null),
                    piece(0, json!({"content": "a"}), json!("stop")),
                    chunk(
                        json!({"choices": [{"index": 1, "delta": {"content": "b"}, "finish_reason": "length"}],
                                 "usage": usage}),
                    ),
                ],
                Some(response(
                    json!({"choices": [text(0, "aa", "stop"), text(1, "bb", "length")],
                                     "usage": usage}),
                )),
            ),
            (
                "thinking in pieces, signature last",
                vec![
                    piece(
                        0,
                        json!({"role": "assistant", "reasoning_content": "Hm",
                                    "thinking_blocks": [{"type": "thinking", "thinking": "Hm"}]}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"reasoning_content": "m.",
                                    "thinking_blocks": [{"type": "thinking", "thinking": "m."}]}),
                        Value::Null,
                    ),
                    piece(
                        0,
                        json!({"thinking_blocks": [{"type": "thinking", "signature": "s1"}]}),
                        Value::Null,
                    ),
                    piece(0, json!({"content": "ok"}), json!("stop")),
                ],
                Some(response(
                    json!({"choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "ok", "reasoning_content": "Hmm.",
                                "thinking_blocks": [{"type": "thinking", "thinking": "Hmm.", "signature": "s1"}]}}]}),
                )),
            ),
            (
                "cut before the finish",
                vec![
                    piece(
                        0,
                        json!({"role": "assistant", "content": "Hel"}),
                        Value::Null,
                    ),
                    piece(0, json!({"content": "lo"}), Value::Null),
                ],
                None,
            ),
            (
                "one of two choices unfinished",
                vec![
                    piece(0, json!({"content": "a"}), json!("stop")),
                    piece(1, json!({"content": "b"}), Value::Null),
                ],
                None,
            ),
            (
                "usage only",
                vec![chunk(json!({"choices": [], "usage": usage}))],
                None,
            ),
            ("nothing", vec![], None),
        ];
        for (name, chunks, expected) in cases {
            assert_eq!(assemble(&chunks), expected, "{name}");
        }
    }

    /// The conformance kit beside the project (`../shared/conformance`).
    fn kit() -> std::path::PathBuf {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance");
        assert!(
            dir.join("README.md").exists(),
            "the conformance kit is missing at {}: clone the project with shared/ beside it",
            dir.display()
        );
        dir
    }

    /// Real OpenAI streams (openai-python's recorded snapshots) assemble, and their assembly
    /// survives a replay.
    #[test]
    fn assembly_of_recorded_openai_streams() {
        let dir = kit().join("fixtures/openai-python-snapshots");
        let mut assembled = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "bin") {
                continue;
            }
            let chunks: Vec<ChatCompletionChunk> = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .filter(|data| *data != "[DONE]")
                .map(|data| serde_json::from_str(data).unwrap())
                .collect();
            let text: String = chunks
                .iter()
                .flat_map(|c| &c.choices)
                .filter(|c| c.index == 0)
                .filter_map(|c| c.delta.content.as_deref())
                .collect();
            let Some(response) = assemble(&chunks) else {
                panic!(
                    "{}: a complete recorded stream did not assemble",
                    path.display()
                );
            };
            assert_eq!(
                response.choices[0]
                    .message
                    .content
                    .clone()
                    .unwrap_or_default(),
                text
            );
            assert_eq!(
                assemble(&replay(&response, true)).as_ref(),
                Some(&response),
                "{}",
                path.display()
            );
            assembled += 1;
        }
        assert!(assembled >= 10, "assembled {assembled} recorded streams");
    }

    /// What a replay emits validates as OpenAI's `CreateChatCompletionStreamResponse`, and
    /// what an assembly returns as `CreateChatCompletionResponse` (strict JSON Schema of the
    /// kit's normalized spec, as the e2e tests check the gateway).
    #[test]
    fn assembly_and_replay_output_fits_the_openai_spec() {
        let spec: Value = serde_json::from_str(
            &std::fs::read_to_string(kit().join("specs/openai/openapi.normalized.json")).unwrap(),
        )
        .unwrap();
        let registry = jsonschema::Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add("urn:openai", jsonschema::Resource::from_contents(spec))
            .unwrap()
            .prepare()
            .unwrap();
        let validator = |component: &str| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .with_registry(&registry)
                .build(&json!({"$ref": format!("urn:openai#/components/schemas/{component}")}))
                .unwrap()
        };
        let (chunk_schema, response_schema) = (
            validator("CreateChatCompletionStreamResponse"),
            validator("CreateChatCompletionResponse"),
        );
        // The validators are live: they refuse what the spec refuses.
        assert!(
            !chunk_schema.is_valid(&json!({"id": "x", "choices": [{"index": 0, "delta": {}}]}))
        );
        assert!(!response_schema.is_valid(&json!({"id": "x", "choices": []})));
        for (name, response) in responses() {
            for (i, chunk) in replay(&response, true).iter().enumerate() {
                let value = serde_json::to_value(chunk).unwrap();
                let errors: Vec<String> = chunk_schema
                    .iter_errors(&value)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{name} chunk {i}: {errors:?}\n{value}");
            }
            let value = serde_json::to_value(assemble(&replay(&response, true)).unwrap()).unwrap();
            let errors: Vec<String> = response_schema
                .iter_errors(&value)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:?}\n{value}");
        }
    }
}
