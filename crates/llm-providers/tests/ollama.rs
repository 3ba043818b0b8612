//! Ollama's native API against its native mock: the conformance matrix, the requests we send
//! (Ollama's OpenAPI spec + the official SDK's reference requests), embeddings, and the
//! recorded Ollama answers of the conformance kit.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::{Family, Provider};
use llm_types::{ChatCompletionResponse, EmbeddingInput};
use support::compat::*;
use support::*;

#[tokio::test]
async fn conformance_matrix() {
    let harness = Harness::start("ollama_chat", KEY).await;
    let row = run_matrix(
        &harness,
        "llama3.2",
        Family::OllamaChat,
        async |harness: &Harness| {
            let provider = harness.provider("qwen3");
            let mut request = user("think first");
            request.reasoning_effort = Some("medium".into());
            let response = provider.chat(request.clone()).await.unwrap();
            assert_eq!(harness.last_request().body["think"], true);
            check_response("reasoning", &response);
            assert!(response.choices[0].message.reasoning_content.is_some());
            assert_eq!(
                response.choices[0].message.content.as_deref(),
                Some("echo: think first")
            );
            let (chunks, error) = collect_started(&provider, streamed(request)).await;
            assert!(error.is_none());
            check_chunks("reasoning stream", &chunks);
            assert!(!reasoning_of(&chunks).is_empty());
            assert_eq!(text_of(&chunks), "echo: think first");
        },
    )
    .await;
    eprintln!("ollama_chat matrix: {row:?}");
    assert!(row.iter().all(|(_, outcome)| *outcome == "pass"), "{row:?}");
}

#[tokio::test]
async fn requests_match_the_spec_and_the_sdk_reference() {
    let harness = Harness::start("ollama_chat", KEY).await;
    let spec = Spec::load("specs/ollama/ollama-chat.subset.json", "urn:ollama-chat");
    let provider = harness.provider("llama3.2");
    for (scenario, mut request) in reference_scenarios() {
        if scenario == "tool_result" {
            // The SDK's reference sent this turn without tool definitions.
            request.tools = None;
        }
        send_scenario(&provider, request).await;
        let sent = harness.last_request();
        let reference = reference_request("ollama", scenario);
        assert_eq!(sent.path, "/api/chat");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        spec.check("/components/schemas/ChatRequest", scenario, &sent.body);
        assert_eq!(
            without_defaults(&sent.body),
            without_defaults(&reference["body"]),
            "{scenario}"
        );
    }
}

#[tokio::test]
async fn http_images_are_refused_unless_dropped() {
    let harness = Harness::start("ollama_chat", KEY).await;
    let mut request = vision_request();
    if let Some(llm_types::MessageContent::Parts(parts)) = request.messages[0].content.as_mut() {
        parts[1] = serde_json::from_value(
            serde_json::json!({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}),
        )
        .unwrap();
    }
    let error = harness
        .provider("llava")
        .chat(request.clone())
        .await
        .unwrap_err();
    assert_eq!(
        (error.status(), error.param.as_deref()),
        (400, Some("image_url"))
    );
    assert!(error.message.contains("base64"), "{}", error.message);
    request.drop_params = Some(true);
    let response = harness.provider("llava").chat(request).await.unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("echo: what is this?")
    );
}

#[tokio::test]
async fn embeddings_use_api_embed() {
    let harness = Harness::start("ollama_chat", KEY).await;
    let request = embeddings_request(
        "ollama_chat/embeddinggemma",
        EmbeddingInput::Texts(vec!["a b".into(), "c".into()]),
        Some(16),
    );
    let response = harness
        .provider("embeddinggemma")
        .embeddings(request)
        .await
        .unwrap();
    check_embeddings(&response);
    assert_eq!(response.data.len(), 2);
    assert_eq!(response.usage.prompt_tokens, 3);
    let sent = harness.last_request();
    assert_eq!(sent.path, "/api/embed");
    let spec = Spec::load("specs/ollama/openapi.normalized.json", "urn:ollama");
    spec.check("/components/schemas/EmbedRequest", "embed", &sent.body);
    assert_eq!(sent.body["dimensions"], 16);
}

/// The kit's Ollama cassettes were recorded on Ollama's OpenAI-compatible `/v1` endpoint
/// (served by the `ollama/` host row): they parse into the typed OpenAI structs, whatever
/// Ollama adds (`reasoning`), and what we emit from them is strict.
#[test]
fn recorded_ollama_answers_translate_to_valid_openai() {
    let recorded = cassette_responses("test_ollama");
    for r in &recorded {
        assert!(r.uri.contains("/v1/chat/completions"), "{}", r.uri);
        let response: ChatCompletionResponse = serde_json::from_str(&r.body)
            .unwrap_or_else(|e| panic!("{}[{}]: {e}", r.file, r.index));
        check_response(&format!("{}[{}]", r.file, r.index), &response);
    }
    eprintln!(
        "ollama: {} recorded answers translated and validated",
        recorded.len()
    );
    assert_eq!(recorded.len(), 4);
}
