//! The [`Provider`] trait every wire family implements.

use futures_util::Stream;
use llm_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest,
    EmbeddingsResponse, Error,
};
use std::future::Future;
use std::pin::Pin;

/// A streamed chat completion in OpenAI chunks.
///
/// Usage is normalized whatever the upstream does: content chunks never carry `usage`, and when
/// the provider reported usage the stream ends with one usage-only chunk (`choices: []`). Whoever
/// shows the stream to a client drops that chunk if the client did not ask for it
/// (`stream_options.include_usage`). An upstream failure mid-way is an `Err` item, after which the
/// stream ends.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk, Error>> + Send>>;

/// One wire family, converting in four directions: request out, response in, chunk in, error in.
pub trait Provider: Send + Sync {
    /// A complete (non-streamed) chat completion.
    fn chat(
        &self,
        request: ChatCompletionRequest,
    ) -> impl Future<Output = Result<ChatCompletionResponse, Error>> + Send;

    /// A streamed chat completion. Resolves once the upstream accepted the request (so an
    /// upstream 4xx/5xx is an `Err` here, before anything was streamed).
    fn chat_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> impl Future<Output = Result<ChatStream, Error>> + Send;

    /// Embeddings for one or more inputs.
    fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> impl Future<Output = Result<EmbeddingsResponse, Error>> + Send;
}
