//! Embeddings: Gemini `:embedContent` / `:batchEmbedContents` and Vertex `:predict`, with
//! deterministic unit vectors derived from a hash of each text.

use serde_json::{Value, json};

use super::errors::GoogleError;
use crate::ids::Fnv;

const DEFAULT_DIMENSIONS: u64 = 8;
const MAX_DIMENSIONS: u64 = 4096;

/// A unit vector of `dimensions` for `text`.
fn vector(text: &str, dimensions: u64) -> Vec<f64> {
    let dimensions = dimensions.clamp(1, MAX_DIMENSIONS);
    let mut state = Fnv::new().write(text.as_bytes()).finish();
    let raw: Vec<f64> = (0..dimensions)
        .map(|_| {
            state = Fnv::new().write(&state.to_le_bytes()).finish();
            // The top 24 bits as a value in [-1, 1): exact in f64.
            f64::from(u32::try_from(state >> 40).unwrap_or(0)) / f64::from(1u32 << 23) - 1.0
        })
        .collect();
    let norm = raw
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    raw.into_iter().map(|v| v / norm).collect()
}

fn text_of(content: &Value) -> String {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

fn dimensions(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(DEFAULT_DIMENSIONS)
}

/// `:embedContent` → `{"embedding": {"values": [...]}}`.
pub(crate) fn embed_content(request: &Value) -> Result<Value, GoogleError> {
    let content = request.get("content").ok_or_else(|| {
        GoogleError::invalid("* EmbedContentRequest.content: content is not specified")
    })?;
    let values = vector(
        &text_of(content),
        dimensions(request.get("outputDimensionality")),
    );
    Ok(json!({"embedding": {"values": values}}))
}

/// `:batchEmbedContents` → `{"embeddings": [{"values": [...]}, ...]}`; each entry must name
/// its model as `models/...`.
pub(crate) fn batch_embed_contents(request: &Value) -> Result<Value, GoogleError> {
    let requests = request
        .get("requests")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            GoogleError::invalid("* BatchEmbedContentsRequest.requests: requests is not specified")
        })?;
    let mut embeddings = Vec::new();
    for (i, entry) in requests.iter().enumerate() {
        if !entry
            .get("model")
            .and_then(Value::as_str)
            .is_some_and(|m| m.starts_with("models/"))
        {
            return Err(GoogleError::invalid(format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: unexpected model name format"
            )));
        }
        embeddings.push(embed_content(entry)?["embedding"].clone());
    }
    Ok(json!({ "embeddings": embeddings }))
}

/// Vertex `:predict` for text-embedding models.
pub(crate) fn predict(request: &Value) -> Result<Value, GoogleError> {
    let instances = request
        .get("instances")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| GoogleError::invalid("instances must be a non-empty list"))?;
    let dims = dimensions(request.pointer("/parameters/outputDimensionality"));
    let mut characters = 0;
    let predictions: Vec<Value> = instances
        .iter()
        .map(|instance| {
            let text = instance
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default();
            characters += text.chars().filter(|c| !c.is_whitespace()).count();
            json!({"embeddings": {
                "values": vector(text, dims),
                "statistics": {"token_count": text.split_whitespace().count(), "truncated": false}
            }})
        })
        .collect();
    Ok(json!({"predictions": predictions, "metadata": {"billableCharacterCount": characters}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        let a = vector("hello", 16);
        assert_eq!(a, vector("hello", 16));
        assert_ne!(a, vector("hellp", 16));
        let norm: f64 = a.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-9);
    }

    #[test]
    fn refuses_malformed_requests() {
        assert!(embed_content(&json!({})).is_err());
        assert!(
            batch_embed_contents(&json!({"requests": [{"content": {"parts": [{"text": "a"}]}}]}))
                .is_err()
        );
        assert!(predict(&json!({"instances": []})).is_err());
        let ok = predict(
            &json!({"instances": [{"content": "a b"}], "parameters": {"outputDimensionality": 3}}),
        )
        .unwrap();
        assert_eq!(
            ok.pointer("/predictions/0/embeddings/values")
                .and_then(Value::as_array)
                .map(Vec::len),
            Some(3)
        );
    }
}
