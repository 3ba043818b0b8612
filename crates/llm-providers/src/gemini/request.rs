//! OpenAI chat request out → Gemini `generateContent` body (shared by Google AI Studio and
//! Vertex AI).
//!
//! Messages become `contents` (`assistant` → `model`, tool results → `user` turns with
//! `functionResponse` parts), system and developer messages become `systemInstruction`,
//! sampling parameters go into `generationConfig`. Parameters Gemini cannot express are refused
//! or dropped through the deployment's [`ParamPolicy`].

use llm_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, Error, MessageContent, ResponseFormat, Role,
    Stop, ToolChoice,
};
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::ids;
use super::wire::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateContentRequest, GenerationConfig, Part, ThinkingConfig, ToolConfig,
    ToolDeclarations,
};
use crate::params::ParamPolicy;

/// Thinking budgets for `reasoning_effort`, as LiteLLM maps them.
fn thinking_budget(effort: &str) -> Option<i64> {
    match effort {
        "none" | "disable" => Some(0),
        "minimal" => Some(128),
        "low" => Some(1024),
        "medium" => Some(2048),
        "high" => Some(4096),
        _ => None,
    }
}

/// Translates `request` for `provider` (named in errors).
pub fn build(
    request: &ChatCompletionRequest,
    policy: &ParamPolicy,
    provider: &str,
) -> Result<GenerateContentRequest, Error> {
    let policy = policy.for_request(request);
    let mut out = GenerateContentRequest {
        contents: contents(&request.messages)?,
        system_instruction: system_instruction(&request.messages),
        ..GenerateContentRequest::default()
    };
    if let Some(tools) = &request.tools {
        let mut declarations = Vec::new();
        for tool in tools {
            match (&tool.function, tool.kind.as_str()) {
                (Some(function), "function") => declarations.push(FunctionDeclaration {
                    name: function.name.clone(),
                    description: function.description.clone(),
                    parameters_json_schema: function.parameters.clone(),
                }),
                _ => policy.unsupported(provider, "tools")?,
            }
        }
        if !declarations.is_empty() {
            out.tools.push(ToolDeclarations {
                function_declarations: declarations,
            });
        }
    }
    out.tool_config = request.tool_choice.as_ref().map(tool_config).transpose()?;
    if request.parallel_tool_calls == Some(false) {
        policy.unsupported(provider, "parallel_tool_calls")?;
    }
    for (param, set) in [
        ("logit_bias", request.logit_bias.is_some()),
        ("logprobs", request.logprobs == Some(true)),
        ("top_logprobs", request.top_logprobs.is_some()),
        (
            "modalities",
            request
                .modalities
                .as_ref()
                .is_some_and(|m| m.iter().any(|m| m != "text")),
        ),
    ] {
        if set {
            policy.unsupported(provider, param)?;
        }
    }
    out.safety_settings = request.extra.get("safety_settings").cloned();
    let config = generation_config(request)?;
    out.generation_config = (!config.is_empty()).then_some(config);
    Ok(out)
}

fn generation_config(request: &ChatCompletionRequest) -> Result<GenerationConfig, Error> {
    let mut config = GenerationConfig {
        temperature: request.temperature,
        top_p: request.top_p,
        // Gemini's `topK` is an integer (Vertex takes a number; an integer suits both).
        top_k: request
            .extra
            .get("top_k")
            .and_then(|k| k.as_i64().or_else(|| k.as_f64().map(|f| f as i64))),
        max_output_tokens: request.max_completion_tokens.or(request.max_tokens),
        stop_sequences: request.stop.as_ref().map(|stop| match stop {
            Stop::One(one) => vec![one.clone()],
            Stop::Many(many) => many.clone(),
        }),
        candidate_count: request.n.filter(|n| *n != 1),
        seed: request.seed,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        ..GenerationConfig::default()
    };
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => config.response_mime_type = Some("application/json"),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config.response_mime_type = Some("application/json");
            config.response_json_schema = json_schema.schema.clone();
        }
        Some(ResponseFormat::Text) | None => {}
    }
    if let Some(effort) = &request.reasoning_effort {
        let budget = thinking_budget(effort).ok_or_else(|| {
            Error::invalid_param(
                "reasoning_effort",
                format!(
                    "`reasoning_effort` must be one of none, minimal, low, medium, high; got `{effort}`"
                ),
            )
        })?;
        config.thinking_config = Some(ThinkingConfig {
            thinking_budget: Some(budget),
            include_thoughts: Some(budget != 0),
        });
    }
    // LiteLLM's Anthropic-style `thinking: {"type": "enabled", "budget_tokens": N}`.
    if let Some(thinking) = request.extra.get("thinking") {
        let enabled = thinking.get("type").and_then(Value::as_str) != Some("disabled");
        let budget = thinking.get("budget_tokens").and_then(Value::as_i64);
        config.thinking_config = Some(ThinkingConfig {
            thinking_budget: if enabled { budget } else { Some(0) },
            include_thoughts: Some(enabled),
        });
    }
    Ok(config)
}

fn tool_config(choice: &ToolChoice) -> Result<ToolConfig, Error> {
    let (mode, names) = match choice {
        ToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => ("AUTO", None),
            "none" => ("NONE", None),
            "required" => ("ANY", None),
            other => {
                return Err(Error::invalid_param(
                    "tool_choice",
                    format!(
                        "`tool_choice` must be auto, none, required or a named function; got `{other}`"
                    ),
                ));
            }
        },
        ToolChoice::Named(named) => ("ANY", Some(vec![named.function.name.clone()])),
    };
    Ok(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names: names,
        },
    })
}

/// System and developer messages, joined into the one `systemInstruction` Gemini has
/// (google-genai sends it with `role: "user"`).
fn system_instruction(messages: &[ChatMessage]) -> Option<Content> {
    let parts: Vec<Part> = messages
        .iter()
        .filter(|m| matches!(m.role, Role::System | Role::Developer))
        .map(|m| Part::text(m.text_content()))
        .collect();
    (!parts.is_empty()).then(|| Content {
        role: Some("user".to_owned()),
        parts,
    })
}

fn contents(messages: &[ChatMessage]) -> Result<Vec<Content>, Error> {
    // Tool results name their call by id; Gemini wants the function's name.
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    let mut out: Vec<Content> = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let (role, parts) = match message.role {
            Role::System | Role::Developer => continue,
            Role::User => ("user", user_parts(message, index)?),
            Role::Assistant => {
                for call in message.tool_calls.iter().flatten() {
                    call_names.insert(call.id.as_str(), call.function.name.as_str());
                }
                ("model", assistant_parts(message, index)?)
            }
            Role::Tool | Role::Function => {
                let name = message
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| call_names.get(id).copied())
                    .or(message.name.as_deref())
                    .ok_or_else(|| {
                        Error::invalid_param(
                            format!("messages[{index}].tool_call_id"),
                            format!(
                                "messages[{index}] answers a tool call that no earlier assistant message made"
                            ),
                        )
                    })?;
                let part = Part {
                    function_response: Some(FunctionResponse {
                        id: None,
                        name: name.to_owned(),
                        response: tool_response(&message.text_content()),
                    }),
                    ..Part::default()
                };
                ("user", vec![part])
            }
        };
        if parts.is_empty() {
            continue;
        }
        // Gemini wants one turn per side: parallel tool results, or a tool result followed by
        // a user message, go into one `user` turn.
        match out.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => out.push(Content {
                role: Some(role.to_owned()),
                parts,
            }),
        }
    }
    Ok(out)
}

/// A tool's output as the `response` object: a JSON object as is, anything else under
/// `result` (what google-genai's automatic function calling sends).
fn tool_response(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(object @ Value::Object(_)) => object,
        _ => {
            let mut map = Map::new();
            map.insert("result".to_owned(), Value::String(text.to_owned()));
            Value::Object(map)
        }
    }
}

fn user_parts(message: &ChatMessage, index: usize) -> Result<Vec<Part>, Error> {
    match &message.content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(text)) => Ok(vec![Part::text(text.clone())]),
        Some(MessageContent::Parts(parts)) => {
            parts.iter().map(|part| content_part(part, index)).collect()
        }
    }
}

fn content_part(part: &ContentPart, index: usize) -> Result<Part, Error> {
    let media = |url: &str, default_mime: &str| media_part(url, default_mime, index);
    match part {
        ContentPart::Text { text, .. } => Ok(Part::text(text.clone())),
        ContentPart::Refusal { refusal } => Ok(Part::text(refusal.clone())),
        ContentPart::ImageUrl { image_url, .. } => media(&image_url.url, "image/jpeg"),
        ContentPart::InputAudio { input_audio } => Ok(Part {
            inline_data: Some(Blob {
                mime_type: format!("audio/{}", input_audio.format),
                data: input_audio.data.clone(),
            }),
            ..Part::default()
        }),
        ContentPart::File { file, .. } => match (&file.file_data, &file.file_id) {
            (Some(data), _) => media(data, "application/pdf"),
            (None, Some(id)) => media(id, "application/pdf"),
            (None, None) => Err(Error::invalid_param(
                format!("messages[{index}].content"),
                "a `file` part needs `file_data` or `file_id`",
            )),
        },
    }
}

/// `data:` URLs become `inlineData`; anything else (https, gs://, Files API URIs) `fileData`.
fn media_part(url: &str, default_mime: &str, index: usize) -> Result<Part, Error> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (mime, data) = rest.split_once(";base64,").ok_or_else(|| {
            Error::invalid_param(
                format!("messages[{index}].content"),
                "a data URL must have the form data:<mime type>;base64,<data>",
            )
        })?;
        return Ok(Part {
            inline_data: Some(Blob {
                mime_type: if mime.is_empty() { default_mime } else { mime }.to_owned(),
                data: data.to_owned(),
            }),
            ..Part::default()
        });
    }
    Ok(Part {
        file_data: Some(FileData {
            mime_type: Some(mime_from_url(url).unwrap_or(default_mime).to_owned()),
            file_uri: url.to_owned(),
        }),
        ..Part::default()
    })
}

fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        _ => return None,
    })
}

fn assistant_parts(message: &ChatMessage, index: usize) -> Result<Vec<Part>, Error> {
    let mut parts = Vec::new();
    let text = message.text_content();
    if !text.is_empty() {
        parts.push(Part::text(text));
    }
    for (n, call) in message.tool_calls.iter().flatten().enumerate() {
        let args = if call.function.arguments.trim().is_empty() {
            None
        } else {
            Some(
                serde_json::from_str::<Value>(&call.function.arguments).map_err(|e| {
                    Error::invalid_param(
                        format!("messages[{index}].tool_calls[{n}].function.arguments"),
                        format!("tool-call arguments must be a JSON object: {e}"),
                    )
                })?,
            )
        };
        parts.push(Part {
            thought_signature: ids::signature_of(&call.id),
            function_call: Some(FunctionCall {
                id: None,
                name: call.function.name.clone(),
                args,
            }),
            ..Part::default()
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests;
