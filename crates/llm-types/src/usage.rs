//! Token usage of a call, with cached and reasoning token details.

use serde::{Deserialize, Serialize};

/// Token counts as OpenAI reports them. Details are optional because many hosts omit them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Prompt tokens written to the provider's prompt cache (Anthropic, Bedrock), at the top
    /// level as LiteLLM's `Usage` has them: writes cost more than plain input, so spend
    /// accounting needs them apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Prompt tokens read from the provider's prompt cache (the same count as
    /// `prompt_tokens_details.cached_tokens`), as LiteLLM reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

impl Usage {
    /// Usage from prompt and completion counts, total filled in.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            prompt_tokens_details: None,
            completion_tokens_details: None,
            cache_creation_input_tokens: None,
            cache_read_input_tokens: None,
        }
    }

    /// Usage whose prompt includes cache reads and writes, recorded both as LiteLLM does (the
    /// top-level cache counts) and as OpenAI does (`cached_tokens` = reads). `prompt_tokens`
    /// must already include both; a provider that reports neither gets no cache fields.
    pub fn with_cache(mut self, read: Option<u64>, creation: Option<u64>) -> Self {
        if read.is_none() && creation.is_none() {
            return self;
        }
        let details = self
            .prompt_tokens_details
            .get_or_insert_with(Default::default);
        details.cached_tokens = Some(read.unwrap_or(0));
        self.cache_read_input_tokens = read;
        self.cache_creation_input_tokens = creation;
        self
    }

    /// Prompt tokens served from the provider's prompt cache.
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            // Hosts that relay LiteLLM-shaped usage may report only the top-level count.
            .or(self.cache_read_input_tokens)
            .unwrap_or(0)
    }

    /// Prompt tokens written to the provider's prompt cache.
    pub fn cache_creation_tokens(&self) -> u64 {
        self.cache_creation_input_tokens.unwrap_or(0)
    }

    /// Completion tokens spent on hidden reasoning.
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
    }
}

/// Breakdown of the prompt tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
}

/// Breakdown of the completion tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_prediction_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_prediction_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cache_counts_are_kept_apart_and_as_openai_reports_them() {
        // (read, creation) → (wire JSON of the usage, cached_tokens(), cache_creation_tokens())
        let cases = [
            (
                (None, None),
                json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}),
                (0, 0),
            ),
            (
                (Some(7), Some(3)),
                json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                       "prompt_tokens_details": {"cached_tokens": 7},
                       "cache_read_input_tokens": 7, "cache_creation_input_tokens": 3}),
                (7, 3),
            ),
            (
                (None, Some(4)),
                json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                       "prompt_tokens_details": {"cached_tokens": 0},
                       "cache_creation_input_tokens": 4}),
                (0, 4),
            ),
            (
                (Some(5), None),
                json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                       "prompt_tokens_details": {"cached_tokens": 5},
                       "cache_read_input_tokens": 5}),
                (5, 0),
            ),
        ];
        for ((read, creation), wire, (cached, created)) in cases {
            let usage = Usage::new(10, 2).with_cache(read, creation);
            assert_eq!(
                serde_json::to_value(&usage).unwrap(),
                wire,
                "{read:?} {creation:?}"
            );
            assert_eq!(
                (usage.cached_tokens(), usage.cache_creation_tokens()),
                (cached, created)
            );
            let back: Usage = serde_json::from_value(wire).unwrap();
            assert_eq!(back, usage);
        }
    }

    #[test]
    fn cached_tokens_falls_back_to_the_top_level_count() {
        let usage: Usage = serde_json::from_value(json!({"prompt_tokens": 9,
            "completion_tokens": 1, "total_tokens": 10, "cache_read_input_tokens": 6}))
        .unwrap();
        assert_eq!(usage.cached_tokens(), 6);
    }
}
