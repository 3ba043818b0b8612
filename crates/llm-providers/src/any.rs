//! [`AnyProvider`]: the closed set of wire families the system dispatches through, and
//! [`Family`], what each one is called and supports.

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};

use crate::anthropic::Anthropic;
use crate::azure::AzureOpenAi;
use crate::bedrock::Bedrock;
use crate::capabilities::Capabilities;
use crate::cohere::CohereChat;
use crate::gemini::Gemini;
use crate::hosts::{find_host, host_names};
use crate::mock::MockProvider;
use crate::ollama::OllamaChat;
use crate::openai_compat::OpenAiCompatible;
use crate::provider::{ChatStream, Provider};
use crate::target::ProviderTarget;
use crate::vertex::Vertex;

/// A wire family: one translation module. A new family is a new variant here and in
/// [`AnyProvider`]; every `match` then fails to compile until it is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    OpenAiCompatible,
    Mock,
    AzureOpenAi,
    CohereChat,
    OllamaChat,
    Anthropic,
    Bedrock,
    Gemini,
    Vertex,
}

impl Family {
    /// Every family, in the order of `docs/providers.md`.
    pub const ALL: &'static [Family] = &[
        Family::OpenAiCompatible,
        Family::Anthropic,
        Family::Gemini,
        Family::Vertex,
        Family::Bedrock,
        Family::AzureOpenAi,
        Family::CohereChat,
        Family::OllamaChat,
        Family::Mock,
    ];

    /// The family's name in docs, logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Family::OpenAiCompatible => "openai_compatible",
            Family::Mock => "mock",
            Family::AzureOpenAi => "azure_openai",
            Family::CohereChat => "cohere_chat",
            Family::OllamaChat => "ollama_chat",
            Family::Anthropic => "anthropic",
            Family::Bedrock => "bedrock",
            Family::Gemini => "gemini",
            Family::Vertex => "vertex_ai",
        }
    }

    /// Provider prefixes (`prefix/model`) this family serves; OpenAI-compatible hosts are the
    /// rows of [`crate::hosts`].
    pub fn prefixes(self) -> Vec<&'static str> {
        match self {
            Family::OpenAiCompatible => host_names().collect(),
            Family::Mock => vec!["mock"],
            Family::AzureOpenAi => vec!["azure"],
            Family::CohereChat => vec!["cohere_chat", "cohere"],
            Family::OllamaChat => vec!["ollama_chat"],
            Family::Anthropic => vec!["anthropic"],
            Family::Bedrock => vec!["bedrock"],
            Family::Gemini => vec!["gemini"],
            Family::Vertex => vec!["vertex_ai"],
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
            Family::AzureOpenAi => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
                embeddings: true,
            },
            Family::CohereChat => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
                embeddings: true,
            },
            Family::OllamaChat => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: false,
                embeddings: true,
            },
            Family::Anthropic => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
                embeddings: false,
            },
            Family::Bedrock => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
                embeddings: true,
            },
            Family::Gemini | Family::Vertex => Capabilities {
                tools: true,
                json_mode: true,
                vision: true,
                streaming_usage: true,
                reasoning: true,
                prompt_caching: true,
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
    AzureOpenAi(AzureOpenAi),
    CohereChat(CohereChat),
    OllamaChat(OllamaChat),
    Anthropic(Anthropic),
    Bedrock(Bedrock),
    Gemini(Gemini),
    Vertex(Vertex),
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
            Family::AzureOpenAi => {
                AnyProvider::AzureOpenAi(AzureOpenAi::new(target, http.clone())?)
            }
            Family::CohereChat => AnyProvider::CohereChat(CohereChat::new(target, http.clone())?),
            Family::OllamaChat => AnyProvider::OllamaChat(OllamaChat::new(target, http.clone())?),
            Family::Anthropic => AnyProvider::Anthropic(Anthropic::new(target, http.clone())?),
            Family::Bedrock => AnyProvider::Bedrock(Bedrock::new(target, http.clone())?),
            Family::Gemini => AnyProvider::Gemini(Gemini::new(target, http.clone())?),
            Family::Vertex => AnyProvider::Vertex(Vertex::new(target, http.clone())?),
        })
    }

    /// The wire family of this adapter.
    pub fn family(&self) -> Family {
        match self {
            AnyProvider::OpenAiCompatible(_) => Family::OpenAiCompatible,
            AnyProvider::Mock(_) => Family::Mock,
            AnyProvider::AzureOpenAi(_) => Family::AzureOpenAi,
            AnyProvider::CohereChat(_) => Family::CohereChat,
            AnyProvider::OllamaChat(_) => Family::OllamaChat,
            AnyProvider::Anthropic(_) => Family::Anthropic,
            AnyProvider::Bedrock(_) => Family::Bedrock,
            AnyProvider::Gemini(_) => Family::Gemini,
            AnyProvider::Vertex(_) => Family::Vertex,
        }
    }
}

impl Provider for AnyProvider {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.chat(request).await,
            AnyProvider::Mock(p) => p.chat(request).await,
            AnyProvider::AzureOpenAi(p) => p.chat(request).await,
            AnyProvider::CohereChat(p) => p.chat(request).await,
            AnyProvider::OllamaChat(p) => p.chat(request).await,
            AnyProvider::Anthropic(p) => p.chat(request).await,
            AnyProvider::Bedrock(p) => p.chat(request).await,
            AnyProvider::Gemini(p) => p.chat(request).await,
            AnyProvider::Vertex(p) => p.chat(request).await,
        }
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.chat_stream(request).await,
            AnyProvider::Mock(p) => p.chat_stream(request).await,
            AnyProvider::AzureOpenAi(p) => p.chat_stream(request).await,
            AnyProvider::CohereChat(p) => p.chat_stream(request).await,
            AnyProvider::OllamaChat(p) => p.chat_stream(request).await,
            AnyProvider::Anthropic(p) => p.chat_stream(request).await,
            AnyProvider::Bedrock(p) => p.chat_stream(request).await,
            AnyProvider::Gemini(p) => p.chat_stream(request).await,
            AnyProvider::Vertex(p) => p.chat_stream(request).await,
        }
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        match self {
            AnyProvider::OpenAiCompatible(p) => p.embeddings(request).await,
            AnyProvider::Mock(p) => p.embeddings(request).await,
            AnyProvider::AzureOpenAi(p) => p.embeddings(request).await,
            AnyProvider::CohereChat(p) => p.embeddings(request).await,
            AnyProvider::OllamaChat(p) => p.embeddings(request).await,
            AnyProvider::Anthropic(p) => p.embeddings(request).await,
            AnyProvider::Bedrock(p) => p.embeddings(request).await,
            AnyProvider::Gemini(p) => p.embeddings(request).await,
            AnyProvider::Vertex(p) => p.embeddings(request).await,
        }
    }
}
