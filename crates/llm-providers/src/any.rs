//! [`AnyProvider`]: the closed set of wire families the system dispatches through, and
//! [`Family`], what each one is called and supports.

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};

use crate::capabilities::Capabilities;
use crate::hosts::{find_host, host_names};
use crate::mock::MockProvider;
use crate::openai_compat::OpenAiCompatible;
use crate::provider::{ChatStream, Provider};
use crate::target::ProviderTarget;

/// A wire family: one translation module. A new family is a new variant here and in
/// [`AnyProvider`]; every `match` then fails to compile until it is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    OpenAiCompatible,
    Mock,
}

impl Family {
    /// Every family, in the order of `docs/providers.md`.
    pub const ALL: &'static [Family] = &[Family::OpenAiCompatible, Family::Mock];

    /// The family's name in docs, logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Family::OpenAiCompatible => "openai_compatible",
            Family::Mock => "mock",
        }
    }

    /// Provider prefixes (`prefix/model`) this family serves; OpenAI-compatible hosts are the
    /// rows of [`crate::hosts`].
    pub fn prefixes(self) -> Vec<&'static str> {
        match self {
            Family::OpenAiCompatible => host_names().collect(),
            Family::Mock => vec!["mock"],
        }
    }

    /// What the family translates (the capability matrix).
    pub fn capabilities(self) -> Capabilities {
        match self {
            Family::OpenAiCompatible => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
                embeddings: true,
            },
            Family::Mock => Capabilities {
                tools: false,
                json_mode: false,
                vision: false,
                streaming_usage: true,
                reasoning: false,
                prompt_caching: false,
                embeddings: true,
            },
        }
    }

    /// The family serving a provider prefix.
    pub fn for_provider(provider: &str) -> Option<Family> {
        if find_host(provider).is_some() {
            return Some(Family::OpenAiCompatible);
        }
        Family::ALL
            .iter()
            .copied()
            .find(|f| *f != Family::OpenAiCompatible && f.prefixes().contains(&provider))
    }
}

/// Every provider prefix we know, for error messages.
pub fn provider_names() -> Vec<&'static str> {
    Family::ALL.iter().flat_map(|f| f.prefixes()).collect()
}

/// One deployment's adapter.
#[derive(Debug, Clone)]
pub enum AnyProvider {
    OpenAiCompatible(OpenAiCompatible),
    Mock(MockProvider),
}

impl AnyProvider {
    /// Builds the adapter for a target, choosing the family by the provider prefix.
    pub fn build(target: &ProviderTarget, http: &reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let family = Family::for_provider(model_ref.provider).ok_or_else(|| {
            Error::invalid_param(
                "model",
                format!(
                    "unknown provider `{}` in `{}`; known providers: {}",
                    model_ref.provider,
                    target.model,
                    provider_names().join(", ")
                ),
            )
        })?;
        Ok(match family {
            Family::OpenAiCompatible => {
                AnyProvider::OpenAiCompatible(OpenAiCompatible::new(target, http.clone())?)
            }
            Family::Mock => AnyProvider::Mock(MockProvider::new(target)?),
        })
    }

    /// The wire family of this adapter.
    pub fn family(&self) -> Family {
        match self {
            AnyProvider::OpenAiCompatible(_) => Family::OpenAiCompatible,
            AnyProvider::Mock(_) => Family::Mock,
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
