//! The real Cohere answers recorded in the conformance kit (pydantic-ai cassettes) through
//! [`super::response::translate`]: each parses, and what we emit validates against OpenAI's
//! `CreateChatCompletionResponse`.

use jsonschema::{Draft, Registry, Resource};
use serde_json::{Value, json};
use std::path::PathBuf;

fn kit() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

#[test]
fn recorded_cohere_answers_translate_to_valid_openai() {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(kit().join("specs/openai/openapi.normalized.json")).unwrap(),
    )
    .unwrap();
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .add("urn:openai", Resource::from_contents(spec))
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .build(&json!({"$ref": "urn:openai#/components/schemas/CreateChatCompletionResponse"}))
        .unwrap();
    let dir = kit().join("fixtures/pydantic-ai/test_cohere");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut translated = 0;
    let mut with_cache = 0;
    let mut with_thinking = 0;
    for file in files {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for interaction in yaml["interactions"].as_sequence().unwrap() {
            // One cassette also records an OpenAI call (its first turn).
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            if !uri.contains("cohere.com/v2/chat") {
                continue;
            }
            let body = serde_json::to_vec(&interaction["response"]["parsed_body"]).unwrap();
            let response = super::response::translate(&body, "command-a-03-2025")
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let value = serde_json::to_value(&response).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{}: {errors:?}\n{value:#}",
                file.display()
            );
            assert!(response.choices[0].message.content.is_some());
            assert!(response.usage.as_ref().is_some_and(|u| u.prompt_tokens > 0));
            with_cache += usize::from(
                response
                    .usage
                    .as_ref()
                    .is_some_and(|u| u.cached_tokens() > 0),
            );
            with_thinking += usize::from(response.choices[0].message.reasoning_content.is_some());
            translated += 1;
        }
    }
    assert_eq!((translated, with_cache, with_thinking), (4, 1, 1));
}
