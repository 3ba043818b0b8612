//! Embeddings through `POST /api/embed`: `input` (a string or a list), `dimensions`; the answer
//! is `embeddings` (one vector per input) and `prompt_eval_count`.

use llm_types::{EmbeddingInput, EmbeddingsRequest, EmbeddingsResponse, EncodingFormat, Error};
use serde::{Deserialize, Serialize};

use crate::embedding::render;
use crate::stream_driver::bad_response;

#[derive(Debug, Serialize)]
struct EmbedRequest<'a> {
    model: &'a str,
    input: Input<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Input<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(Debug, Deserialize)]
struct EmbedResponse {
    #[serde(default)]
    model: Option<String>,
    embeddings: Vec<Vec<f32>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
}

/// `user` only tags the request for abuse monitoring at OpenAI; Ollama has nothing to tag, so
/// it is left out as it is for chat.
pub(super) fn body(model: &str, request: &EmbeddingsRequest) -> Result<Vec<u8>, Error> {
    let input = match &request.input {
        EmbeddingInput::Text(text) => Input::One(text),
        EmbeddingInput::Texts(texts) => Input::Many(texts),
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
            return Err(Error::invalid_param(
                "input",
                "Ollama embeds text only: token-id inputs are not supported by ollama_chat",
            ));
        }
    };
    serde_json::to_vec(&EmbedRequest {
        model,
        input,
        dimensions: request.dimensions,
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
    let tokens = response.prompt_eval_count.unwrap_or(0);
    let model = response.model.unwrap_or_else(|| model.to_owned());
    Ok(render(response.embeddings, tokens, format, &model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::EmbeddingVector;
    use serde_json::{Value, json};

    #[test]
    fn builds_and_reads_embed_bodies() {
        let request: EmbeddingsRequest = serde_json::from_value(
            json!({"model": "ollama_chat/e", "input": ["a", "b"], "dimensions": 4}),
        )
        .unwrap();
        let sent: Value = serde_json::from_slice(&body("e", &request).unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"model": "e", "input": ["a", "b"], "dimensions": 4})
        );
        let tokens: EmbeddingsRequest =
            serde_json::from_value(json!({"model": "ollama_chat/e", "input": [1, 2]})).unwrap();
        assert!(body("e", &tokens).is_err());
        let answer = br#"{"model":"e","embeddings":[[1.0,0.0],[0.0,1.0]],"total_duration":1,"prompt_eval_count":2}"#;
        let translated = translate(answer, "e", None).unwrap();
        assert_eq!(translated.data.len(), 2);
        assert_eq!(translated.usage.prompt_tokens, 2);
        let base64 = translate(answer, "e", Some(EncodingFormat::Base64)).unwrap();
        assert_eq!(
            base64.data[0].embedding,
            EmbeddingVector::Base64("AACAPwAAAAA=".into())
        );
    }
}
