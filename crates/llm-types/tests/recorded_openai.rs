//! The wire types against real OpenAI traffic recorded by others (`../shared/conformance`):
//! every recorded request, response and stream chunk parses, and writing it back loses nothing
//! the types model (unknown fields are tolerated, request extras are kept).

use llm_types::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse};
use serde_json::Value;
use std::path::PathBuf;

fn conformance_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    assert!(
        dir.join("README.md").exists(),
        "the conformance kit is missing at {}: clone the project with shared/ beside it",
        dir.display()
    );
    dir
}

/// JSON equality where numbers compare by value (`0` == `0.0`): our f64 fields re-serialize
/// integers as floats.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Drops keys whose value is null: we omit absent optionals rather than writing null.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn recorded_stream_chunks_parse_and_round_trip() {
    let dir = conformance_dir().join("fixtures/openai-python-snapshots");
    let mut chunks = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                continue;
            }
            let original: Value = serde_json::from_str(data).unwrap();
            let chunk: ChatCompletionChunk = serde_json::from_str(data)
                .unwrap_or_else(|e| panic!("{}: {e}\n{data}", path.display()));
            let written = serde_json::to_value(&chunk).unwrap();
            let again: ChatCompletionChunk = serde_json::from_value(written.clone()).unwrap();
            assert_eq!(chunk, again, "{}", path.display());
            // Content, tool-call pieces and usage survive byte for byte.
            for (i, choice) in original["choices"].as_array().unwrap().iter().enumerate() {
                for key in ["content", "refusal", "tool_calls"] {
                    let theirs = &choice["delta"][key];
                    if !theirs.is_null() {
                        assert!(
                            same_json(&without_nulls(theirs), &written["choices"][i]["delta"][key]),
                            "{key} changed in {}",
                            path.display()
                        );
                    }
                }
            }
            if !original["usage"].is_null() {
                assert!(same_json(
                    &without_nulls(&original["usage"]),
                    &written["usage"]
                ));
            }
            chunks += 1;
        }
    }
    assert!(
        chunks >= 300,
        "expected the ~380 recorded chunks, read {chunks}"
    );
}

#[test]
fn recorded_chat_requests_and_responses_round_trip() {
    let dir = conformance_dir().join("fixtures/pydantic-ai/test_openai");
    let (mut requests, mut responses) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let cassette: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for interaction in cassette["interactions"].as_array().into_iter().flatten() {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            if !uri.ends_with("/chat/completions") {
                continue;
            }
            let body = &interaction["request"]["parsed_body"];
            if body.is_object() {
                let request: ChatCompletionRequest = serde_json::from_value(body.clone())
                    .unwrap_or_else(|e| panic!("{}: request: {e}", path.display()));
                let written = serde_json::to_value(&request).unwrap();
                assert!(
                    same_json(&without_nulls(body), &written),
                    "{}: request changed\n theirs: {body}\n ours:   {written}",
                    path.display()
                );
                requests += 1;
            }
            let response = &interaction["response"];
            let status = response["status"]["code"].as_u64().unwrap_or(0);
            let parsed = &response["parsed_body"];
            // pydantic-ai recorded one deliberately broken 200 answer: it must be refused.
            if path.to_string_lossy().contains("invalid_response") {
                assert!(serde_json::from_value::<ChatCompletionResponse>(parsed.clone()).is_err());
                continue;
            }
            if status == 200 && parsed.is_object() {
                let ours: ChatCompletionResponse = serde_json::from_value(parsed.clone())
                    .unwrap_or_else(|e| panic!("{}: response: {e}", path.display()));
                let written = serde_json::to_value(&ours).unwrap();
                for (i, choice) in parsed["choices"].as_array().unwrap().iter().enumerate() {
                    let message = &choice["message"];
                    assert_eq!(
                        message["content"],
                        written["choices"][i]["message"]["content"]
                    );
                    assert!(same_json(
                        &without_nulls(&message["tool_calls"]),
                        &without_nulls(&written["choices"][i]["message"]["tool_calls"])
                    ));
                    // The spec requires these keys even when null.
                    assert!(written["choices"][i]["message"].get("refusal").is_some());
                    assert!(written["choices"][i].get("logprobs").is_some());
                }
                if !parsed["usage"].is_null() {
                    assert!(
                        same_json(&without_nulls(&parsed["usage"]), &written["usage"]),
                        "{}: usage {} vs {}",
                        path.display(),
                        parsed["usage"],
                        written["usage"]
                    );
                }
                responses += 1;
            }
        }
    }
    assert!(
        requests >= 40 && responses >= 30,
        "read {requests} requests, {responses} responses"
    );
}
