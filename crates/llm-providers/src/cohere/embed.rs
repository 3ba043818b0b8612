//! Embeddings through `POST /v2/embed`: `texts`, `input_type` (`search_document` unless the
//! request names another), `embedding_types: ["float"]`, `output_dimension`; the answer's
//! `embeddings.float` holds one vector per text and `meta.billed_units.input_tokens` the usage.

use llm_types::{EmbeddingInput, EmbeddingsRequest, EmbeddingsResponse, EncodingFormat, Error};
use serde::{Deserialize, Serialize};

use crate::embedding::render;
use crate::stream_driver::bad_response;

#[derive(Debug, Serialize)]
struct EmbedRequest<'a> {
    model: &'a str,
    texts: Vec<String>,
    input_type: String,
    embedding_types: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimension: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct EmbedResponse {
    embeddings: ByType,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Debug, Deserialize)]
struct ByType {
    #[serde(default)]
    float: Vec<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    #[serde(default)]
    billed_units: Option<Billed>,
}

#[derive(Debug, Deserialize)]
struct Billed {
    #[serde(default)]
    input_tokens: Option<u64>,
}

pub(super) fn body(model: &str, request: &EmbeddingsRequest) -> Result<Vec<u8>, Error> {
    let texts = match &request.input {
        EmbeddingInput::Text(text) => vec![text.clone()],
        EmbeddingInput::Texts(texts) => texts.clone(),
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
            return Err(Error::invalid_param(
                "input",
                "Cohere embeds text only: token-id inputs are not supported by cohere",
            ));
        }
    };
    let input_type = request
        .extra
        .get("input_type")
        .and_then(|v| v.as_str())
        .unwrap_or("search_document")
        .to_owned();
    serde_json::to_vec(&EmbedRequest {
        model,
        texts,
        input_type,
        embedding_types: ["float"],
        output_dimension: request.dimensions,
    })
    .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))
}

pub(super) fn translate(
    bytes: &[u8],
    model: &str,
    format: Option<EncodingFormat>,
) -> Result<EmbeddingsResponse, Error> {
    let response: EmbedResponse = serde_json::from_slice(bytes)
        .map_err(|e| bad_response(format!("the upstream sent an invalid embed response: {e}")))?;
    let tokens = response
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|b| b.input_tokens)
        .unwrap_or(0);
    Ok(render(response.embeddings.float, tokens, format, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::EmbeddingVector;
    use serde_json::{Value, json};

    #[test]
    fn builds_and_reads_embed_bodies() {
        let request: EmbeddingsRequest = serde_json::from_value(
            json!({"model": "cohere/embed-v4.0", "input": "a", "dimensions": 256, "input_type": "search_query"}),
        )
        .unwrap();
        let sent: Value = serde_json::from_slice(&body("embed-v4.0", &request).unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"model": "embed-v4.0", "texts": ["a"], "input_type": "search_query",
                   "embedding_types": ["float"], "output_dimension": 256})
        );
        let answer = br#"{"id":"x","embeddings":{"float":[[0.5,0.25]]},"texts":["a"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":1}},"response_type":"embeddings_by_type"}"#;
        let translated = translate(answer, "embed-v4.0", None).unwrap();
        assert_eq!(
            translated.data[0].embedding,
            EmbeddingVector::Float(vec![0.5, 0.25])
        );
        assert_eq!(translated.usage.prompt_tokens, 1);
    }
}
