//! Vertex AI text embeddings: `:predict` with one instance per input
//! (`text-embedding-*`, `gemini-embedding-*`), `dimensions` → `outputDimensionality`.

use llm_types::{EmbeddingsRequest, EmbeddingsResponse, Error};
use serde::{Deserialize, Serialize};

use crate::gemini::embeddings::render;

#[derive(Debug, Serialize)]
pub struct PredictRequest {
    pub instances: Vec<Instance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
}

#[derive(Debug, Serialize)]
pub struct Instance {
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameters {
    pub output_dimensionality: u32,
}

#[derive(Debug, Default, Deserialize)]
pub struct PredictResponse {
    #[serde(default)]
    pub predictions: Vec<Prediction>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Prediction {
    #[serde(default)]
    pub embeddings: PredictionEmbedding,
}

#[derive(Debug, Default, Deserialize)]
pub struct PredictionEmbedding {
    #[serde(default)]
    pub values: Vec<f32>,
    #[serde(default)]
    pub statistics: Option<Statistics>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Statistics {
    #[serde(default)]
    pub token_count: f64,
}

pub fn body(request: &EmbeddingsRequest) -> Result<Vec<u8>, Error> {
    let task_type = request
        .extra
        .get("task_type")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    let predict = PredictRequest {
        instances: request
            .input
            .texts()
            .into_iter()
            .map(|content| Instance {
                content,
                task_type: task_type.clone(),
            })
            .collect(),
        parameters: request.dimensions.map(|d| Parameters {
            output_dimensionality: d,
        }),
    };
    serde_json::to_vec(&predict)
        .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))
}

/// Predictions as OpenAI embeddings; tokens are the sum of each prediction's `token_count`.
pub fn translate(
    response: PredictResponse,
    request: &EmbeddingsRequest,
    model: &str,
) -> EmbeddingsResponse {
    let mut tokens = 0.0;
    let vectors = response
        .predictions
        .into_iter()
        .map(|p| {
            tokens += p.embeddings.statistics.map_or(0.0, |s| s.token_count);
            p.embeddings.values
        })
        .collect();
    // Token counts are whole numbers sent as floats (`2.0`); the cast loses nothing real.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tokens = tokens.max(0.0) as u64;
    render(vectors, tokens, request.encoding_format, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::{EmbeddingInput, EmbeddingVector};
    use serde_json::json;

    #[test]
    fn predict_round_trip() {
        let request = EmbeddingsRequest {
            model: "vertex_ai/text-embedding-005".into(),
            input: EmbeddingInput::Texts(vec!["a b".into(), "c".into()]),
            encoding_format: None,
            dimensions: Some(4),
            user: None,
            extra: serde_json::Map::new(),
        };
        let sent: serde_json::Value = serde_json::from_slice(&body(&request).unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"instances": [{"content": "a b"}, {"content": "c"}],
                   "parameters": {"outputDimensionality": 4}})
        );
        let answer: PredictResponse = serde_json::from_value(json!({"predictions": [
            {"embeddings": {"values": [0.5], "statistics": {"token_count": 2.0, "truncated": false}}},
            {"embeddings": {"values": [0.25], "statistics": {"token_count": 1}}}
        ], "metadata": {"billableCharacterCount": 3}}))
        .unwrap();
        let out = translate(answer, &request, "text-embedding-005");
        assert_eq!(out.usage.prompt_tokens, 3);
        assert_eq!(out.data[1].embedding, EmbeddingVector::Float(vec![0.25]));
    }
}
