//! Calls AWS Bedrock through the library, without the gateway: a chat, a stream with a tool
//! call, and embeddings, all written in the OpenAI format and SigV4-signed on the way out.
//!
//! ```sh
//! cargo run -p llm-providers --example bedrock        # offline, against the Bedrock mock
//! AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-east-1 \
//!   cargo run -p llm-providers --example bedrock -- us.anthropic.claude-3-5-haiku-20241022-v1:0
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

use futures_util::StreamExt;
use llm_mock_upstream::{MockOptions, MockServer};
use llm_providers::{AnyProvider, AwsSettings, Client, Provider, ProviderTarget, Secret};
use llm_types::{ChatCompletionRequest, EmbeddingsRequest};

/// Either the `Client` facade (real AWS, credentials from the environment) or an adapter built
/// from an explicit target (offline: the mock and the credentials it verifies).
enum Bedrock {
    Client(Client),
    Mock { base: String, http: reqwest::Client },
}

impl Bedrock {
    fn provider(&self, model: &str) -> Result<AnyProvider, llm_types::Error> {
        let Bedrock::Mock { base, http } = self else {
            return Err(llm_types::Error::internal("not offline"));
        };
        let target = ProviderTarget {
            api_base: Some(base.clone()),
            aws: AwsSettings {
                access_key_id: Some("AKIDEXAMPLE".into()),
                secret_access_key: Some(Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
                region_name: Some("us-east-1".into()),
                ..AwsSettings::default()
            },
            ..ProviderTarget::new(model)
        };
        AnyProvider::build(&target, http)
    }

    async fn chat(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<llm_types::ChatCompletionResponse, llm_types::Error> {
        match self {
            Bedrock::Client(client) => client.chat(request).await,
            Bedrock::Mock { .. } => self.provider(&request.model)?.chat(request).await,
        }
    }

    async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<llm_providers::ChatStream, llm_types::Error> {
        match self {
            Bedrock::Client(client) => client.chat_stream(request).await,
            Bedrock::Mock { .. } => self.provider(&request.model)?.chat_stream(request).await,
        }
    }

    async fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<llm_types::EmbeddingsResponse, llm_types::Error> {
        match self {
            Bedrock::Client(client) => client.embeddings(request).await,
            Bedrock::Mock { .. } => self.provider(&request.model)?.embeddings(request).await,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = common::model_arg("anthropic.claude-3-haiku-20240307-v1:0");
    let (bedrock, _mock) = if std::env::var("AWS_ACCESS_KEY_ID").is_ok() {
        (Bedrock::Client(Client::from_env()?), None)
    } else {
        let mock = MockServer::start(MockOptions::default()).await?;
        let base = format!("http://{}", mock.addr());
        let http = llm_providers::http_client::build_http_client()?;
        (Bedrock::Mock { base, http }, Some(mock))
    };
    let model = format!("bedrock/{model}");

    let response = bedrock.chat(common::hello(&model)).await?;
    common::print_chat(&response);
    if let Some(usage) = &response.usage {
        println!(
            "usage: {} prompt ({} cached) + {} completion tokens",
            usage.prompt_tokens,
            usage.cached_tokens(),
            usage.completion_tokens
        );
    }

    let mut request = common::weather_question(&model);
    request.stream = Some(true);
    let mut stream = bedrock.chat_stream(request).await?;
    print!("stream:");
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in &chunk.choices {
            for call in choice.delta.tool_calls.iter().flatten() {
                if let Some(function) = &call.function {
                    print!(
                        " {}{}",
                        function.name.as_deref().unwrap_or(""),
                        function.arguments.as_deref().unwrap_or("")
                    );
                }
            }
            if let Some(reason) = choice.finish_reason {
                print!(" [{reason:?}]");
            }
        }
    }
    println!();

    let embeddings = bedrock
        .embeddings(common::embeddings_request(
            "bedrock/amazon.titan-embed-text-v2:0",
        ))
        .await?;
    println!("embeddings: {} vectors", embeddings.data.len());
    Ok(())
}
