//! Azure OpenAI against its native mock: the conformance matrix, the requests we send (OpenAI
//! spec + the official SDK's reference requests), content-filter errors and embeddings.

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::{Family, Provider};
use llm_types::{EmbeddingInput, ErrorKind};
use support::compat::*;
use support::*;

#[tokio::test]
async fn conformance_matrix() {
    let harness = Harness::start("azure", KEY).await;
    let row = run_matrix(
        &harness,
        "gpt4o-prod",
        Family::AzureOpenAi,
        async |harness: &Harness| {
            // Azure's reasoning models take `reasoning_effort` as OpenAI's do and report
            // reasoning tokens in the usage details.
            let mut request = user("think");
            request.reasoning_effort = Some("low".into());
            let response = harness.provider("o3-mini").chat(request).await.unwrap();
            assert_eq!(harness.last_request().body["reasoning_effort"], "low");
            let usage = response.usage.unwrap();
            assert!(
                usage
                    .completion_tokens_details
                    .unwrap()
                    .reasoning_tokens
                    .is_some()
            );
        },
    )
    .await;
    eprintln!("azure matrix: {row:?}");
    assert!(row.iter().all(|(_, outcome)| *outcome == "pass"), "{row:?}");
}

#[tokio::test]
async fn requests_match_the_spec_and_the_sdk_reference() {
    let harness = Harness::start("azure", KEY).await;
    let spec = openai_spec();
    let provider = harness.provider("my-deployment");
    for (scenario, request) in reference_scenarios() {
        send_scenario(&provider, request).await;
        let sent = harness.last_request();
        let reference = reference_request("azure-openai", scenario);
        assert_eq!(
            sent.path, "/openai/deployments/my-deployment/chat/completions",
            "{scenario}"
        );
        assert_eq!(sent.header("api-key"), Some(KEY));
        assert_eq!(sent.header("content-type"), Some("application/json"));
        spec.check(
            "/components/schemas/CreateChatCompletionRequest",
            scenario,
            &sent.body,
        );
        assert_eq!(
            without_defaults(&sent.body),
            without_defaults(&reference["body"]),
            "{scenario}"
        );
    }
}

#[tokio::test]
async fn content_filter_errors_become_content_policy_violations() {
    let harness = Harness::start("azure", KEY).await;
    for stream in [false, true] {
        let provider = harness.provider("content-filter");
        let error = if stream {
            provider
                .chat_stream(streamed(user("bad")))
                .await
                .err()
                .unwrap()
        } else {
            provider.chat(user("bad")).await.unwrap_err()
        };
        assert_eq!(error.kind, ErrorKind::ContentPolicy, "{error:?}");
        assert_eq!(error.status(), 400);
        assert_eq!(
            error.body().error.code.as_deref(),
            Some("content_policy_violation")
        );
    }
}

#[tokio::test]
async fn embeddings_go_to_the_deployment() {
    let harness = Harness::start("azure", KEY).await;
    let request = embeddings_request(
        "azure/embed-prod",
        EmbeddingInput::Texts(vec!["a b".into(), "c".into()]),
        Some(16),
    );
    let response = harness
        .provider("embed-prod")
        .embeddings(request)
        .await
        .unwrap();
    check_embeddings(&response);
    assert_eq!(response.data.len(), 2);
    let sent = harness.last_request();
    assert_eq!(sent.path, "/openai/deployments/embed-prod/embeddings");
    assert_eq!(sent.body["dimensions"], 16);
    assert_eq!(sent.body["model"], "embed-prod");
    let error = harness
        .provider("error-429")
        .embeddings(embeddings_request(
            "azure/error-429",
            EmbeddingInput::Text("x".into()),
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(error.status(), 429);
}
