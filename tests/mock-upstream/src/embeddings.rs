//! `POST /v1/embeddings`: deterministic unit vectors derived from a hash of each input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids::Fnv;

/// Dimension when the request does not ask for one.
const DEFAULT_DIMENSIONS: u64 = 8;
/// Upper bound on `dimensions` (OpenAI's largest model has 3072).
const MAX_DIMENSIONS: u64 = 4096;
/// Upper bound on the number of inputs, as OpenAI's own limit.
const MAX_INPUTS: usize = 2048;

/// One input to embed, as the hash sees it.
enum Input<'a> {
    Text(&'a str),
    Tokens(Vec<u64>),
}

impl Input<'_> {
    fn hash(&self) -> u64 {
        match self {
            Input::Text(text) => Fnv::new().write(text.as_bytes()).finish(),
            Input::Tokens(tokens) => tokens
                .iter()
                .fold(Fnv::new().write(b"tokens:"), |h, t| {
                    h.write(&t.to_le_bytes())
                })
                .finish(),
        }
    }

    fn tokens(&self) -> u64 {
        match self {
            Input::Text(text) => text.split_whitespace().count() as u64,
            Input::Tokens(tokens) => tokens.len() as u64,
        }
    }
}

/// The model named by a request (checked before faults are read from it).
pub(crate) fn model(request: &Value) -> Result<&str, ApiError> {
    if !request.is_object() {
        return Err(ApiError::bad_json());
    }
    match request.get("model") {
        Some(Value::String(m)) => Ok(m),
        Some(_) => Err(ApiError::invalid(
            "'model' must be a string.",
            Some("model"),
        )),
        None => Err(ApiError::missing("model")),
    }
}

/// The `CreateEmbeddingResponse` body for a request.
pub(crate) fn respond(request: &Value, model: &str) -> Result<Value, ApiError> {
    let inputs = inputs(request.get("input"))?;
    let dimensions = request
        .get("dimensions")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_DIMENSIONS)
        .clamp(1, MAX_DIMENSIONS);
    let base64 = request.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = unit_vector(input.hash(), dimensions);
            let embedding = if base64 {
                json!(encode_base64(&vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(Input::tokens).sum();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
}

/// Reads `input` in any of its four shapes: string, strings, tokens, arrays of tokens.
fn inputs(input: Option<&Value>) -> Result<Vec<Input<'_>>, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "'input' must be a string, an array of strings, an array of integers or an array of integer arrays.",
            Some("input"),
        )
    };
    let tokens = |items: &Vec<Value>| -> Result<Vec<u64>, ApiError> {
        items
            .iter()
            .map(|t| t.as_u64().ok_or_else(invalid))
            .collect()
    };
    let items = match input {
        None => return Err(ApiError::missing("input")),
        Some(Value::String(text)) => return Ok(vec![Input::Text(text)]),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_INPUTS => items,
        Some(_) => return Err(invalid()),
    };
    if items.iter().all(Value::is_number) {
        return Ok(vec![Input::Tokens(tokens(items)?)]);
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(Input::Text(text)),
            Value::Array(inner) => Ok(Input::Tokens(tokens(inner)?)),
            _ => Err(invalid()),
        })
        .collect()
}

/// A vector of values in [-1, 1] drawn from a generator seeded by `seed`, scaled to length 1.
fn unit_vector(seed: u64, dimensions: u64) -> Vec<f32> {
    let mut state = seed;
    let mut vector: Vec<f32> = (0..dimensions)
        .map(|_| {
            let bits = splitmix64(&mut state);
            // The top 24 bits fit an f32 mantissa exactly; map [0, 2^24) onto [-1, 1).
            ((bits >> 40) as f32 / (1u32 << 23) as f32) - 1.0
        })
        .collect();
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    } else if let Some(first) = vector.first_mut() {
        // All zeros (vanishingly unlikely) still has to be a unit vector.
        *first = 1.0;
    }
    vector
}

/// SplitMix64: a well-mixed 64-bit generator in three lines, so similar seeds diverge.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What OpenAI sends for `encoding_format: "base64"`: the little-endian f32 bytes, base64.
fn encode_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond_to(request: Value) -> Result<Value, ApiError> {
        let model = model(&request)?.to_owned();
        respond(&request, &model)
    }

    #[test]
    fn one_embedding_per_input_in_every_shape() {
        let cases = [
            (json!("hello world"), 1, 2),
            (json!(["a", "b c", "d"]), 3, 4),
            (json!([1, 2, 3]), 1, 3),
            (json!([[1, 2], [3]]), 2, 3),
        ];
        for (input, count, tokens) in cases {
            let body = respond_to(json!({"model": "e", "input": input})).unwrap();
            let data = body["data"].as_array().unwrap();
            assert_eq!(data.len(), count, "input {input}");
            for (i, item) in data.iter().enumerate() {
                assert_eq!(item["index"], i, "input {input}");
                assert_eq!(item["embedding"].as_array().unwrap().len(), 8);
            }
            assert_eq!(body["usage"]["prompt_tokens"], tokens, "input {input}");
        }
    }

    #[test]
    fn vectors_are_deterministic_unit_length_and_input_specific() {
        let a = unit_vector(Input::Text("a").hash(), 16);
        assert_eq!(a, unit_vector(Input::Text("a").hash(), 16));
        assert_ne!(a, unit_vector(Input::Text("b").hash(), 16));
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        assert!(a.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn rejects_bad_inputs() {
        let cases = [
            json!({"model": "e"}),
            json!({"model": "e", "input": []}),
            json!({"model": "e", "input": [true]}),
            json!({"model": "e", "input": [[1, "x"]]}),
            json!({"model": "e", "input": {"text": "x"}}),
            json!({"input": "x"}),
        ];
        for request in cases {
            let err = respond_to(request.clone()).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "request {request}");
        }
    }
}
