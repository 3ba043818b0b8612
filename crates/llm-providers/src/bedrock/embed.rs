//! Embeddings through InvokeModel (`POST /model/{id}/invoke`): Amazon Titan (one call per
//! input, `{"inputText", "dimensions"}`) and Cohere Embed (one call, `{"texts", "input_type"}`).

use llm_types::{Embedding, EmbeddingUsage, EmbeddingsResponse, EncodingFormat, Error};
use serde::{Deserialize, Serialize};

/// Which body an embedding model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedModel {
    /// `amazon.titan-embed-text-v1` (no dimensions) and `-v2` (dimensions allowed).
    Titan {
        dimensions: bool,
    },
    Cohere,
}

impl EmbedModel {
    /// The family of a Bedrock model id (inference-profile prefixes like `us.` allowed).
    pub fn of(model_id: &str) -> Option<EmbedModel> {
        if model_id.contains("amazon.titan-embed") {
            Some(EmbedModel::Titan {
                dimensions: !model_id.contains("titan-embed-text-v1")
                    && !model_id.contains("titan-embed-image-v1"),
            })
        } else if model_id.contains("cohere.embed") {
            Some(EmbedModel::Cohere)
        } else {
            None
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanRequest<'a> {
    pub input_text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanResponse {
    pub embedding: Vec<f32>,
    #[serde(default)]
    pub input_text_token_count: u64,
}

#[derive(Debug, Serialize)]
pub struct CohereRequest<'a> {
    pub texts: &'a [String],
    pub input_type: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct CohereResponse {
    pub embeddings: Vec<Vec<f32>>,
}

pub use crate::embedding::vector;

/// The OpenAI response for vectors in input order.
pub fn response(
    vectors: Vec<Vec<f32>>,
    prompt_tokens: u64,
    model: &str,
    format: Option<EncodingFormat>,
) -> Result<EmbeddingsResponse, Error> {
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(i, values)| {
            Ok(Embedding {
                object: "embedding".to_owned(),
                index: u32::try_from(i)
                    .map_err(|_| Error::invalid_request("too many embedding inputs"))?,
                embedding: vector(values, format),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::EmbeddingVector;

    #[test]
    fn picks_the_body_by_model() {
        let cases = [
            (
                "amazon.titan-embed-text-v1",
                Some(EmbedModel::Titan { dimensions: false }),
            ),
            (
                "amazon.titan-embed-text-v2:0",
                Some(EmbedModel::Titan { dimensions: true }),
            ),
            ("cohere.embed-english-v3", Some(EmbedModel::Cohere)),
            ("us.cohere.embed-multilingual-v3", Some(EmbedModel::Cohere)),
            ("anthropic.claude-3-haiku-20240307-v1:0", None),
        ];
        for (model, expected) in cases {
            assert_eq!(EmbedModel::of(model), expected, "{model}");
        }
    }

    #[test]
    fn encodes_vectors() {
        assert_eq!(vector(vec![1.0], None), EmbeddingVector::Float(vec![1.0]));
        assert_eq!(
            vector(vec![1.0], Some(EncodingFormat::Base64)),
            EmbeddingVector::Base64("AACAPw==".into())
        );
    }
}
