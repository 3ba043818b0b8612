//! OpenAI-format wire types shared by every layer of llm-gateway.
//!
//! This crate is the vocabulary of the project: the chat-completions request, response and
//! stream-chunk types, embeddings and model lists, [`Usage`], [`ModelRef`] (`provider/model`),
//! money in integer nano-dollars and the one classified [`Error`]. It does no IO: no tokio, no
//! HTTP client, no database. The optional `axum` feature adds `IntoResponse` for [`Error`].
//!
//! Types are tolerant on input (unknown fields from clients are kept in `extra` and forwarded;
//! unknown fields from providers are ignored) and strict on output (what we emit is what the
//! OpenAI spec describes).

pub mod assembly;
pub mod catalog;
mod chat_chunk;
mod chat_message;
mod chat_request;
mod chat_response;
mod de;
mod embeddings;
mod error;
#[cfg(feature = "axum")]
mod error_response;
mod model_ref;
mod models;
pub mod money;
mod tools;
mod usage;

pub use chat_chunk::{ChatCompletionChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta};
pub use chat_message::{
    CacheControl, ChatMessage, ContentPart, FileRef, ImageUrl, InputAudio, MessageContent, Role,
};
pub use chat_request::{
    ChatCompletionRequest, JsonSchemaFormat, ResponseFormat, Stop, StreamOptions,
};
pub use chat_response::{
    Annotation, ChatCompletionResponse, Choice, FinishReason, Logprobs, ResponseMessage,
    ThinkingBlock, TokenLogprob, TopLogprob, UrlCitation,
};
pub use embeddings::{
    Embedding, EmbeddingInput, EmbeddingUsage, EmbeddingVector, EmbeddingsRequest,
    EmbeddingsResponse, EncodingFormat,
};
pub use error::{Error, ErrorBody, ErrorDetail, ErrorKind, ErrorOrigin};
pub use model_ref::ModelRef;
pub use models::{Model, ModelList};
pub use tools::{
    FunctionCall, FunctionDefinition, FunctionName, NamedToolChoice, Tool, ToolCall, ToolChoice,
};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};

/// Current UNIX time in whole seconds, as OpenAI's `created` fields carry it.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Current UNIX time in milliseconds (budgets, expiries and spend rows count in these).
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
