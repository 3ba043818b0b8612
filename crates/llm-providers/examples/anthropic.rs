//! Calls Anthropic through the library, without the gateway: a chat, a stream with a tool
//! call, and JSON mode, all written in the OpenAI format.
//!
//! ```sh
//! cargo run -p llm-providers --example anthropic                # offline, against the mock
//! ANTHROPIC_API_KEY=sk-ant-... cargo run -p llm-providers --example anthropic -- claude-sonnet-4-5
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let model = common::model_arg("claude-sonnet-4-5");
    // Without a key the example runs against the mock of the Anthropic API (kept alive here).
    let (client, _mock) =
        common::client_or_mock("ANTHROPIC_API_KEY", "anthropic", "sk-ant-offline").await?;
    let model = format!("anthropic/{model}");

    let response = client.chat(common::hello(&model)).await?;
    common::print_chat(&response);
    if let Some(usage) = &response.usage {
        println!(
            "usage: {} prompt ({} cached) + {} completion tokens",
            usage.prompt_tokens,
            usage.cached_tokens(),
            usage.completion_tokens
        );
    }

    let stream = client.chat_stream(common::weather_question(&model)).await?;
    common::print_tool_call_stream(stream).await?;
    common::print_json_mode(&client, &model).await
}
