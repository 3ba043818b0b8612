//! Calls a local Ollama through its native /api/chat through the library, without the gateway: a chat, a stream and
//! embeddings, all written in the OpenAI format (model strings as LiteLLM writes them).
//!
//! ```sh
//! cargo run -p llm-providers --example ollama                # offline, against the mock
//! OLLAMA_API_BASE=http://localhost:11434 cargo run -p llm-providers --example ollama -- llama3.2
//! ```
#![allow(clippy::print_stdout)] // an example prints its answer

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let model = common::model_arg("llama3.2");
    // Without `OLLAMA_API_BASE` the example runs against the mock of the native API (kept alive here).
    let (client, _mock) =
        common::client_or_mock("OLLAMA_API_BASE", "ollama_chat", "offline-key").await?;
    let request = common::hello(&format!("ollama_chat/{model}"));
    common::print_chat(&client.chat(request.clone()).await?);
    common::print_text_stream(client.chat_stream(request).await?).await?;
    common::print_embeddings(&client, "ollama_chat/embeddinggemma").await
}
