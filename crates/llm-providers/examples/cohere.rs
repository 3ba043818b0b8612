//! Calls Cohere v2 chat through the library, without the gateway: a chat, a stream and
//! embeddings, all written in the OpenAI format (model strings as LiteLLM writes them).
//!
//! ```sh
//! cargo run -p llm-providers --example cohere                # offline, against the mock
//! COHERE_API_KEY=... cargo run -p llm-providers --example cohere -- command-a-03-2025
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let model = common::model_arg("command-a-03-2025");
    // Without `COHERE_API_KEY` the example runs against the mock of the native API (kept alive here).
    let (client, _mock) =
        common::client_or_mock("COHERE_API_KEY", "cohere_chat", "offline-key").await?;
    let request = common::hello(&format!("cohere_chat/{model}"));
    common::print_chat(&client.chat(request.clone()).await?);
    common::print_text_stream(client.chat_stream(request).await?).await?;
    common::print_embeddings(&client, "cohere_chat/embed-v4.0").await
}
