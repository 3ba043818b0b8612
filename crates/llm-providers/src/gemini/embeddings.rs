//! Embeddings on Google AI Studio: `:embedContent` for one input, `:batchEmbedContents` for
//! several; `dimensions` → `outputDimensionality`. Also the OpenAI rendering of vectors
//! (floats, or base64 of little-endian f32 when `encoding_format: base64`), which Vertex
//! shares.

use llm_types::{EmbeddingsRequest, EmbeddingsResponse, EncodingFormat, Error};
use serde::{Deserialize, Serialize};

use super::wire::{Content, Part};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentRequest {
    /// `models/{model}`: required inside a batch, accepted alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub content: Content,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BatchEmbedContentsRequest {
    pub requests: Vec<EmbedContentRequest>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContentEmbedding {
    #[serde(default)]
    pub values: Vec<f32>,
}

/// The answer of `:embedContent` (`embedding`) or `:batchEmbedContents` (`embeddings`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedResponse {
    #[serde(default)]
    pub embedding: Option<ContentEmbedding>,
    #[serde(default)]
    pub embeddings: Vec<ContentEmbedding>,
    #[serde(default)]
    pub usage_metadata: Option<EmbedUsage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedUsage {
    #[serde(default)]
    pub prompt_token_count: u64,
}

/// The endpoint method (`embedContent` or `batchEmbedContents`) and its body.
pub fn body(request: &EmbeddingsRequest, model: &str) -> Result<(&'static str, Vec<u8>), Error> {
    let task_type = request
        .extra
        .get("task_type")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    let mut requests: Vec<EmbedContentRequest> = request
        .input
        .texts()
        .into_iter()
        .map(|text| EmbedContentRequest {
            model: Some(format!("models/{model}")),
            content: Content {
                role: None,
                parts: vec![Part::text(text)],
            },
            output_dimensionality: request.dimensions,
            task_type: task_type.clone(),
        })
        .collect();
    let encoded = if requests.len() == 1
        && let Some(mut single) = requests.pop()
    {
        single.model = None;
        ("embedContent", serde_json::to_vec(&single))
    } else {
        (
            "batchEmbedContents",
            serde_json::to_vec(&BatchEmbedContentsRequest { requests }),
        )
    };
    let bytes = encoded
        .1
        .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))?;
    Ok((encoded.0, bytes))
}

pub use crate::embedding::render;

/// Google's answer as OpenAI's; Gemini counts no tokens for embeddings unless it says so.
pub fn translate(
    response: EmbedResponse,
    format: Option<EncodingFormat>,
    model: &str,
) -> EmbeddingsResponse {
    let vectors: Vec<Vec<f32>> = match response.embedding {
        Some(one) => vec![one.values],
        None => response.embeddings.into_iter().map(|e| e.values).collect(),
    };
    let tokens = response
        .usage_metadata
        .map_or(0, |usage| usage.prompt_token_count);
    render(vectors, tokens, format, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use llm_types::EmbeddingInput;
    use llm_types::EmbeddingVector;
    use serde_json::{Value, json};

    fn request(input: EmbeddingInput, dimensions: Option<u32>) -> EmbeddingsRequest {
        EmbeddingsRequest {
            model: "gemini/text-embedding-004".into(),
            input,
            encoding_format: None,
            dimensions,
            user: None,
            extra: serde_json::Map::new(),
        }
    }

    #[test]
    fn builds_single_and_batch_bodies() {
        let cases = [
            (
                request(EmbeddingInput::Text("hi".into()), Some(8)),
                "embedContent",
                json!({"content": {"parts": [{"text": "hi"}]}, "outputDimensionality": 8}),
            ),
            (
                request(EmbeddingInput::Texts(vec!["a".into(), "b".into()]), None),
                "batchEmbedContents",
                json!({"requests": [
                    {"model": "models/m", "content": {"parts": [{"text": "a"}]}},
                    {"model": "models/m", "content": {"parts": [{"text": "b"}]}}
                ]}),
            ),
        ];
        for (request, method, expected) in cases {
            let (got_method, bytes) = body(&request, "m").unwrap();
            let got: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!((got_method, got), (method, expected));
        }
    }

    #[test]
    fn renders_floats_and_base64() {
        let one = EmbedResponse {
            embedding: Some(ContentEmbedding {
                values: vec![1.0, -0.5],
            }),
            ..EmbedResponse::default()
        };
        let floats = translate(one, None, "m");
        assert_eq!(
            floats.data[0].embedding,
            EmbeddingVector::Float(vec![1.0, -0.5])
        );
        let batch = EmbedResponse {
            embeddings: vec![ContentEmbedding { values: vec![1.0] }; 2],
            ..EmbedResponse::default()
        };
        let base64 = translate(batch, Some(EncodingFormat::Base64), "m");
        assert_eq!(base64.data.len(), 2);
        assert_eq!(
            base64.data[1].embedding,
            EmbeddingVector::Base64(STANDARD.encode(1.0f32.to_le_bytes()))
        );
    }
}
