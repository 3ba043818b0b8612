//! [`AnyProvider`]: the closed set of wire families the system dispatches through.

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};

use crate::hosts::find_host;
use crate::mock::MockProvider;
use crate::openai_compat::OpenAiCompatible;
use crate::provider::{ChatStream, Provider};
use crate::target::ProviderTarget;

/// One deployment's adapter. A new wire family is a new variant: every `match` below (and
/// in the capability table to come) then fails to compile until it is decided.
#[derive(Debug, Clone)]
pub enum AnyProvider {
    OpenAiCompatible(OpenAiCompatible),
    Mock(MockProvider),
}

impl AnyProvider {
    /// Builds the adapter for a target, choosing the family by the provider prefix.
    pub fn build(target: &ProviderTarget, http: &reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        match model_ref.provider {
            "mock" => Ok(AnyProvider::Mock(MockProvider::new(target)?)),
            name if find_host(name).is_some() => Ok(AnyProvider::OpenAiCompatible(
                OpenAiCompatible::new(target, http.clone())?,
            )),
            _ => Err(Error::invalid_param(
                "model",
                format!(
                    "unknown provider `{}` in `{}`; known providers: mock, {}",
                    model_ref.provider,
                    target.model,
                    crate::hosts::host_names().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// The wire family's name, for logs and metrics.
    pub fn family(&self) -> &'static str {
        match self {
            AnyProvider::OpenAiCompatible(_) => "openai_compatible",
            AnyProvider::Mock(_) => "mock",
        }
    }
}

impl Provider for AnyProvider {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.chat(request).await,
            AnyProvider::Mock(p) => p.chat(request).await,
        }
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.chat_stream(request).await,
            AnyProvider::Mock(p) => p.chat_stream(request).await,
        }
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.embeddings(request).await,
            AnyProvider::Mock(p) => p.embeddings(request).await,
        }
    }
}
