//! Calls Azure OpenAI (a deployment) through the library, without the gateway: a chat, a stream and
//! embeddings, all written in the OpenAI format (model strings as LiteLLM writes them).
//!
//! ```sh
//! cargo run -p llm-providers --example azure                # offline, against the mock
//! AZURE_API_KEY=... AZURE_API_BASE=https://<resource>.openai.azure.com cargo run -p llm-providers --example azure -- <deployment>
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let model = common::model_arg("gpt4o-prod");
    // Without `AZURE_API_KEY` the example runs against the mock of the native API (kept alive here).
    let (client, _mock) = common::client_or_mock("AZURE_API_KEY", "azure", "offline-key").await?;
    let request = common::hello(&format!("azure/{model}"));
    common::print_chat(&client.chat(request.clone()).await?);
    common::print_text_stream(client.chat_stream(request).await?).await?;
    common::print_embeddings(&client, "azure/embed-prod").await
}
