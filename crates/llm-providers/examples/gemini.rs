//! Calls Gemini (Google AI Studio) through the library, without the gateway: a chat, a stream
//! with a tool call, JSON mode and embeddings, all written in the OpenAI format.
//!
//! ```sh
//! cargo run -p llm-providers --example gemini                     # offline, against the mock
//! GEMINI_API_KEY=AIza... cargo run -p llm-providers --example gemini -- gemini-2.5-flash
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let model = common::model_arg("gemini-2.5-flash");
    // Without a key the example runs against the mock of the Gemini API (kept alive here).
    let (client, _mock) =
        common::client_or_mock("GEMINI_API_KEY", "gemini", "AIza-offline").await?;
    let model = format!("gemini/{model}");

    let response = client.chat(common::hello(&model)).await?;
    common::print_chat(&response);
    if let Some(usage) = &response.usage {
        println!(
            "usage: {} prompt + {} completion tokens",
            usage.prompt_tokens, usage.completion_tokens
        );
    }

    let stream = client.chat_stream(common::weather_question(&model)).await?;
    common::print_tool_call_stream(stream).await?;
    common::print_json_mode(&client, &model).await?;
    common::print_embeddings(&client, "gemini/text-embedding-004").await
}
