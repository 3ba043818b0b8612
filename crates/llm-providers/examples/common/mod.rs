//! What the provider examples share (each includes it with `#[path = "common/mod.rs"] mod
//! common;`): the real API when its variable is set, else the in-process mock of the native
//! API; the requests they send; and how they print what comes back.

// Each example uses a part of it.
#![allow(dead_code)]

use futures_util::StreamExt;
use llm_mock_upstream::{MockOptions, MockServer};
use llm_providers::{ChatStream, Client};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, ChatMessage, EmbeddingInput, EmbeddingsRequest,
    FunctionDefinition, ResponseFormat, Role, Tool,
};
use serde_json::json;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The model named by the first argument, else `default`.
pub fn model_arg(default: &str) -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| default.to_owned())
}

/// With `env` set, the `Client` from the environment (the real API); else one whose `prefix`
/// deployments reach an in-process mock of the native API with `offline_key`. The mock is
/// returned to be kept alive.
pub async fn client_or_mock(
    env: &str,
    prefix: &str,
    offline_key: &str,
) -> Result<(Client, Option<MockServer>)> {
    if std::env::var(env).is_ok() {
        return Ok((Client::from_env()?, None));
    }
    let mock = MockServer::start(MockOptions::default()).await?;
    let client = Client::builder()
        .api_key(prefix, offline_key)
        .api_base(prefix, format!("http://{}", mock.addr()))
        .build()?;
    Ok((client, Some(mock)))
}

/// A terse system prompt and a greeting.
pub fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(
        model,
        vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Say hello in five words."),
        ],
    )
}

/// `chat: <the answer's text>`.
pub fn print_chat(response: &ChatCompletionResponse) {
    println!(
        "chat: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );
}

/// `stream: <text as it arrives> [<prompt> + <completion> tokens]`.
pub async fn print_text_stream(mut stream: ChatStream) -> Result<()> {
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
    Ok(())
}

/// `get_weather(city)`.
pub fn weather_tool() -> Tool {
    Tool {
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
    }
}

/// A question [`weather_tool`] answers, offering it.
pub fn weather_question(model: &str) -> ChatCompletionRequest {
    let mut request = ChatCompletionRequest::new(
        model,
        vec![ChatMessage::text(
            Role::User,
            "What is the weather in Paris?",
        )],
    );
    request.tools = Some(vec![weather_tool()]);
    request
}

/// `streamed tool call: <name> <arguments as they arrive>`.
pub async fn print_tool_call_stream(mut stream: ChatStream) -> Result<()> {
    print!("streamed tool call: ");
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
    Ok(())
}

/// Asks `model` for a city in JSON mode and prints `json mode: <the answer>`.
pub async fn print_json_mode(client: &Client, model: &str) -> Result<()> {
    let mut request = ChatCompletionRequest::new(
        model,
        vec![ChatMessage::text(Role::User, "Name a city as JSON.")],
    );
    request.response_format = Some(ResponseFormat::JsonObject);
    let response = client.chat(request).await?;
    println!(
        "json mode: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );
    Ok(())
}

/// Two texts to embed with `model`, in 8 dimensions.
pub fn embeddings_request(model: &str) -> EmbeddingsRequest {
    EmbeddingsRequest {
        model: model.to_owned(),
        input: EmbeddingInput::Texts(vec!["hello".into(), "world".into()]),
        encoding_format: None,
        dimensions: Some(8),
        user: None,
        extra: serde_json::Map::new(),
    }
}

/// Embeds two texts with `model` and prints `embeddings: <n> vectors`.
pub async fn print_embeddings(client: &Client, model: &str) -> Result<()> {
    let embeddings = client.embeddings(embeddings_request(model)).await?;
    println!("embeddings: {} vectors", embeddings.data.len());
    Ok(())
}
