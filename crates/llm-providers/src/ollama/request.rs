//! OpenAI request → Ollama's native `POST /api/chat` body.
//!
//! Ollama takes sampling settings under `options` (`num_predict` for the token limit), JSON
//! mode as `format` (`"json"` or a JSON Schema), images as bare base64 strings beside the
//! message text, tool-call arguments as JSON objects (not strings) and tool results tagged with
//! the tool's name instead of a call id. `stream` is always written, as the official SDK does:
//! Ollama's default is to stream.

use llm_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, Error, MessageContent, ResponseFormat, Role,
    Stop, ToolChoice,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

use crate::params::ParamPolicy;

/// The provider name in "not supported by ..." errors.
pub(crate) const PROVIDER: &str = "ollama_chat";

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<OllamaMessage>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<OllamaTool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaMessage {
    pub role: &'static str,
    /// Always present: the API schema requires it, even beside tool calls.
    pub content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<OllamaToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaToolCall {
    pub function: OllamaFunctionCall,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaFunctionCall {
    pub name: String,
    /// A JSON object (OpenAI sends it serialized; Ollama wants it parsed).
    pub arguments: Value,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: OllamaFunction,
}

#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OllamaFunction {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parameters: Value,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub(crate) struct Options {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
}

impl Options {
    fn is_empty(&self) -> bool {
        *self == Options::default()
    }
}

/// Builds the native body; parameters Ollama cannot express are refused or dropped by `policy`.
pub(crate) fn build<'a>(
    model: &'a str,
    request: &ChatCompletionRequest,
    policy: &ParamPolicy,
    stream: bool,
) -> Result<OllamaRequest<'a>, Error> {
    refuse_unsupported(request, policy)?;
    let mut drop_tools = false;
    match &request.tool_choice {
        None => {}
        Some(ToolChoice::Mode(mode)) if mode == "auto" => {}
        // "none": the model must not call tools, and Ollama has no switch: send none.
        Some(ToolChoice::Mode(mode)) if mode == "none" => drop_tools = true,
        Some(_) => policy.unsupported(PROVIDER, "tool_choice")?,
    }
    let tools = if drop_tools {
        None
    } else {
        request
            .tools
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|tool| tool.function.as_ref())
                    .map(|f| OllamaTool {
                        kind: "function",
                        function: OllamaFunction {
                            name: f.name.clone(),
                            description: f.description.clone(),
                            parameters: f.parameters.clone().unwrap_or_else(
                                || serde_json::json!({"type": "object", "properties": {}}),
                            ),
                        },
                    })
                    .collect()
            })
    };
    let options = Options {
        num_predict: request.max_output_tokens(),
        temperature: request.temperature,
        top_p: request.top_p,
        seed: request.seed,
        stop: request.stop.as_ref().map(|stop| match stop {
            Stop::One(one) => vec![one.clone()],
            Stop::Many(many) => many.clone(),
        }),
        frequency_penalty: request.frequency_penalty,
        presence_penalty: request.presence_penalty,
    };
    let format = match &request.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(Value::String("json".into())),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| Value::String("json".into())),
        ),
    };
    // `think` given as Ollama writes it wins; else any reasoning effort but "none" turns it on
    // (a boolean, which every thinking model accepts; levels only some do).
    let think = request.extra.get("think").cloned().or_else(|| {
        request
            .reasoning_effort
            .as_deref()
            .map(|effort| Value::Bool(effort != "none"))
    });
    Ok(OllamaRequest {
        model,
        messages: messages(&request.messages, policy)?,
        stream,
        options: (!options.is_empty()).then_some(options),
        format,
        tools,
        think,
        keep_alive: request.extra.get("keep_alive").cloned(),
    })
}

/// Parameters that change the answer and have no Ollama equivalent. Those that do not change
/// it (`user`, `metadata`, `store`, `service_tier`, `parallel_tool_calls`, `stream_options`)
/// are left out silently, as an OpenAI-compatible server would accept them.
fn refuse_unsupported(request: &ChatCompletionRequest, policy: &ParamPolicy) -> Result<(), Error> {
    let unsupported = [
        ("n", request.n.is_some_and(|n| n > 1)),
        ("logit_bias", request.logit_bias.is_some()),
        ("logprobs", request.logprobs == Some(true)),
        ("top_logprobs", request.top_logprobs.is_some()),
        ("modalities", request.modalities.is_some()),
    ];
    for (param, present) in unsupported {
        if present {
            policy.unsupported(PROVIDER, param)?;
        }
    }
    Ok(())
}

/// OpenAI messages → Ollama's; tool results get the name of the call they answer.
fn messages(input: &[ChatMessage], policy: &ParamPolicy) -> Result<Vec<OllamaMessage>, Error> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::with_capacity(input.len());
    for message in input {
        let role = match message.role {
            Role::System | Role::Developer => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool | Role::Function => "tool",
        };
        let (content, images) = content(message.content.as_ref(), policy)?;
        let mut tool_calls = Vec::new();
        for call in message.tool_calls.iter().flatten() {
            names.insert(&call.id, &call.function.name);
            let arguments = serde_json::from_str(&call.function.arguments)
                .unwrap_or_else(|_| Value::String(call.function.arguments.clone()));
            tool_calls.push(OllamaToolCall {
                function: OllamaFunctionCall {
                    name: call.function.name.clone(),
                    arguments,
                },
            });
        }
        let tool_name = match message.role {
            Role::Tool => message
                .tool_call_id
                .as_deref()
                .and_then(|id| names.get(id))
                .map(|name| (*name).to_owned()),
            Role::Function => message.name.clone(),
            _ => None,
        };
        out.push(OllamaMessage {
            role,
            content,
            images,
            tool_calls,
            tool_name,
        });
    }
    Ok(out)
}

/// The text of a message and its images as bare base64.
fn content(
    content: Option<&MessageContent>,
    policy: &ParamPolicy,
) -> Result<(String, Vec<String>), Error> {
    let parts = match content {
        None => return Ok((String::new(), Vec::new())),
        Some(MessageContent::Text(text)) => return Ok((text.clone(), Vec::new())),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut texts = Vec::new();
    let mut images = Vec::new();
    for part in parts {
        match part {
            ContentPart::Text { text, .. } => texts.push(text.as_str()),
            ContentPart::ImageUrl { image_url, .. } => match base64_payload(&image_url.url) {
                Some(data) => images.push(data.to_owned()),
                None => policy.unsupported(
                    "ollama_chat (it takes images only inline, as base64 `data:` URLs)",
                    "image_url",
                )?,
            },
            ContentPart::Refusal { refusal } => texts.push(refusal.as_str()),
            ContentPart::InputAudio { .. } => policy.unsupported(PROVIDER, "input_audio")?,
            ContentPart::File { .. } => policy.unsupported(PROVIDER, "file")?,
        }
    }
    Ok((texts.join("\n"), images))
}

/// `data:image/png;base64,AAAA` → `AAAA`.
fn base64_payload(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    meta.ends_with(";base64").then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(request: Value, policy: ParamPolicy, expected: Result<Value, &str>) {
        let request: ChatCompletionRequest = serde_json::from_value(request).unwrap();
        let built = build("llama3.2", &request, &policy, false)
            .map(|body| serde_json::to_value(body).unwrap())
            .map_err(|e| e.param.unwrap_or_default());
        assert_eq!(
            built.as_ref().map_err(String::as_str),
            expected.as_ref().map_err(|e| *e)
        );
    }

    #[test]
    fn translates_requests() {
        let strict = ParamPolicy::default;
        let lenient = || ParamPolicy::new(true, &[]);
        let cases = [
            (
                json!({"model": "m", "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
                       "max_completion_tokens": 5, "temperature": 0.5, "top_p": 0.9, "seed": 7, "stop": "END",
                       "response_format": {"type": "json_object"}, "reasoning_effort": "low", "user": "u1"}),
                strict(),
                Ok(
                    json!({"model": "llama3.2", "stream": false, "format": "json", "think": true,
                    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                    "options": {"num_predict": 5, "temperature": 0.5, "top_p": 0.9, "seed": 7, "stop": ["END"]}}),
                ),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "what?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}],
                    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}),
                strict(),
                Ok(
                    json!({"model": "llama3.2", "stream": false, "format": {"type": "object"},
                    "messages": [{"role": "user", "content": "what?", "images": ["AAAA"]}]}),
                ),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
                strict(),
                Err("image_url"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
                lenient(),
                Ok(
                    json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
                ),
            ),
            (
                json!({"model": "m", "messages": [
                    {"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "22C"}],
                    "tools": [{"type": "function", "function": {"name": "get_weather"}}], "tool_choice": "auto"}),
                strict(),
                Ok(json!({"model": "llama3.2", "stream": false,
                    "messages": [
                        {"role": "user", "content": "weather?"},
                        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                        {"role": "tool", "content": "22C", "tool_name": "get_weather"}],
                    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]})),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"}),
                strict(),
                Err("tool_choice"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}),
                strict(),
                Ok(
                    json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
                ),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logit_bias": {"1": 1.0}}),
                strict(),
                Err("logit_bias"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2, "think": false, "keep_alive": "5m"}),
                lenient(),
                Ok(
                    json!({"model": "llama3.2", "stream": false, "think": false, "keep_alive": "5m", "messages": [{"role": "user", "content": "x"}]}),
                ),
            ),
        ];
        for (request, policy, expected) in cases {
            check(request, policy, expected);
        }
    }
}
