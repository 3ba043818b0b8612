//! OpenAI chat request → Converse request body, as boto3's `converse` would send it.
//!
//! System messages become `system` blocks; user/assistant/tool messages become content blocks
//! (text, base64 image bytes, `toolUse`, `toolResult`), with consecutive same-role messages
//! merged because Converse requires roles to alternate (tool results travel in a user turn).
//! `response_format` JSON is asked for with a forced tool, as LiteLLM does, and the answer's
//! tool input is turned back into content by the response side. `cache_control` (on a
//! message or on a content part) becomes a `cachePoint` block right after what it marks; an
//! assistant message's `thinking_blocks` become signed `reasoningContent` blocks.

use base64::Engine;
use llm_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, Error, MessageContent, ResponseFormat, Role,
    Stop, ThinkingBlock, ToolChoice as OaiToolChoice,
};
use serde_json::{Value, json};

use super::wire::{
    CachePoint, ContentBlock, ConverseRequest, Empty, ImageBlock, ImageSource, InferenceConfig,
    InputSchema, Message, NamedTool, ReasoningBlock, ReasoningText, SystemBlock, ToolChoice,
    ToolConfig, ToolEntry, ToolResultBlock, ToolResultContent, ToolSpec, ToolUseBlock,
};
use crate::params::ParamPolicy;

/// The forced tool that carries `response_format` JSON (LiteLLM's name, so logs look alike).
pub const JSON_TOOL_NAME: &str = "json_tool_call";

/// The provider name in "not supported by" errors.
const PROVIDER: &str = "bedrock";

/// The translated body and whether the answer's forced-tool input is the JSON content.
#[derive(Debug)]
pub struct Translated {
    pub body: ConverseRequest,
    pub json_mode: bool,
}

/// Translates `request` for `model_id` (used to pick model-specific extras).
pub fn converse_body(
    model_id: &str,
    request: &ChatCompletionRequest,
    policy: &ParamPolicy,
) -> Result<Translated, Error> {
    check_unsupported(request, policy)?;
    let mut body = ConverseRequest::default();
    // Only Claude takes a tool result's `status`; boto3 users (and LiteLLM) send `success`.
    let result_status = model_id.contains("anthropic.").then_some("success");
    for message in &request.messages {
        add_message(&mut body, message, result_status)?;
    }
    let config = InferenceConfig {
        max_tokens: request.max_output_tokens(),
        temperature: request.temperature,
        top_p: request.top_p,
        stop_sequences: match &request.stop {
            None => Vec::new(),
            Some(Stop::One(one)) => vec![one.clone()],
            Some(Stop::Many(many)) => many.clone(),
        },
    };
    body.inference_config = (!config.is_empty()).then_some(config);
    body.tool_config = tool_config(request)?;
    let json_mode = apply_response_format(&mut body, request.response_format.as_ref());
    add_model_fields(&mut body, model_id, request);
    Ok(Translated { body, json_mode })
}

/// Parameters Converse cannot express: refused with a 400 unless dropped.
fn check_unsupported(request: &ChatCompletionRequest, policy: &ParamPolicy) -> Result<(), Error> {
    let present = [
        ("frequency_penalty", request.frequency_penalty.is_some()),
        ("presence_penalty", request.presence_penalty.is_some()),
        ("logit_bias", request.logit_bias.is_some()),
        ("logprobs", request.logprobs == Some(true)),
        ("top_logprobs", request.top_logprobs.is_some()),
        ("n", request.n.is_some_and(|n| n > 1)),
        ("seed", request.seed.is_some()),
        ("modalities", request.modalities.is_some()),
    ];
    for (param, is_set) in present {
        if is_set {
            policy.unsupported(PROVIDER, param)?;
        }
    }
    Ok(())
}

fn add_message(
    body: &mut ConverseRequest,
    message: &ChatMessage,
    result_status: Option<&'static str>,
) -> Result<(), Error> {
    match message.role {
        Role::System | Role::Developer => {
            system_blocks(body, message.content.as_ref());
            let ends_cached = matches!(body.system.last(), Some(SystemBlock::CachePoint(_)));
            if message.extra.contains_key("cache_control") && !ends_cached {
                body.system
                    .push(SystemBlock::CachePoint(CachePoint::DEFAULT));
            }
            Ok(())
        }
        Role::User => {
            let mut blocks = content_blocks(message.content.as_ref())?;
            cache_point(message, &mut blocks);
            push(body, "user", blocks);
            Ok(())
        }
        Role::Assistant => {
            let mut blocks = thinking_blocks(message)?;
            if let Some(reasoning) = message
                .extra
                .get("reasoning_content")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && blocks.is_empty())
            {
                let signature = message
                    .extra
                    .get("thinking_signature")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                blocks.push(ContentBlock::ReasoningContent(
                    ReasoningBlock::ReasoningText(ReasoningText {
                        text: reasoning.to_owned(),
                        signature,
                    }),
                ));
            }
            blocks.extend(content_blocks(message.content.as_ref())?);
            for call in message.tool_calls.iter().flatten() {
                let input = if call.function.arguments.trim().is_empty() {
                    json!({})
                } else {
                    serde_json::from_str(&call.function.arguments).map_err(|e| {
                        Error::invalid_param(
                            "messages",
                            format!(
                                "tool call `{}` has arguments that are not JSON: {e}",
                                call.id
                            ),
                        )
                    })?
                };
                blocks.push(ContentBlock::ToolUse(ToolUseBlock {
                    tool_use_id: call.id.clone(),
                    name: call.function.name.clone(),
                    input,
                }));
            }
            cache_point(message, &mut blocks);
            push(body, "assistant", blocks);
            Ok(())
        }
        Role::Tool | Role::Function => {
            let id = message.tool_call_id.clone().ok_or_else(|| {
                Error::invalid_param("messages", "a tool message needs `tool_call_id`")
            })?;
            let mut content = Vec::new();
            // A tool result cannot hold a cache point: a marked part caches after the result.
            let mut cached = false;
            for block in content_blocks(message.content.as_ref())? {
                match block {
                    ContentBlock::Text(text) => content.push(ToolResultContent::Text(text)),
                    ContentBlock::Image(image) => content.push(ToolResultContent::Image(image)),
                    ContentBlock::CachePoint(_) => cached = true,
                    _ => {}
                }
            }
            if content.is_empty() {
                // Converse refuses an empty tool result; LiteLLM sends a placeholder too.
                content.push(ToolResultContent::Text(".".to_owned()));
            }
            let mut blocks = vec![ContentBlock::ToolResult(ToolResultBlock {
                tool_use_id: id,
                content,
                status: result_status,
            })];
            if cached {
                blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
            } else {
                cache_point(message, &mut blocks);
            }
            push(body, "user", blocks);
            Ok(())
        }
    }
}

/// A message with `cache_control` (LiteLLM's prompt-caching marker) ends with a cache point
/// (one only: its last part may have placed it already).
fn cache_point(message: &ChatMessage, blocks: &mut Vec<ContentBlock>) {
    let ends_cached = matches!(blocks.last(), Some(ContentBlock::CachePoint(_)));
    if !blocks.is_empty() && !ends_cached && message.extra.contains_key("cache_control") {
        blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
    }
}

/// System text: parts are joined into one block, cut by a cache point after a marked part.
fn system_blocks(body: &mut ConverseRequest, content: Option<&MessageContent>) {
    let parts = match content {
        None => return,
        Some(MessageContent::Text(text)) => {
            if !text.is_empty() {
                body.system.push(SystemBlock::Text(text.clone()));
            }
            return;
        }
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut pending: Vec<&str> = Vec::new();
    for part in parts {
        if let ContentPart::Text { text, .. } = part {
            pending.push(text);
        }
        if part.cache_control().is_some() {
            let text = pending.join(" ");
            pending.clear();
            if !text.is_empty() {
                body.system.push(SystemBlock::Text(text));
                body.system
                    .push(SystemBlock::CachePoint(CachePoint::DEFAULT));
            }
        }
    }
    let text = pending.join(" ");
    if !text.is_empty() {
        body.system.push(SystemBlock::Text(text));
    }
}

/// The `thinking_blocks` of an earlier answer (LiteLLM's shape), as reasoning blocks.
fn thinking_blocks(message: &ChatMessage) -> Result<Vec<ContentBlock>, Error> {
    let Some(value) = message
        .extra
        .get("thinking_blocks")
        .filter(|v| !v.is_null())
    else {
        return Ok(Vec::new());
    };
    let given: Vec<ThinkingBlock> = serde::Deserialize::deserialize(value).map_err(|e| {
        Error::invalid_param(
            "messages",
            format!("`thinking_blocks` must be thinking or redacted_thinking blocks: {e}"),
        )
    })?;
    Ok(given
        .into_iter()
        .filter_map(|block| {
            let reasoning = if block.kind == ThinkingBlock::REDACTED {
                ReasoningBlock::RedactedContent(block.data?)
            } else {
                ReasoningBlock::ReasoningText(ReasoningText {
                    text: block.thinking.unwrap_or_default(),
                    signature: block.signature,
                })
            };
            Some(ContentBlock::ReasoningContent(reasoning))
        })
        .collect())
}

/// Appends blocks as a turn of `role`, merged into the previous turn when it has the same role.
fn push(body: &mut ConverseRequest, role: &'static str, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    match body.messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => body.messages.push(Message {
            role,
            content: blocks,
        }),
    }
}

fn content_blocks(content: Option<&MessageContent>) -> Result<Vec<ContentBlock>, Error> {
    let mut blocks = Vec::new();
    match content {
        Some(MessageContent::Text(text)) if !text.is_empty() => {
            blocks.push(ContentBlock::Text(text.clone()));
        }
        None | Some(MessageContent::Text(_)) => {}
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                match part {
                    ContentPart::Text { text, .. } if !text.is_empty() => {
                        blocks.push(ContentBlock::Text(text.clone()));
                    }
                    // Nothing to cache after an empty part: its marker is dropped with it.
                    ContentPart::Text { .. } => continue,
                    ContentPart::ImageUrl { image_url, .. } => {
                        blocks.push(ContentBlock::Image(image(&image_url.url)?));
                    }
                    ContentPart::Refusal { refusal } => {
                        blocks.push(ContentBlock::Text(refusal.clone()));
                    }
                    ContentPart::InputAudio { .. } | ContentPart::File { .. } => {
                        return Err(Error::invalid_param(
                            "messages",
                            "bedrock (Converse) takes text and image parts only",
                        ));
                    }
                }
                if part.cache_control().is_some() {
                    blocks.push(ContentBlock::CachePoint(CachePoint::DEFAULT));
                }
            }
        }
    }
    Ok(blocks)
}

/// An image part: Converse takes the raw bytes (base64 in JSON) and a format name, so only
/// `data:` URLs can be sent as they are.
pub fn image(url: &str) -> Result<ImageBlock, Error> {
    let invalid = |why: &str| {
        Error::invalid_param(
            "messages",
            format!("bedrock needs images as base64 `data:image/...;base64,` URLs: {why}"),
        )
    };
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| invalid("remote image URLs are not fetched by the gateway"))?;
    let (mime, data) = rest
        .split_once(";base64,")
        .ok_or_else(|| invalid("the data URL is not base64"))?;
    let format = match mime.trim().to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => return Err(invalid(&format!("unsupported image type `{other}`"))),
    };
    // Re-encoding checks the data and normalizes padding/whitespace the client may have sent.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| invalid("the base64 data does not decode"))?;
    Ok(ImageBlock {
        format: format.to_owned(),
        source: ImageSource {
            bytes: base64::engine::general_purpose::STANDARD.encode(bytes),
        },
    })
}

fn tool_config(request: &ChatCompletionRequest) -> Result<Option<ToolConfig>, Error> {
    let tools: Vec<ToolEntry> = request
        .tools
        .iter()
        .flatten()
        .filter_map(|tool| tool.function.as_ref())
        .map(|function| ToolEntry {
            tool_spec: ToolSpec {
                name: function.name.clone(),
                description: function.description.clone(),
                input_schema: InputSchema {
                    json: function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                },
            },
        })
        .collect();
    if tools.is_empty() {
        return Ok(None);
    }
    let tool_choice = match &request.tool_choice {
        None => None,
        Some(OaiToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => Some(ToolChoice::Auto(Empty {})),
            "required" => Some(ToolChoice::Any(Empty {})),
            // Converse has no "none": the tools are left out, as LiteLLM does.
            "none" => return Ok(None),
            other => {
                return Err(Error::invalid_param(
                    "tool_choice",
                    format!("unknown tool_choice `{other}`"),
                ));
            }
        },
        Some(OaiToolChoice::Named(named)) => Some(ToolChoice::Tool(NamedTool {
            name: named.function.name.clone(),
        })),
    };
    Ok(Some(ToolConfig { tools, tool_choice }))
}

/// JSON mode through a forced tool whose input schema is the requested schema.
fn apply_response_format(body: &mut ConverseRequest, format: Option<&ResponseFormat>) -> bool {
    let (schema, description) = match format {
        None | Some(ResponseFormat::Text) => return false,
        Some(ResponseFormat::JsonObject) => (json!({"type": "object"}), None),
        Some(ResponseFormat::JsonSchema { json_schema }) => (
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"})),
            json_schema.description.clone(),
        ),
    };
    let entry = ToolEntry {
        tool_spec: ToolSpec {
            name: JSON_TOOL_NAME.to_owned(),
            description: description
                .or_else(|| Some("Respond with a JSON object matching this schema.".to_owned())),
            input_schema: InputSchema { json: schema },
        },
    };
    let config = body.tool_config.get_or_insert(ToolConfig {
        tools: Vec::new(),
        tool_choice: None,
    });
    config.tools.push(entry);
    config.tool_choice = Some(ToolChoice::Tool(NamedTool {
        name: JSON_TOOL_NAME.to_owned(),
    }));
    true
}

/// Budget tokens LiteLLM gives each `reasoning_effort` for Claude's extended thinking.
fn thinking_budget(effort: &str) -> Option<u32> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(2048),
        "high" => Some(4096),
        _ => None,
    }
}

/// Model-specific fields: thinking (Claude: `thinking` budget; Nova and others:
/// `reasoningConfig`), and passthrough of `thinking` / `top_k` given as extra fields.
fn add_model_fields(body: &mut ConverseRequest, model_id: &str, request: &ChatCompletionRequest) {
    let fields = &mut body.additional_model_request_fields;
    let is_claude = model_id.contains("anthropic.");
    if let Some(thinking) = request.extra.get("thinking") {
        fields.insert("thinking".into(), thinking.clone());
    } else if let Some(effort) = request.reasoning_effort.as_deref() {
        if is_claude {
            if let Some(budget) = thinking_budget(effort) {
                fields.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            }
        } else if effort != "none" {
            fields.insert(
                "reasoningConfig".into(),
                json!({"type": "enabled", "maxReasoningEffort": effort}),
            );
        }
    }
    if let Some(top_k) = request.extra.get("top_k") {
        fields.insert("top_k".into(), top_k.clone());
    }
}
