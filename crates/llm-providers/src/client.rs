//! [`Client`]: call any provider from a Rust application, no gateway needed.
//!
//! ```no_run
//! use llm_providers::Client;
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! # async fn run() -> Result<(), llm_types::Error> {
//! let client = Client::from_env()?; // keys from GROQ_API_KEY, OPENAI_API_KEY, ...
//! let request = ChatCompletionRequest::new(
//!     "groq/llama-3.1-8b-instant",
//!     vec![ChatMessage::text(Role::User, "Say hello")],
//! );
//! let response = client.chat(request).await?;
//! println!("{:?}", response.choices[0].message.content);
//! # Ok(()) }
//! ```

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::collections::HashMap;
use std::time::Duration;

use crate::any::AnyProvider;
use crate::http_client::build_http_client;
use crate::provider::{ChatStream, Provider};
use crate::target::{ProviderTarget, Secret};

/// A provider-agnostic client: the model string (`provider/model`) picks the provider.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    settings: HashMap<String, ProviderSettings>,
    timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
struct ProviderSettings {
    api_key: Option<Secret>,
    api_base: Option<String>,
}

impl Client {
    /// A client that takes each provider's key and endpoint from its usual environment
    /// variables (`OPENAI_API_KEY`, `GROQ_API_KEY`, `OPENAI_API_BASE`, ...) when it is used.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().build()
    }

    /// A client with explicit keys, endpoints or timeouts.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A complete chat completion.
    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<ChatCompletionResponse, Error> {
        self.provider(&request.model)?.chat(request).await
    }

    /// A streamed chat completion (see [`ChatStream`] for how usage arrives).
    pub async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        self.provider(&request.model)?.chat_stream(request).await
    }

    /// Embeddings.
    pub async fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, Error> {
        self.provider(&request.model)?.embeddings(request).await
    }

    fn provider(&self, model: &str) -> Result<AnyProvider, Error> {
        let provider = ModelRef::parse(model)?.provider;
        let settings = self.settings.get(provider).cloned().unwrap_or_default();
        let target = ProviderTarget {
            api_key: settings.api_key,
            api_base: settings.api_base,
            timeout: self.timeout,
            ..ProviderTarget::new(model)
        };
        AnyProvider::build(&target, &self.http)
    }
}

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    settings: HashMap<String, ProviderSettings>,
    timeout: Option<Duration>,
}

impl ClientBuilder {
    /// The key for `provider` (instead of its environment variable).
    pub fn api_key(mut self, provider: &str, key: impl Into<String>) -> Self {
        self.settings
            .entry(provider.to_owned())
            .or_default()
            .api_key = Some(Secret::new(key.into()));
        self
    }

    /// The endpoint for `provider` (a proxy, a self-hosted server, a test mock).
    pub fn api_base(mut self, provider: &str, base: impl Into<String>) -> Self {
        self.settings
            .entry(provider.to_owned())
            .or_default()
            .api_base = Some(base.into());
        self
    }

    /// Bounds every call (and every wait for a stream chunk).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The client, with its pooled HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            http: build_http_client()?,
            settings: self.settings,
            timeout: self.timeout,
        })
    }
}
