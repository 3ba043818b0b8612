//! Cohere v2 chat against its native mock: the conformance matrix, the requests we send
//! (compared with the official SDK's reference requests; Cohere's spec is not in the kit),
//! and embeddings. The recorded Cohere answers are checked by the crate's unit tests
//! (`cohere::recorded`), where the translator is reachable.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::{Family, Provider};
use llm_types::{EmbeddingInput, MessageContent};
use support::compat::*;
use support::*;

#[tokio::test]
async fn conformance_matrix() {
    let harness = Harness::start("cohere_chat", KEY).await;
    let row = run_matrix(
        &harness,
        "command-a-03-2025",
        Family::CohereChat,
        async |harness: &Harness| {
            let provider = harness.provider("command-a-reasoning-08-2025");
            let mut request = user("think first");
            request.reasoning_effort = Some("high".into());
            let response = provider.chat(request.clone()).await.unwrap();
            assert_eq!(harness.last_request().body["thinking"]["type"], "enabled");
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
    eprintln!("cohere_chat matrix: {row:?}");
    assert!(row.iter().all(|(_, outcome)| *outcome == "pass"), "{row:?}");
}

#[tokio::test]
async fn both_prefixes_reach_v2_chat() {
    let harness = Harness::start("cohere", KEY).await;
    let response = harness
        .provider("command-r7b-12-2024")
        .chat(user("hi"))
        .await
        .unwrap();
    assert_eq!(
        response.choices[0].message.content.as_deref(),
        Some("echo: hi")
    );
    assert_eq!(harness.last_request().path, "/v2/chat");
}

#[tokio::test]
async fn requests_match_the_sdk_reference() {
    let harness = Harness::start("cohere_chat", KEY).await;
    let provider = harness.provider("command-a-03-2025");
    for (scenario, mut request) in reference_scenarios() {
        if scenario == "tool_result" {
            // The reference's assistant turn has a tool plan: the text beside its calls.
            request.messages[1].content =
                Some(MessageContent::Text("I will call get_weather".into()));
        }
        send_scenario(&provider, request).await;
        let sent = harness.last_request();
        let reference = reference_request("cohere", scenario);
        assert_eq!(sent.path, "/v2/chat");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(
            without_defaults(&sent.body),
            without_defaults(&reference["body"]),
            "{scenario}"
        );
    }
}

#[tokio::test]
async fn embeddings_use_v2_embed() {
    let harness = Harness::start("cohere", KEY).await;
    let request = embeddings_request(
        "cohere/embed-v4.0",
        EmbeddingInput::Texts(vec!["a b".into(), "c".into()]),
        Some(16),
    );
    let response = harness
        .provider("embed-v4.0")
        .embeddings(request)
        .await
        .unwrap();
    check_embeddings(&response);
    assert_eq!(response.data.len(), 2);
    assert_eq!(response.usage.prompt_tokens, 3);
    let sent = harness.last_request();
    assert_eq!(sent.path, "/v2/embed");
    assert_eq!(sent.body["input_type"], "search_document");
    assert_eq!(sent.body["embedding_types"], serde_json::json!(["float"]));
    assert_eq!(sent.body["output_dimension"], 16);
}
