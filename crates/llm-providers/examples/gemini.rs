//! Calls Gemini (Google AI Studio) through the library, without the gateway: a chat, a stream
//! with a tool call, JSON mode and embeddings, all written in the OpenAI format.
//!
//! ```sh
//! cargo run -p llm-providers --example gemini                     # offline, against the mock
//! GEMINI_API_KEY=AIza... cargo run -p llm-providers --example gemini -- gemini-2.5-flash
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

use futures_util::StreamExt;
use llm_mock_upstream::{MockOptions, MockServer};
use llm_providers::Client;
use llm_types::{
    ChatCompletionRequest, ChatMessage, EmbeddingInput, EmbeddingsRequest, FunctionDefinition,
    ResponseFormat, Role, Tool,
};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "gemini-2.5-flash".to_owned());
    // Without a key the example runs against the mock of the Gemini API (kept alive here).
    let (client, _mock) = match std::env::var("GEMINI_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let mock = MockServer::start(MockOptions::default()).await?;
            let client = Client::builder()
                .api_key("gemini", "AIza-offline")
                .api_base("gemini", format!("http://{}", mock.addr()))
                .build()?;
            (client, Some(mock))
        }
    };
    let model = format!("gemini/{model}");

    let request = ChatCompletionRequest::new(
        &model,
        vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Say hello in five words."),
        ],
    );
    let response = client.chat(request).await?;
    println!(
        "chat: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );
    if let Some(usage) = &response.usage {
        println!(
            "usage: {} prompt + {} completion tokens",
            usage.prompt_tokens, usage.completion_tokens
        );
    }

    let mut request = ChatCompletionRequest::new(
        &model,
        vec![ChatMessage::text(
            Role::User,
            "What is the weather in Paris?",
        )],
    );
    request.tools = Some(vec![Tool {
        kind: "function".into(),
        function: Some(FunctionDefinition {
            name: "get_weather".into(),
            description: Some("Current weather in a city".into()),
            parameters: Some(json!({
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            })),
            strict: None,
        }),
        extra: serde_json::Map::new(),
    }]);
    print!("streamed tool call: ");
    let mut stream = client.chat_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            for call in choice.delta.tool_calls.unwrap_or_default() {
                if let Some(function) = call.function {
                    print!(
                        "{}{}",
                        function.name.map(|n| format!("{n} ")).unwrap_or_default(),
                        function.arguments.unwrap_or_default()
                    );
                }
            }
        }
    }
    println!();

    let mut request = ChatCompletionRequest::new(
        &model,
        vec![ChatMessage::text(Role::User, "Name a city as JSON.")],
    );
    request.response_format = Some(ResponseFormat::JsonObject);
    let response = client.chat(request).await?;
    println!(
        "json mode: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );

    let embeddings = client
        .embeddings(EmbeddingsRequest {
            model: "gemini/text-embedding-004".into(),
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
