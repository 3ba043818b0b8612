//! Reading message contents: plain strings or arrays of typed parts.

use serde_json::Value;

/// The text of a message's `content`: the string itself, or its text parts joined by a space.
pub(crate) fn text_of(message: &Value) -> String {
    match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// How many content parts of type `kind` (`image_url`, `input_audio`) all messages carry.
pub(crate) fn count_parts(messages: &[Value], kind: &str) -> usize {
    messages
        .iter()
        .filter_map(|m| m.get("content").and_then(Value::as_array))
        .flatten()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some(kind))
        .count()
}

/// The mock's stand-in for a tokenizer: whitespace-separated words.
pub(crate) fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Prompt tokens: words over every message's text, at least 1 as a real prompt always is.
pub(crate) fn prompt_tokens(messages: &[Value]) -> u64 {
    messages
        .iter()
        .map(|m| words(&text_of(m)))
        .sum::<u64>()
        .max(1)
}

/// The first `max` words of `text`, or `None` when it already has no more than that.
pub(crate) fn truncate_words(text: &str, max: u64) -> Option<String> {
    if words(text) <= max {
        return None;
    }
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    Some(
        text.split_whitespace()
            .take(max)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_strings_and_text_parts() {
        let cases = [
            (json!({"role": "user", "content": "hi there"}), "hi there"),
            (
                json!({"role": "user", "content": [
                    {"type": "text", "text": "what is"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "text", "text": "this?"}
                ]}),
                "what is this?",
            ),
            (json!({"role": "assistant", "content": null}), ""),
        ];
        for (message, expected) in cases {
            assert_eq!(text_of(&message), expected, "message {message}");
        }
    }

    #[test]
    fn counts_parts_and_words() {
        let messages = [
            json!({"role": "user", "content": [{"type": "image_url"}, {"type": "input_audio"}]}),
            json!({"role": "user", "content": [{"type": "image_url"}, {"type": "text", "text": "a b"}]}),
        ];
        assert_eq!(count_parts(&messages, "image_url"), 2);
        assert_eq!(count_parts(&messages, "input_audio"), 1);
        assert_eq!(prompt_tokens(&messages), 2);
        assert_eq!(prompt_tokens(&[]), 1);
    }

    #[test]
    fn truncates_to_whole_words() {
        assert_eq!(
            truncate_words("echo: one two", 2).as_deref(),
            Some("echo: one")
        );
        assert_eq!(truncate_words("echo: one", 2), None);
        assert_eq!(truncate_words("echo: one", 0).as_deref(), Some(""));
    }
}
