//! Provider adapters for llm-gateway: one module per wire family, behind one trait.
//!
//! - [`Provider`] is what every adapter implements: chat, streamed chat and embeddings in the
//!   OpenAI format, translated to and from the provider's own wire format.
//! - [`AnyProvider`] is the closed enum the rest of the system dispatches through: adding a wire
//!   family is adding a variant, and the compiler lists every place that must decide about it.
//! - [`openai_compat`] serves every OpenAI-compatible host (OpenAI, Groq, Mistral, DeepSeek, ...)
//!   from ONE adapter driven by the [`hosts`] table.
//! - [`mock`] answers deterministically without any network, for demos and tests.
//! - [`Client`] is the facade a Rust application uses without the gateway.

pub mod anthropic;
mod any;
pub mod azure;
pub mod bedrock;
pub mod capabilities;
mod client;
pub mod cohere;
pub mod embedding;
pub mod gemini;
pub mod hosts;
pub mod http_client;
pub mod mock;
pub mod ollama;
pub mod openai_compat;
pub mod params;
mod provider;
mod redact;
pub mod sse;
pub mod stream_driver;
mod target;
pub mod trace_headers;
pub mod upstream;
pub mod vertex;

pub use any::{AnyProvider, Family, provider_names};
pub use client::{Client, ClientBuilder};
pub use provider::{ChatStream, Provider};
pub use redact::redact_secrets;
pub use target::{AwsSettings, DEFAULT_TIMEOUT, ProviderTarget, Secret, VertexSettings};
