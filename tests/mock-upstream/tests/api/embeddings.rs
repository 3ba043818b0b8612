//! Embeddings and the model list over HTTP.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::{client, post_ok, server};

fn floats(embedding: &Value) -> Vec<f32> {
    embedding
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn decode(embedding: &Value) -> Vec<f32> {
    let bytes = STANDARD.decode(embedding.as_str().unwrap()).unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[tokio::test]
async fn float_and_base64_encode_the_same_unit_vector() {
    let server = server().await;
    for (input, dimensions, count) in [
        (json!("hello"), None, 1),
        (json!(["a", "b", "a"]), Some(32), 3),
        (json!([[1, 2, 3], [4]]), Some(3), 2),
    ] {
        let mut request = json!({"model": "text-embedding-3-small", "input": input});
        if let Some(d) = dimensions {
            request["dimensions"] = json!(d);
        }
        let plain = post_ok(&server, "/embeddings", &request).await;
        request["encoding_format"] = json!("base64");
        let encoded = post_ok(&server, "/embeddings", &request).await;
        for body in [&plain, &encoded] {
            assert_eq!(body["object"], "list");
            assert_eq!(body["model"], "text-embedding-3-small");
            assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
            assert_eq!(
                body["usage"]["total_tokens"],
                body["usage"]["prompt_tokens"]
            );
            assert_eq!(body["data"].as_array().unwrap().len(), count, "{request}");
        }
        for i in 0..count {
            let item = &plain["data"][i];
            assert_eq!(item["object"], "embedding");
            assert_eq!(item["index"], i);
            let vector = floats(&item["embedding"]);
            assert_eq!(vector.len(), dimensions.unwrap_or(8), "{request}");
            assert_eq!(
                vector,
                decode(&encoded["data"][i]["embedding"]),
                "{request}"
            );
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        }
    }
}

#[tokio::test]
async fn equal_inputs_embed_equally() {
    let server = server().await;
    let body = post_ok(
        &server,
        "/embeddings",
        &json!({"model": "e", "input": ["same", "other", "same"]}),
    )
    .await;
    assert_eq!(body["data"][0]["embedding"], body["data"][2]["embedding"]);
    assert_ne!(body["data"][0]["embedding"], body["data"][1]["embedding"]);
}

#[tokio::test]
async fn lists_models() {
    let server = server().await;
    let body: Value = client()
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().unwrap();
    assert!(data.iter().any(|m| m["id"] == "gpt-4o-mini"));
    for model in data {
        assert_eq!(model["object"], "model");
        assert_eq!(model["owned_by"], "mock");
        assert_eq!(model["created"], 1_700_000_000);
    }
    let one = client()
        .get(format!("{}/models/gpt-4o-mini", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let missing = client()
        .get(format!("{}/models/no-such-model", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
