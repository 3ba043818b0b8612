//! The OpenAI rendering of embedding vectors every native family shares: floats, or base64 of
//! little-endian f32 when the client asked for `encoding_format: base64`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use llm_types::{Embedding, EmbeddingUsage, EmbeddingVector, EmbeddingsResponse, EncodingFormat};

/// One vector in the encoding the client asked for.
pub fn vector(values: Vec<f32>, format: Option<EncodingFormat>) -> EmbeddingVector {
    match format {
        Some(EncodingFormat::Base64) => {
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            EmbeddingVector::Base64(STANDARD.encode(bytes))
        }
        _ => EmbeddingVector::Float(values),
    }
}

/// Vectors (in input order) and token count as an OpenAI embeddings response.
pub fn render(
    vectors: Vec<Vec<f32>>,
    prompt_tokens: u64,
    format: Option<EncodingFormat>,
    model: &str,
) -> EmbeddingsResponse {
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, values)| Embedding {
            object: "embedding".to_owned(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
            embedding: vector(values, format),
        })
        .collect();
    EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    }
}
