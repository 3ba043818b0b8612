//! The non-streamed chat-completions response.

use serde::{Deserialize, Deserializer, Serialize};

use crate::chat_message::Role;
use crate::tools::{FunctionCall, ToolCall};
use crate::usage::Usage;

/// `chat.completion`: what a non-streamed call returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionResponse {
    pub id: String,
    /// Always `chat.completion` on output, whatever an upstream wrote.
    #[serde(default = "completion_object")]
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
}

fn completion_object() -> String {
    "chat.completion".to_owned()
}

/// One choice of a response. `logprobs` is always written (`null` when absent): the spec
/// requires the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    pub message: ResponseMessage,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
}

/// The assistant message of a choice. `refusal` is always written (`null` when absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    #[serde(default = "assistant_role")]
    pub role: Role,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// Reasoning text of thinking models (DeepSeek, Anthropic thinking, ...), as LiteLLM names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// URL citations of search-enabled models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Annotation>>,
    /// The thinking blocks behind `reasoning_content`, with their signatures, as LiteLLM
    /// surfaces them: a client hands them back on the next assistant turn (Anthropic needs
    /// them, signed, when thinking and tools are combined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_blocks: Option<Vec<ThinkingBlock>>,
}

/// One thinking block of an Anthropic-style reasoning model, in LiteLLM's shape:
/// `{"type": "thinking", "thinking": "...", "signature": "..."}` or
/// `{"type": "redacted_thinking", "data": "..."}`. In streams, pieces of one block arrive in
/// several deltas (the text first, the signature last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    /// `thinking` or `redacted_thinking`; a string rather than an enum so blocks relayed from
    /// an upstream that invents a new kind still parse.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The encrypted content of a `redacted_thinking` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl ThinkingBlock {
    /// The `type` of a readable thinking block.
    pub const THINKING: &'static str = "thinking";
    /// The `type` of an encrypted thinking block.
    pub const REDACTED: &'static str = "redacted_thinking";

    /// A readable thinking block (or a stream piece of one).
    pub fn thinking(thinking: Option<String>, signature: Option<String>) -> Self {
        ThinkingBlock {
            kind: Self::THINKING.to_owned(),
            thinking,
            signature,
            data: None,
        }
    }

    /// An encrypted thinking block.
    pub fn redacted(data: String) -> Self {
        ThinkingBlock {
            kind: Self::REDACTED.to_owned(),
            thinking: None,
            signature: None,
            data: Some(data),
        }
    }
}

/// A citation attached to the message text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_citation: Option<UrlCitation>,
}

/// A web page cited by a span of the message text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlCitation {
    pub start_index: u32,
    pub end_index: u32,
    pub url: String,
    pub title: String,
}

pub(crate) fn assistant_role() -> Role {
    Role::Assistant
}

/// Why generation stopped. Upstreams that invent other reasons are mapped onto these, since
/// OpenAI clients accept only these five.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    FunctionCall,
}

impl FinishReason {
    /// The OpenAI wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
        }
    }

    /// Maps any finish reason string onto the OpenAI set; unknown ones mean a natural stop.
    pub fn from_wire(reason: &str) -> FinishReason {
        match reason {
            "length" | "max_tokens" => FinishReason::Length,
            "tool_calls" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" | "safety" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            _ => FinishReason::Stop,
        }
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let reason = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(FinishReason::from_wire(&reason))
    }
}

/// Log probabilities of the generated tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logprobs {
    #[serde(default)]
    pub content: Option<Vec<TokenLogprob>>,
    #[serde(default)]
    pub refusal: Option<Vec<TokenLogprob>>,
}

/// The log probability of one token and its most likely alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
    #[serde(default)]
    pub top_logprobs: Vec<TopLogprob>,
}

/// An alternative token and its log probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLogprob {
    pub token: String,
    pub logprob: f64,
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
}
