//! OpenAI chat request → Anthropic Messages request.
//!
//! Follows what LiteLLM sends, since users moving off it expect the same upstream behaviour:
//! system (and developer) messages become the top-level `system`; tool results become
//! `tool_result` blocks of a user turn (consecutive same-role turns merged, as Anthropic
//! requires alternation); `response_format` becomes a forced tool named `json_tool_call`
//! whose input is the answer; `reasoning_effort` becomes a thinking budget; `max_tokens`
//! defaults to 4096 when absent. `cache_control` on a message marks its last block, on a
//! content part that part's block, on a tool the tool; an assistant message's
//! `thinking_blocks` (from an earlier answer) lead its turn with their signatures.

use llm_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, Error, MessageContent, ResponseFormat, Role,
    Stop, Tool, ToolChoice as OpenAiToolChoice,
};
use serde_json::{Value, json};

use super::wire::{
    AnthropicRequest, Block, CacheControl, Content, MediaSource, Message, MessageRole, Metadata,
    System, Thinking, ThinkingBlockIn, ToolChoice, ToolDefinition,
};
use crate::params::ParamPolicy;

/// Provider name in error messages.
const PROVIDER: &str = "anthropic";

/// `max_tokens` when the client gives none: Anthropic requires it, LiteLLM sends 4096.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The tool a `response_format` is forced through (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
pub const JSON_TOOL_NAME: &str = "json_tool_call";

/// Thinking budgets per `reasoning_effort`, as LiteLLM maps them.
pub fn thinking_budget(effort: &str) -> Option<u32> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(2048),
        "high" => Some(4096),
        _ => None,
    }
}

/// Whether `request` asks for JSON output (then the answer comes back through
/// [`JSON_TOOL_NAME`] and is turned back into message content).
pub fn wants_json(request: &ChatCompletionRequest) -> bool {
    matches!(
        request.response_format,
        Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })
    )
}

/// Translates `request`. `model` is the upstream model name (`None` on Vertex AI, where it is
/// part of the URL); parameters Anthropic cannot express are refused or dropped by `policy`.
pub fn to_anthropic_request(
    request: &ChatCompletionRequest,
    model: Option<&str>,
    policy: &ParamPolicy,
) -> Result<AnthropicRequest, Error> {
    let policy = policy.for_request(request);
    check_unsupported(request, &policy)?;

    let (system, messages) = translate_messages(&request.messages)?;
    let mut tools = request
        .tools
        .as_deref()
        .map(|tools| {
            tools
                .iter()
                .map(translate_tool)
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;

    let thinking = thinking(request)?;
    let thinking_on = matches!(thinking, Some(Thinking::Enabled { .. }));
    let mut tool_choice = match &request.tool_choice {
        None => None,
        Some(choice) => translate_tool_choice(choice)?,
    };
    if let Some(schema) = json_tool_schema(request) {
        tools.get_or_insert_with(Vec::new).push(ToolDefinition {
            name: JSON_TOOL_NAME.to_owned(),
            description: None,
            input_schema: schema,
            cache_control: None,
        });
        // Anthropic refuses a forced tool while thinking; LiteLLM then leaves the choice open.
        if !thinking_on {
            tool_choice = Some(ToolChoice::Tool {
                name: JSON_TOOL_NAME.to_owned(),
                disable_parallel_tool_use: None,
            });
        }
    }
    if request.parallel_tool_calls == Some(false) {
        tool_choice = Some(match tool_choice {
            None | Some(ToolChoice::Auto { .. }) | Some(ToolChoice::None) => ToolChoice::Auto {
                disable_parallel_tool_use: Some(true),
            },
            Some(ToolChoice::Any { .. }) => ToolChoice::Any {
                disable_parallel_tool_use: Some(true),
            },
            Some(ToolChoice::Tool { name, .. }) => ToolChoice::Tool {
                name,
                disable_parallel_tool_use: Some(true),
            },
        });
    }

    let asked = request.max_completion_tokens.or(request.max_tokens);
    let max_tokens = match (asked, &thinking) {
        (Some(max), _) => max,
        // Anthropic wants max_tokens above the budget; LiteLLM adds the default on top.
        (None, Some(Thinking::Enabled { budget_tokens })) => {
            budget_tokens.saturating_add(DEFAULT_MAX_TOKENS)
        }
        (None, _) => DEFAULT_MAX_TOKENS,
    };

    Ok(AnthropicRequest {
        model: model.map(str::to_owned),
        anthropic_version: None,
        messages,
        max_tokens,
        system,
        stop_sequences: stop_sequences(request.stop.as_ref()),
        temperature: request.temperature,
        top_p: request.top_p,
        top_k: extra_u32(request, "top_k")?,
        stream: None,
        tools,
        tool_choice,
        thinking,
        metadata: request
            .user
            .as_ref()
            .filter(|user| !user.is_empty())
            .map(|user| Metadata {
                user_id: user.clone(),
            }),
    })
}

/// OpenAI parameters with no Anthropic counterpart.
fn check_unsupported(request: &ChatCompletionRequest, policy: &ParamPolicy) -> Result<(), Error> {
    let present = [
        ("frequency_penalty", request.frequency_penalty.is_some()),
        ("presence_penalty", request.presence_penalty.is_some()),
        ("logit_bias", request.logit_bias.is_some()),
        ("logprobs", request.logprobs == Some(true)),
        ("top_logprobs", request.top_logprobs.is_some()),
        ("n", request.n.is_some_and(|n| n > 1)),
        ("seed", request.seed.is_some()),
        (
            "modalities",
            request
                .modalities
                .as_ref()
                .is_some_and(|m| m.iter().any(|m| m != "text")),
        ),
    ];
    for (param, _) in present.iter().filter(|(_, is_set)| *is_set) {
        policy.unsupported(PROVIDER, param)?;
    }
    Ok(())
}

fn stop_sequences(stop: Option<&Stop>) -> Option<Vec<String>> {
    let sequences: Vec<String> = match stop? {
        Stop::One(one) => vec![one.clone()],
        Stop::Many(many) => many.clone(),
    };
    // Anthropic rejects whitespace-only stop sequences.
    let sequences: Vec<String> = sequences
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!sequences.is_empty()).then_some(sequences)
}

fn extra_u32(request: &ChatCompletionRequest, key: &str) -> Result<Option<u32>, Error> {
    request
        .extra
        .get(key)
        .map(|value| {
            value
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| Error::invalid_param(key, format!("`{key}` must be a whole number")))
        })
        .transpose()
}

/// `thinking` as the client wrote it (LiteLLM accepts Anthropic's own parameter), else the
/// budget for `reasoning_effort`.
fn thinking(request: &ChatCompletionRequest) -> Result<Option<Thinking>, Error> {
    if let Some(value) = request.extra.get("thinking") {
        return Thinking::deserialize_from(value).map(Some);
    }
    match request.reasoning_effort.as_deref() {
        None | Some("none") => Ok(None),
        Some(effort) => thinking_budget(effort)
            .map(|budget_tokens| Some(Thinking::Enabled { budget_tokens }))
            .ok_or_else(|| {
                Error::invalid_param(
                    "reasoning_effort",
                    format!(
                        "`reasoning_effort` must be one of none, minimal, low, medium, high; got `{effort}`"
                    ),
                )
            }),
    }
}

impl Thinking {
    fn deserialize_from(value: &Value) -> Result<Thinking, Error> {
        serde::Deserialize::deserialize(value).map_err(|e| {
            Error::invalid_param(
                "thinking",
                format!(
                    "`thinking` must be {{\"type\": \"enabled\", \"budget_tokens\": N}} or \
                     {{\"type\": \"disabled\"}}: {e}"
                ),
            )
        })
    }
}

/// The input schema of the forced JSON tool, if the request asks for JSON.
fn json_tool_schema(request: &ChatCompletionRequest) -> Option<Value> {
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => Some(json!({
            "type": "object",
            "additionalProperties": true,
            "properties": {},
        })),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        ),
        Some(ResponseFormat::Text) | None => None,
    }
}

fn translate_tool(tool: &Tool) -> Result<ToolDefinition, Error> {
    let function = match (tool.kind.as_str(), &tool.function) {
        ("function", Some(function)) => function,
        (kind, _) => {
            return Err(Error::invalid_param(
                "tools",
                format!("tools of type `{kind}` are not supported by anthropic; use `function`"),
            ));
        }
    };
    Ok(ToolDefinition {
        name: function.name.clone(),
        description: function.description.clone(),
        input_schema: function
            .parameters
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        cache_control: cache_control(&tool.extra)?,
    })
}

fn translate_tool_choice(choice: &OpenAiToolChoice) -> Result<Option<ToolChoice>, Error> {
    Ok(Some(match choice {
        OpenAiToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => ToolChoice::Auto {
                disable_parallel_tool_use: None,
            },
            "none" => ToolChoice::None,
            "required" => ToolChoice::Any {
                disable_parallel_tool_use: None,
            },
            other => {
                return Err(Error::invalid_param(
                    "tool_choice",
                    format!("`tool_choice` must be none, auto or required; got `{other}`"),
                ));
            }
        },
        OpenAiToolChoice::Named(named) => ToolChoice::Tool {
            name: named.function.name.clone(),
            disable_parallel_tool_use: None,
        },
    }))
}

/// `cache_control` from a message's or tool's extra fields.
fn cache_control(extra: &serde_json::Map<String, Value>) -> Result<Option<CacheControl>, Error> {
    extra
        .get("cache_control")
        .filter(|v| !v.is_null())
        .map(|value| {
            serde::Deserialize::deserialize(value).map_err(|e| {
                Error::invalid_param(
                    "cache_control",
                    format!("`cache_control` must be {{\"type\": \"ephemeral\"}}: {e}"),
                )
            })
        })
        .transpose()
}

/// Splits off the system prompt and turns the rest into alternating user/assistant turns.
fn translate_messages(messages: &[ChatMessage]) -> Result<(Option<System>, Vec<Message>), Error> {
    let mut system: Vec<Block> = Vec::new();
    let mut system_cached = false;
    let mut turns: Vec<Message> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let at = |field: &str| format!("messages[{i}].{field}");
        let cache = cache_control(&message.extra).map_err(|e| e.with_param(at("cache_control")))?;
        let (role, mut blocks) = match message.role {
            Role::System | Role::Developer => {
                let mut blocks = text_blocks(message, &at)?;
                if let (Some(cache), Some(last)) = (cache, blocks.last_mut()) {
                    last.set_cache_control(cache);
                    system_cached = true;
                }
                system.extend(blocks);
                continue;
            }
            Role::User => (MessageRole::User, user_blocks(message, &at)?),
            Role::Assistant => (MessageRole::Assistant, assistant_blocks(message, &at)?),
            Role::Tool | Role::Function => (MessageRole::User, vec![tool_result(message, &at)?]),
        };
        if let (Some(cache), Some(last)) = (cache, blocks.last_mut()) {
            last.set_cache_control(cache);
        }
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(previous) if previous.role == role => {
                let mut merged = into_blocks(std::mem::replace(
                    &mut previous.content,
                    Content::Blocks(Vec::new()),
                ));
                merged.append(&mut blocks);
                previous.content = Content::Blocks(merged);
            }
            _ => turns.push(Message {
                role,
                content: simplify(blocks),
            }),
        }
    }
    let system = match system.as_slice() {
        [] => None,
        // One plain text block is sent as a string, as the SDK does.
        [
            Block::Text {
                text,
                cache_control: None,
            },
        ] if !system_cached => Some(System::Text(text.clone())),
        _ => Some(System::Blocks(system)),
    };
    Ok((system, turns))
}

/// One uncached text block becomes a plain string (the SDK's shape for text).
fn simplify(blocks: Vec<Block>) -> Content {
    match <[Block; 1]>::try_from(blocks) {
        Ok(
            [
                Block::Text {
                    text,
                    cache_control: None,
                },
            ],
        ) => Content::Text(text),
        Ok([block]) => Content::Blocks(vec![block]),
        Err(blocks) => Content::Blocks(blocks),
    }
}

fn into_blocks(content: Content) -> Vec<Block> {
    match content {
        Content::Text(text) => vec![Block::Text {
            text,
            cache_control: None,
        }],
        Content::Blocks(blocks) => blocks,
    }
}

fn text_blocks(message: &ChatMessage, at: &dyn Fn(&str) -> String) -> Result<Vec<Block>, Error> {
    match &message.content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(text)) => Ok(non_empty_text(text)),
        Some(MessageContent::Parts(parts)) => {
            let mut blocks = Vec::new();
            for part in parts {
                match part {
                    ContentPart::Text {
                        text,
                        cache_control,
                    } => blocks.extend(text_block(text, cache_control.as_ref())),
                    _ => {
                        return Err(Error::invalid_param(
                            at("content"),
                            "only text parts are allowed in system and tool messages for anthropic",
                        ));
                    }
                }
            }
            Ok(blocks)
        }
    }
}

/// Anthropic rejects empty text blocks.
fn non_empty_text(text: &str) -> Vec<Block> {
    text_block(text, None).into_iter().collect()
}

/// A text block with the part's cache breakpoint, or nothing for empty text (which Anthropic
/// rejects; a breakpoint on an empty part has no prompt to end, so it goes too).
fn text_block(text: &str, cache_control: Option<&CacheControl>) -> Option<Block> {
    (!text.is_empty()).then(|| Block::Text {
        text: text.to_owned(),
        cache_control: cache_control.cloned(),
    })
}

fn user_blocks(message: &ChatMessage, at: &dyn Fn(&str) -> String) -> Result<Vec<Block>, Error> {
    let Some(MessageContent::Parts(parts)) = &message.content else {
        return text_blocks(message, at);
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let here = || at(&format!("content[{j}]"));
        match part {
            ContentPart::Text {
                text,
                cache_control,
            } => blocks.extend(text_block(text, cache_control.as_ref())),
            ContentPart::ImageUrl {
                image_url,
                cache_control,
            } => blocks.push(Block::Image {
                source: media_source(&image_url.url).map_err(|e| e.with_param(here()))?,
                cache_control: cache_control.clone(),
            }),
            ContentPart::File {
                file,
                cache_control,
            } => {
                let Some(data) = &file.file_data else {
                    return Err(Error::invalid_param(
                        here(),
                        "anthropic needs files inline (`file_data` as a data: URL); file ids are not supported",
                    ));
                };
                blocks.push(Block::Document {
                    source: media_source(data).map_err(|e| e.with_param(here()))?,
                    cache_control: cache_control.clone(),
                });
            }
            ContentPart::InputAudio { .. } => {
                return Err(Error::invalid_param(
                    here(),
                    "audio input is not supported by anthropic",
                ));
            }
            ContentPart::Refusal { refusal } => blocks.extend(non_empty_text(refusal)),
        }
    }
    Ok(blocks)
}

/// A `data:<type>;base64,<data>` URL becomes a base64 source, an http(s) URL a url source.
pub fn media_source(url: &str) -> Result<MediaSource, Error> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (media_type, data) = rest.split_once(";base64,").ok_or_else(|| {
            Error::invalid_request("a data: URL must be base64 (`data:<type>;base64,...`)")
        })?;
        return Ok(MediaSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        });
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(MediaSource::Url {
            url: url.to_owned(),
        });
    }
    Err(Error::invalid_request(
        "an image must be a data: URL or an http(s) URL",
    ))
}

fn assistant_blocks(
    message: &ChatMessage,
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<Block>, Error> {
    // Thinking blocks come first in an assistant turn, as Anthropic produced them.
    let mut blocks = match message
        .extra
        .get("thinking_blocks")
        .filter(|v| !v.is_null())
    {
        None => Vec::new(),
        Some(value) => {
            let given: Vec<ThinkingBlockIn> =
                serde::Deserialize::deserialize(value).map_err(|e| {
                    Error::invalid_param(
                        at("thinking_blocks"),
                        format!(
                            "`thinking_blocks` must be thinking or redacted_thinking blocks: {e}"
                        ),
                    )
                })?;
            given
                .into_iter()
                .map(|block| match block {
                    ThinkingBlockIn::Thinking {
                        thinking,
                        signature,
                    } => Block::Thinking {
                        thinking,
                        signature,
                    },
                    ThinkingBlockIn::RedactedThinking { data } => Block::RedactedThinking { data },
                })
                .collect()
        }
    };
    blocks.extend(text_blocks(message, at)?);
    for (j, call) in message.tool_calls.iter().flatten().enumerate() {
        let arguments = call.function.arguments.trim();
        let input = if arguments.is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                Error::invalid_param(
                    at(&format!("tool_calls[{j}].function.arguments")),
                    format!("tool-call arguments must be JSON: {e}"),
                )
            })?
        };
        blocks.push(Block::ToolUse {
            id: call.id.clone(),
            name: call.function.name.clone(),
            input,
            cache_control: None,
        });
    }
    Ok(blocks)
}

fn tool_result(message: &ChatMessage, at: &dyn Fn(&str) -> String) -> Result<Block, Error> {
    let tool_use_id = message
        .tool_call_id
        .clone()
        .or_else(|| message.name.clone())
        .ok_or_else(|| {
            Error::invalid_param(at("tool_call_id"), "a tool message needs `tool_call_id`")
        })?;
    let content = match &message.content {
        Some(MessageContent::Parts(_)) => Content::Blocks(text_blocks(message, at)?),
        other => Content::Text(other.as_ref().map(|c| c.joined_text()).unwrap_or_default()),
    };
    Ok(Block::ToolResult {
        tool_use_id,
        content,
        cache_control: None,
    })
}
