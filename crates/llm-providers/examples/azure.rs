//! Calls Azure OpenAI (a deployment) through the library, without the gateway: a chat, a stream and
//! embeddings, all written in the OpenAI format (model strings as LiteLLM writes them).
//!
//! ```sh
//! cargo run -p llm-providers --example azure                # offline, against the mock
//! AZURE_API_KEY=... AZURE_API_BASE=https://<resource>.openai.azure.com cargo run -p llm-providers --example azure -- <deployment>
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

use futures_util::StreamExt;
use llm_mock_upstream::{MockOptions, MockServer};
use llm_providers::Client;
use llm_types::{ChatCompletionRequest, ChatMessage, EmbeddingInput, EmbeddingsRequest, Role};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "gpt4o-prod".to_owned());
    // Without `AZURE_API_KEY` the example runs against the mock of the native API (kept alive here).
    let (client, _mock) = match std::env::var("AZURE_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let mock = MockServer::start(MockOptions::default()).await?;
            let client = Client::builder()
                .api_key("azure", "offline-key")
                .api_base("azure", format!("http://{}", mock.addr()))
                .build()?;
            (client, Some(mock))
        }
    };
    let model = format!("azure/{model}");

    let request = ChatCompletionRequest::new(
        &model,
        vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Say hello in five words."),
        ],
    );
    let response = client.chat(request.clone()).await?;
    println!(
        "chat: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );

    let mut stream = client.chat_stream(request).await?;
    print!("stream: ");
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in &chunk.choices {
            print!("{}", choice.delta.content.as_deref().unwrap_or(""));
        }
        if let Some(usage) = &chunk.usage {
            print!(
                " [{} + {} tokens]",
                usage.prompt_tokens, usage.completion_tokens
            );
        }
    }
    println!();

    let embeddings = client
        .embeddings(EmbeddingsRequest {
            model: "azure/embed-prod".to_owned(),
            input: EmbeddingInput::Texts(vec!["hello".into(), "world".into()]),
            encoding_format: None,
            dimensions: Some(8),
            user: None,
            extra: serde_json::Map::new(),
        })
        .await?;
    println!("embeddings: {} vectors", embeddings.data.len());
    Ok(())
}
