//! OpenAI-compatible hosts against the OpenAI mock: the same conformance matrix every native
//! family runs, through the table-driven adapter (`openai/...`; every host row shares it).

// Test helpers fail the test by panicking; that is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use llm_providers::{Family, Provider};
use support::compat::*;
use support::*;

#[tokio::test]
async fn conformance_matrix() {
    let harness = Harness::start("openai", KEY).await;
    let row = run_matrix(
        &harness,
        "gpt-4o-mini",
        Family::OpenAiCompatible,
        async |harness: &Harness| {
            // Reasoning is a passthrough: `reasoning_effort` reaches the host, and the
            // reasoning-token details of its usage reach the client.
            let mut request = user("think");
            request.reasoning_effort = Some("high".into());
            let response = harness.provider("o4-mini").chat(request).await.unwrap();
            assert_eq!(harness.last_request().body["reasoning_effort"], "high");
            let details = response.usage.unwrap().completion_tokens_details.unwrap();
            assert!(details.reasoning_tokens.is_some());
        },
    )
    .await;
    eprintln!("openai_compatible matrix: {row:?}");
    assert!(row.iter().all(|(_, outcome)| *outcome == "pass"), "{row:?}");
}
