//! The chat-completions request (`POST /v1/chat/completions`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::chat_message::{ChatMessage, Role};
use crate::error::Error;
use crate::tools::{Tool, ToolChoice};

/// Everything the OpenAI chat-completions API accepts. Fields we do not model are kept in
/// [`extra`](Self::extra) and forwarded to OpenAI-compatible upstreams unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// LiteLLM's per-request switch: drop parameters the provider does not support instead of
    /// refusing. Read by the gateway, never forwarded.
    #[serde(default, skip_serializing)]
    pub drop_params: Option<bool>,
    /// LiteLLM's per-request list of parameters to drop. Never forwarded.
    #[serde(default, skip_serializing)]
    pub additional_drop_params: Option<Vec<String>>,
    /// LiteLLM's per-request retry count (router). Never forwarded.
    #[serde(default, skip_serializing)]
    pub num_retries: Option<u32>,
    /// LiteLLM's per-request fallback model groups, tried in order (router). Never forwarded.
    #[serde(default, skip_serializing)]
    pub fallbacks: Option<Vec<String>>,
    /// LiteLLM's per-request timeout in seconds, for all attempts together. Never forwarded.
    #[serde(default, skip_serializing)]
    pub timeout: Option<f64>,
    /// Request fields this crate does not model, forwarded as they came.
    #[serde(flatten, skip_serializing_if = "crate::de::is_empty_map")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a string or an array of strings")]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    #[serde(flatten, skip_serializing_if = "crate::de::is_empty_map")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `response_format`: plain text, any JSON object, or JSON matching a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

/// The schema of a `json_schema` response format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl ChatCompletionRequest {
    /// A minimal request: one model, some messages.
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        ChatCompletionRequest {
            model: model.into(),
            messages,
            frequency_penalty: None,
            presence_penalty: None,
            logit_bias: None,
            logprobs: None,
            top_logprobs: None,
            max_tokens: None,
            max_completion_tokens: None,
            n: None,
            modalities: None,
            reasoning_effort: None,
            response_format: None,
            seed: None,
            service_tier: None,
            stop: None,
            store: None,
            stream: None,
            stream_options: None,
            temperature: None,
            top_p: None,
            tools: None,
            tool_choice: None,
            parallel_tool_calls: None,
            user: None,
            metadata: None,
            drop_params: None,
            additional_drop_params: None,
            num_retries: None,
            fallbacks: None,
            timeout: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Whether the client asked for a streamed answer.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the client asked to see the usage chunk at the end of a stream.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// The output-token cap the client set (`max_completion_tokens` wins over `max_tokens`).
    pub fn max_output_tokens(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// A cheap estimate of the prompt's tokens (about four characters a token, plus a little
    /// per message), for context-window checks before a call.
    pub fn estimate_prompt_tokens(&self) -> u64 {
        let chars: usize = self
            .messages
            .iter()
            .map(|m| m.content.as_ref().map_or(0, |c| c.text_len()) + 16)
            .sum();
        (chars / 4) as u64
    }

    /// Checks the rules serde cannot express, naming the offending field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.model.is_empty() {
            return Err(Error::invalid_param("model", "`model` must not be empty"));
        }
        if self.messages.is_empty() {
            return Err(Error::invalid_param(
                "messages",
                "`messages` must contain at least one message",
            ));
        }
        for (index, message) in self.messages.iter().enumerate() {
            validate_message(index, message)?;
        }
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        if let Some(n) = self.n
            && !(1..=128).contains(&n)
        {
            return Err(Error::invalid_param("n", "`n` must be between 1 and 128"));
        }
        if let Some(top) = self.top_logprobs
            && top > 20
        {
            return Err(Error::invalid_param(
                "top_logprobs",
                "`top_logprobs` must be between 0 and 20",
            ));
        }
        if let Some(timeout) = self.timeout
            && !(timeout.is_finite() && timeout > 0.0)
        {
            return Err(Error::invalid_param(
                "timeout",
                "`timeout` must be a positive number of seconds",
            ));
        }
        if self.stream_options.is_some() && !self.is_stream() {
            return Err(Error::invalid_param(
                "stream_options",
                "`stream_options` is only allowed when `stream` is true",
            ));
        }
        for (index, tool) in self.tools.iter().flatten().enumerate() {
            if tool.kind == "function" && tool.function.is_none() {
                return Err(Error::invalid_param(
                    format!("tools[{index}].function"),
                    "a tool of type `function` needs a `function` object",
                ));
            }
        }
        if let Some(ToolChoice::Mode(mode)) = &self.tool_choice
            && !matches!(mode.as_str(), "none" | "auto" | "required")
        {
            return Err(Error::invalid_param(
                "tool_choice",
                format!("`tool_choice` must be none, auto or required, got `{mode}`"),
            ));
        }
        Ok(())
    }
}

fn validate_message(index: usize, message: &ChatMessage) -> Result<(), Error> {
    let needs_content = matches!(
        message.role,
        Role::System | Role::Developer | Role::User | Role::Tool
    );
    if needs_content && message.content.is_none() {
        return Err(Error::invalid_param(
            format!("messages[{index}].content"),
            format!(
                "a `{}` message needs `content` (messages[{index}])",
                message.role.as_str()
            ),
        ));
    }
    if message.role == Role::Tool && message.tool_call_id.is_none() {
        return Err(Error::invalid_param(
            format!("messages[{index}].tool_call_id"),
            format!("a `tool` message needs `tool_call_id` (messages[{index}])"),
        ));
    }
    if message.role == Role::Assistant
        && message.content.is_none()
        && message.tool_calls.is_none()
        && message.function_call.is_none()
    {
        return Err(Error::invalid_param(
            format!("messages[{index}].content"),
            format!("an `assistant` message needs `content` or `tool_calls` (messages[{index}])"),
        ));
    }
    Ok(())
}

fn check_range(name: &str, value: Option<f64>, min: f64, max: f64) -> Result<(), Error> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(Error::invalid_param(
            name,
            format!("`{name}` must be between {min} and {max}, got {v}"),
        )),
        _ => Ok(()),
    }
}
