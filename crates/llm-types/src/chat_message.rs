//! Chat messages and their content parts (text, image, audio, file, refusal).

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::tools::{FunctionCall, ToolCall};

/// Who wrote a message. `developer` is OpenAI's newer name for `system` on reasoning models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    /// Legacy function-calling result message.
    Function,
}

impl Role {
    /// The role as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Function => "function",
        }
    }
}

/// One message of a chat-completions request.
///
/// One flat struct for every role (rather than an enum per role) keeps deserialization a single
/// pass with precise error paths (`messages[2].content`); role-specific rules are checked in
/// [`crate::ChatCompletionRequest::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// Fields we do not model (e.g. `cache_control`, `audio`), forwarded as they came.
    #[serde(flatten, skip_serializing_if = "crate::de::is_empty_map")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ChatMessage {
    /// A message with plain text content.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: Some(MessageContent::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            refusal: None,
            function_call: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The text of this message: the string content, or its text parts joined by a space.
    pub fn text_content(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(content) => content.joined_text(),
        }
    }
}

/// Message content: a plain string or a list of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The length in bytes of [`MessageContent::joined_text`], without building it.
    pub fn text_len(&self) -> usize {
        match self {
            MessageContent::Text(text) => text.len(),
            MessageContent::Parts(parts) => {
                let texts = parts.iter().filter_map(|part| match part {
                    ContentPart::Text { text, .. } => Some(text.len()),
                    _ => None,
                });
                let (count, bytes) =
                    texts.fold((0usize, 0usize), |(n, sum), len| (n + 1, sum + len));
                bytes + count.saturating_sub(1)
            }
        }
    }

    /// Text parts joined by a space (non-text parts contribute nothing).
    pub fn joined_text(&self) -> String {
        match self {
            MessageContent::Text(text) => text.clone(),
            MessageContent::Parts(parts) => parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

// Hand-written rather than `#[serde(untagged)]`: untagged buffers the whole (possibly
// multi-megabyte, base64 image) value before trying each variant and reports only "did not
// match any variant"; a visitor deserializes in place and keeps the error path precise.
impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = MessageContent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                Ok(MessageContent::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// A typed content part.
///
/// Text, image and file parts may carry a prompt-caching breakpoint (`cache_control`, as
/// LiteLLM accepts it); it is skipped when absent so OpenAI-compatible upstreams get exactly
/// what the client sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ImageUrl {
        image_url: ImageUrl,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    InputAudio {
        input_audio: InputAudio,
    },
    File {
        file: FileRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Refusal {
        refusal: String,
    },
}

impl ContentPart {
    /// A text part without a cache breakpoint.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// The part's prompt-caching breakpoint, if it has one.
    pub fn cache_control(&self) -> Option<&CacheControl> {
        match self {
            ContentPart::Text { cache_control, .. }
            | ContentPart::ImageUrl { cache_control, .. }
            | ContentPart::File { cache_control, .. } => cache_control.as_ref(),
            ContentPart::InputAudio { .. } | ContentPart::Refusal { .. } => None,
        }
    }
}

/// A prompt-caching breakpoint (`{"type": "ephemeral", "ttl": "5m" | "1h"}`): Anthropic's
/// marker, which LiteLLM accepts on messages, content parts and tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheControl {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// An image by URL or `data:` URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Base64 audio input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    pub data: String,
    pub format: String,
}

/// A file given inline (`file_data`) or by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_len_is_the_joined_text_length() {
        let cases = [
            json!("hello"),
            json!(""),
            json!([]),
            json!([{"type": "text", "text": "ab"}]),
            json!([{"type": "text", "text": "ab"}, {"type": "text", "text": "cde"}]),
            json!([{"type": "text", "text": "ab"},
                   {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                   {"type": "text", "text": "é"}]),
        ];
        for case in cases {
            let content: MessageContent = serde_json::from_value(case.clone()).unwrap();
            assert_eq!(content.text_len(), content.joined_text().len(), "{case}");
        }
    }

    #[test]
    fn parts_keep_cache_control_and_round_trip_exactly() {
        let ephemeral = Some(CacheControl {
            kind: "ephemeral".into(),
            ttl: None,
        });
        let cases = [
            (json!({"type": "text", "text": "hi"}), None),
            (
                json!({"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}),
                ephemeral.clone(),
            ),
            (
                json!({"type": "image_url", "image_url": {"url": "https://x/y.png"},
                       "cache_control": {"type": "ephemeral", "ttl": "1h"}}),
                Some(CacheControl {
                    kind: "ephemeral".into(),
                    ttl: Some("1h".into()),
                }),
            ),
            (
                json!({"type": "file", "file": {"file_id": "f1"}, "cache_control": {"type": "ephemeral"}}),
                ephemeral,
            ),
            (
                json!({"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}),
                None,
            ),
        ];
        for (wire, cache_control) in cases {
            let part: ContentPart = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(part.cache_control(), cache_control.as_ref(), "{wire}");
            assert_eq!(serde_json::to_value(&part).unwrap(), wire);
        }
    }
}
