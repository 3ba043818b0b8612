//! Embeddings request and response (`POST /v1/embeddings`).

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// An embeddings request. Unknown fields are forwarded like in chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    pub input: EmbeddingInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::de::is_empty_map")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl EmbeddingsRequest {
    /// A cheap estimate of the input's tokens (four characters a token; token ids count as
    /// themselves), for budget reservations.
    pub fn estimate_input_tokens(&self) -> u64 {
        let tokens = match &self.input {
            EmbeddingInput::Text(text) => text.len().div_ceil(4),
            EmbeddingInput::Texts(texts) => texts.iter().map(|t| t.len().div_ceil(4)).sum(),
            EmbeddingInput::Tokens(ids) => ids.len(),
            EmbeddingInput::TokenBatches(batches) => batches.iter().map(Vec::len).sum(),
        };
        tokens as u64
    }

    /// Checks the rules serde cannot express.
    pub fn validate(&self) -> Result<(), Error> {
        if self.model.is_empty() {
            return Err(Error::invalid_param("model", "`model` must not be empty"));
        }
        if self.input.is_empty() {
            return Err(Error::invalid_param("input", "`input` must not be empty"));
        }
        if self.dimensions == Some(0) {
            return Err(Error::invalid_param(
                "dimensions",
                "`dimensions` must be at least 1",
            ));
        }
        Ok(())
    }
}

/// The texts (or token arrays) to embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a string, an array of strings, an array of token ids or an array of token-id arrays"
)]
pub enum EmbeddingInput {
    Text(String),
    Texts(Vec<String>),
    Tokens(Vec<u32>),
    TokenBatches(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// How many embeddings the input asks for.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(texts) => texts.len(),
            EmbeddingInput::TokenBatches(batches) => batches.len(),
        }
    }

    /// Whether there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        match self {
            EmbeddingInput::Text(_) => false,
            EmbeddingInput::Tokens(tokens) => tokens.is_empty(),
            _ => self.len() == 0,
        }
    }

    /// The inputs as text (token arrays rendered as their ids), for providers that take text.
    pub fn texts(&self) -> Vec<String> {
        match self {
            EmbeddingInput::Text(text) => vec![text.clone()],
            EmbeddingInput::Texts(texts) => texts.clone(),
            EmbeddingInput::Tokens(tokens) => vec![render_tokens(tokens)],
            EmbeddingInput::TokenBatches(batches) => {
                batches.iter().map(|t| render_tokens(t)).collect()
            }
        }
    }
}

fn render_tokens(tokens: &[u32]) -> String {
    tokens
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// How vectors are encoded in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    Float,
    Base64,
}

/// The embeddings response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    #[serde(default = "list_object")]
    pub object: String,
    pub data: Vec<Embedding>,
    pub model: String,
    #[serde(default)]
    pub usage: EmbeddingUsage,
}

pub(crate) fn list_object() -> String {
    "list".to_owned()
}

/// One embedding vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    #[serde(default = "embedding_object")]
    pub object: String,
    pub index: u32,
    pub embedding: EmbeddingVector,
}

fn embedding_object() -> String {
    "embedding".to_owned()
}

/// A vector as floats, or as base64 of little-endian f32 (what the OpenAI SDKs ask for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

/// Tokens an embeddings call consumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}
