//! Calls any provider through the library, without the gateway.
//!
//! ```sh
//! cargo run -p llm-providers --example chat                                   # offline mock
//! GROQ_API_KEY=... cargo run -p llm-providers --example chat -- groq/llama-3.1-8b-instant "Hi"
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

use futures_util::StreamExt;
use llm_providers::Client;
use llm_types::{ChatCompletionRequest, ChatMessage, Role};

#[tokio::main]
async fn main() -> Result<(), llm_types::Error> {
    let mut args = std::env::args().skip(1);
    let model = args.next().unwrap_or_else(|| "mock/demo".to_owned());
    let prompt = args
        .next()
        .unwrap_or_else(|| "Say hello in five words.".to_owned());
    let client = Client::from_env()?;

    let request = ChatCompletionRequest::new(&model, vec![ChatMessage::text(Role::User, &prompt)]);
    let response = client.chat(request.clone()).await?;
    println!(
        "{model}: {}",
        response.choices[0].message.content.as_deref().unwrap_or("")
    );
    if let Some(usage) = response.usage {
        println!(
            "usage: {} prompt + {} completion tokens",
            usage.prompt_tokens, usage.completion_tokens
        );
    }

    print!("streamed: ");
    let mut stream = client.chat_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            print!("{}", choice.delta.content.unwrap_or_default());
        }
    }
    println!();
    Ok(())
}
