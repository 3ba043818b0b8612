//! OpenAI request → Cohere's `POST /v2/chat` body.
//!
//! Cohere v2 is close to OpenAI's shape (roles, function tools, `tool_call_id`), with its own
//! names for sampling (`p`, `k`, `stop_sequences`), JSON mode as `response_format:
//! {"type": "json_object", "json_schema": ...}`, `tool_choice` only as `REQUIRED` / `NONE`
//! (a named choice becomes `REQUIRED` over that one tool), the assistant's text beside tool
//! calls as `tool_plan`, and reasoning as `thinking`. `stream` is always written, as the
//! official SDK does.

use llm_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, Error, MessageContent, ResponseFormat, Role,
    Stop, ToolChoice,
};
use serde::Serialize;
use serde_json::Value;

use crate::params::ParamPolicy;

/// The provider name in "not supported by ..." errors.
pub(crate) const PROVIDER: &str = "cohere";

#[derive(Debug, Serialize)]
pub(crate) struct CohereRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<CohereMessage>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<CohereTool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<CohereResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereMessage {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<CohereToolCall>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part {
    Text { text: String },
    ImageUrl { image_url: CohereImageUrl },
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereImageUrl {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: CohereFunctionCall,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereFunctionCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: CohereFunction,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereFunction {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CohereResponseFormat {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Thinking {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Builds the native body; parameters Cohere cannot express are refused or dropped by `policy`.
pub(crate) fn build<'a>(
    model: &'a str,
    request: &ChatCompletionRequest,
    policy: &ParamPolicy,
    stream: bool,
) -> Result<CohereRequest<'a>, Error> {
    // Parameters that change the answer and have no Cohere equivalent. Those that do not change
    // it (`user`, `metadata`, `store`, `service_tier`, `parallel_tool_calls`) are left out.
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
    let mut only_tool: Option<&str> = None;
    let tool_choice = match &request.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "required" => Some("REQUIRED"),
            "none" => Some("NONE"),
            _ => None,
        },
        Some(ToolChoice::Named(named)) => {
            only_tool = Some(named.function.name.as_str());
            Some("REQUIRED")
        }
    };
    let tools = request
        .tools
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|tools| {
            tools
                .iter()
                .filter_map(|tool| tool.function.as_ref())
                .filter(|f| only_tool.is_none_or(|name| f.name == name))
                .map(|f| CohereTool {
                    kind: "function",
                    function: CohereFunction {
                        name: f.name.clone(),
                        description: f.description.clone(),
                        parameters: f.parameters.clone(),
                    },
                })
                .collect()
        });
    let response_format = match &request.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(CohereResponseFormat {
            kind: "json_object",
            json_schema: None,
        }),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(CohereResponseFormat {
            kind: "json_object",
            json_schema: json_schema.schema.clone(),
        }),
    };
    let thinking = request.reasoning_effort.as_deref().map(|effort| Thinking {
        kind: if effort == "none" {
            "disabled"
        } else {
            "enabled"
        },
    });
    Ok(CohereRequest {
        model,
        messages: request
            .messages
            .iter()
            .map(|m| message(m, policy))
            .collect::<Result<_, _>>()?,
        stream,
        tools,
        tool_choice,
        response_format,
        max_tokens: request.max_output_tokens(),
        temperature: request.temperature,
        p: request.top_p,
        k: request.extra.get("top_k").cloned(),
        seed: request.seed,
        stop_sequences: request.stop.as_ref().map(|stop| match stop {
            Stop::One(one) => vec![one.clone()],
            Stop::Many(many) => many.clone(),
        }),
        frequency_penalty: request.frequency_penalty,
        presence_penalty: request.presence_penalty,
        thinking,
    })
}

fn message(message: &ChatMessage, policy: &ParamPolicy) -> Result<CohereMessage, Error> {
    let role = match message.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool | Role::Function => "tool",
    };
    let tool_calls: Option<Vec<CohereToolCall>> = message.tool_calls.as_ref().map(|calls| {
        calls
            .iter()
            .map(|call| CohereToolCall {
                id: call.id.clone(),
                kind: "function",
                function: CohereFunctionCall {
                    name: call.function.name.clone(),
                    arguments: call.function.arguments.clone(),
                },
            })
            .collect()
    });
    let mut content = content(message.content.as_ref(), policy)?;
    // Beside tool calls, Cohere calls the assistant's text its tool plan.
    let tool_plan = if tool_calls.is_some() {
        match content.take() {
            Some(Content::Text(text)) if !text.is_empty() => Some(text),
            _ => None,
        }
    } else {
        None
    };
    Ok(CohereMessage {
        role,
        content,
        tool_calls,
        tool_plan,
        tool_call_id: message.tool_call_id.clone(),
    })
}

fn content(
    content: Option<&MessageContent>,
    policy: &ParamPolicy,
) -> Result<Option<Content>, Error> {
    let parts = match content {
        None => return Ok(None),
        Some(MessageContent::Text(text)) => return Ok(Some(Content::Text(text.clone()))),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Text { text, .. } => out.push(Part::Text { text: text.clone() }),
            ContentPart::Refusal { refusal } => out.push(Part::Text {
                text: refusal.clone(),
            }),
            ContentPart::ImageUrl { image_url, .. } => out.push(Part::ImageUrl {
                image_url: CohereImageUrl {
                    url: image_url.url.clone(),
                    detail: image_url.detail.clone(),
                },
            }),
            ContentPart::InputAudio { .. } => policy.unsupported(PROVIDER, "input_audio")?,
            ContentPart::File { .. } => policy.unsupported(PROVIDER, "file")?,
        }
    }
    // Text-only part lists collapse to a string, which every Cohere model (not only the
    // vision ones) accepts.
    if out.iter().all(|p| matches!(p, Part::Text { .. })) {
        let text: Vec<String> = out
            .into_iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text),
                Part::ImageUrl { .. } => None,
            })
            .collect();
        return Ok(Some(Content::Text(text.join("\n"))));
    }
    Ok(Some(Content::Parts(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(request: Value, expected: Result<Value, &str>) {
        let request: ChatCompletionRequest = serde_json::from_value(request).unwrap();
        let built = build(
            "command-a-03-2025",
            &request,
            &ParamPolicy::default(),
            false,
        )
        .map(|body| serde_json::to_value(body).unwrap())
        .map_err(|e| e.param.unwrap_or_default());
        assert_eq!(
            built.as_ref().map_err(String::as_str),
            expected.as_ref().map_err(|e| *e)
        );
    }

    #[test]
    fn translates_requests() {
        let weather = json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}});
        let time = json!({"type": "function", "function": {"name": "get_time"}});
        let cases = [
            (
                json!({"model": "m", "messages": [{"role": "developer", "content": "terse"}, {"role": "user", "content": "hi"}],
                       "max_completion_tokens": 5, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": 7, "stop": "END",
                       "frequency_penalty": 0.1, "presence_penalty": 0.2, "reasoning_effort": "high",
                       "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}),
                Ok(json!({"model": "command-a-03-2025", "stream": false,
                    "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "hi"}],
                    "max_tokens": 5, "temperature": 0.5, "p": 0.9, "k": 40, "seed": 7, "stop_sequences": ["END"],
                    "frequency_penalty": 0.1, "presence_penalty": 0.2, "thinking": {"type": "enabled"},
                    "response_format": {"type": "json_object", "json_schema": {"type": "object"}}})),
            ),
            (
                json!({"model": "m", "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
                    {"role": "assistant", "content": "let me look", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "22C"}]}],
                    "tools": [weather, time], "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                    "response_format": {"type": "json_object"}}),
                Ok(json!({"model": "command-a-03-2025", "stream": false,
                    "messages": [
                        {"role": "user", "content": [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
                        {"role": "assistant", "tool_plan": "let me look", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
                        {"role": "tool", "tool_call_id": "c1", "content": "22C"}],
                    "tools": [weather], "tool_choice": "REQUIRED", "response_format": {"type": "json_object"}})),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [time], "tool_choice": "none"}),
                Ok(
                    json!({"model": "command-a-03-2025", "stream": false, "messages": [{"role": "user", "content": "x"}],
                    "tools": [time], "tool_choice": "NONE"}),
                ),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logit_bias": {"1": 1.0}}),
                Err("logit_bias"),
            ),
            (
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 3}),
                Err("n"),
            ),
        ];
        for (request, expected) in cases {
            check(request, expected);
        }
    }
}
