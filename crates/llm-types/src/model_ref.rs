//! `provider/model` strings, as LiteLLM users write them (`groq/llama-3.1-8b-instant`).

use crate::error::Error;

/// A parsed `provider/model` reference. The model part may contain more slashes
/// (`openrouter/anthropic/claude-3.5-sonnet`): only the first one separates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRef<'a> {
    pub provider: &'a str,
    pub model: &'a str,
}

impl<'a> ModelRef<'a> {
    /// Splits `provider/model`; both parts must be non-empty.
    pub fn parse(s: &'a str) -> Result<Self, Error> {
        match s.split_once('/') {
            Some((provider, model)) if !provider.is_empty() && !model.is_empty() => {
                Ok(ModelRef { provider, model })
            }
            _ => Err(Error::invalid_param(
                "model",
                format!("`{s}` is not of the form `provider/model` (e.g. `openai/gpt-4o-mini`)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_provider_and_model() {
        let cases = [
            ("openai/gpt-4o", Some(("openai", "gpt-4o"))),
            (
                "groq/llama-3.1-8b-instant",
                Some(("groq", "llama-3.1-8b-instant")),
            ),
            (
                "openrouter/anthropic/claude-3.5-sonnet",
                Some(("openrouter", "anthropic/claude-3.5-sonnet")),
            ),
            ("gpt-4o", None),
            ("/gpt-4o", None),
            ("openai/", None),
            ("", None),
        ];
        for (input, expected) in cases {
            let got = ModelRef::parse(input).ok().map(|r| (r.provider, r.model));
            assert_eq!(got, expected, "input {input:?}");
        }
    }
}
