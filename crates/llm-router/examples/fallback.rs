//! The router from Rust, without the gateway: a model group of two deployments and a
//! fallback group. Runs offline: both deployments of `smart` point at a closed local port
//! (so they fail), and the `cheap` fallback is the built-in mock provider.
//!
//! ```sh
//! cargo run -p llm-router --example fallback
//! ```
#![allow(clippy::print_stdout)] // an example prints what happened

use llm_providers::http_client::build_http_client;
use llm_providers::{AnyProvider, ProviderTarget};
use llm_router::{Deployment, Router, RouterSettings};
use llm_types::{ChatCompletionRequest, ChatMessage, Role};

#[tokio::main]
async fn main() -> Result<(), llm_types::Error> {
    let http = build_http_client()?;
    let unreachable = |model: &str| ProviderTarget {
        api_base: Some("http://127.0.0.1:9/v1".into()),
        api_key: Some(llm_providers::Secret::new("sk-example")),
        ..ProviderTarget::new(model)
    };
    let backup = ProviderTarget {
        mock_response: Some("answered by the fallback group".into()),
        ..ProviderTarget::new("mock/backup")
    };
    let deployments = vec![
        Deployment::new(
            "smart-east",
            "smart",
            "openai/gpt-4o",
            AnyProvider::build(&unreachable("openai/gpt-4o"), &http)?,
        ),
        Deployment::new(
            "smart-west",
            "smart",
            "groq/llama-3.3-70b-versatile",
            AnyProvider::build(&unreachable("groq/llama-3.3-70b-versatile"), &http)?,
        ),
        Deployment::new(
            "cheap-mock",
            "cheap",
            "mock/backup",
            AnyProvider::build(&backup, &http)?,
        ),
    ];
    let mut settings = RouterSettings::default();
    settings
        .fallbacks
        .insert("smart".into(), vec!["cheap".into()]);
    let router = Router::with_settings(deployments, settings);

    let request =
        ChatCompletionRequest::new("smart", vec![ChatMessage::text(Role::User, "Hello?")]);
    let routed = router.chat(request).await?;
    println!(
        "answer:   {}",
        routed.value.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or("")
    );
    println!(
        "served by {} after {} attempts",
        routed.deployment.id, routed.attempts
    );
    for failure in &routed.failures {
        println!(
            "  failed: {} ({}) in group {}",
            failure.deployment, failure.error, failure.group
        );
    }
    Ok(())
}
