//! Cohere v2 chat (`cohere_chat/<model>` and `cohere/<model>`): `POST /v2/chat` with Cohere's
//! named SSE events, and `POST /v2/embed`.
//!
//! The request is translated in [`request`], answers in [`response`], stream events in
//! [`stream`]. Errors are `{"message": ...}` bodies, read by the shared parser and then
//! refined: Cohere's "too many tokens" is a context-window error, and its 498 an invalid key.
//!
//! ```
//! use llm_providers::{Provider, ProviderTarget, Secret};
//! use llm_providers::cohere::CohereChat;
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = llm_mock_upstream::MockServer::start(Default::default()).await?;
//! let target = ProviderTarget {
//!     api_base: Some(format!("http://{}", mock.addr())), // default: https://api.cohere.com
//!     api_key: Some(Secret::new("my-cohere-key")),
//!     ..ProviderTarget::new("cohere_chat/command-a-03-2025")
//! };
//! let cohere = CohereChat::new(&target, llm_providers::http_client::build_http_client()?)?;
//! let request = ChatCompletionRequest::new("cohere_chat/command-a-03-2025",
//!     vec![ChatMessage::text(Role::User, "Hello")]);
//! let response = cohere.chat(request).await?;
//! assert_eq!(response.choices[0].message.content.as_deref(), Some("echo: Hello"));
//! # Ok(()) }
//! ```

mod embed;
#[cfg(test)]
mod recorded;
mod request;
mod response;
mod stream;

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ModelRef,
};
use std::sync::Arc;

use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::SseFraming;
use crate::target::ProviderTarget;
use crate::upstream::{self, Transport};

/// Cohere's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// One Cohere model, with its URLs and headers prebuilt.
#[derive(Debug, Clone)]
pub struct CohereChat {
    model: Arc<str>,
    chat_url: Arc<str>,
    embed_url: Arc<str>,
    policy: ParamPolicy,
    transport: Transport,
}

impl CohereChat {
    /// Builds the adapter: endpoint from `api_base`, `COHERE_API_BASE` or api.cohere.com; key
    /// from `api_key`, `COHERE_API_KEY` or `CO_API_KEY` (the SDK's name).
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model = ModelRef::parse(&target.model)?.model;
        let base = target
            .api_base
            .clone()
            .or_else(|| upstream::env_var("COHERE_API_BASE"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        // LiteLLM users sometimes write the versioned root.
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix("/v2").unwrap_or(base);
        upstream::check_http_base(base)?;
        let key = target
            .api_key
            .as_ref()
            .map(|k| k.expose().to_owned())
            .or_else(|| upstream::env_var("COHERE_API_KEY"))
            .or_else(|| upstream::env_var("CO_API_KEY"));
        let headers = upstream::bearer_json_headers(key.as_deref(), &target.extra_headers)?;
        Ok(CohereChat {
            model: Arc::from(model),
            chat_url: Arc::from(format!("{base}/v2/chat")),
            embed_url: Arc::from(format!("{base}/v2/embed")),
            policy: target.param_policy(),
            transport: Transport::new(target, http, headers),
        })
    }

    /// The chat endpoint requests go to.
    pub fn chat_url(&self) -> &str {
        &self.chat_url
    }

    fn body(&self, request: &ChatCompletionRequest, stream: bool) -> Result<Vec<u8>, Error> {
        let policy = self.policy.for_request(request);
        let body = request::build(&self.model, request, &policy, stream)?;
        serde_json::to_vec(&body)
            .map_err(|e| Error::internal(format!("cannot encode the Cohere request: {e}")))
    }
}

/// Refines the generic mapping of an upstream error with what Cohere's statuses and messages
/// mean.
fn refine(mut error: Error) -> Error {
    let message = error.message.to_ascii_lowercase();
    if let llm_types::ErrorOrigin::Provider { status: Some(498) } = error.origin {
        error.kind = ErrorKind::Authentication;
    } else if error.kind == ErrorKind::InvalidRequest
        && (message.contains("too many tokens") || message.contains("context length"))
    {
        error.kind = ErrorKind::ContextLengthExceeded;
        error.code = Some("context_length_exceeded".into());
    }
    error
}

impl Provider for CohereChat {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = self.body(&request, false)?;
        let bytes = self
            .transport
            .post(&self.chat_url, body)
            .await
            .map_err(refine)?;
        response::translate(&bytes, &self.model)
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = self.body(&request, true)?;
        let response = self
            .transport
            .open_stream(&self.chat_url, body)
            .await
            .map_err(refine)?;
        Ok(self.transport.drive(
            response,
            SseFraming::new(),
            stream::CohereChunks::new(&self.model),
        ))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let body = embed::body(&self.model, &request)?;
        let bytes = self
            .transport
            .post(&self.embed_url, body)
            .await
            .map_err(refine)?;
        embed::translate(&bytes, &self.model, request.encoding_format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_api_base_or_the_default() {
        let http = crate::http_client::build_http_client().unwrap();
        let cases = [
            (None, Some("https://api.cohere.com/v2/chat")),
            (
                Some("http://proxy:8080/v2/"),
                Some("http://proxy:8080/v2/chat"),
            ),
            (Some("proxy"), None),
        ];
        for (base, expected) in cases {
            let target = ProviderTarget {
                api_base: base.map(str::to_owned),
                ..ProviderTarget::new("cohere_chat/command-a-03-2025")
            };
            let built = CohereChat::new(&target, http.clone());
            assert_eq!(built.as_ref().ok().map(|p| p.chat_url()), expected);
        }
    }

    #[test]
    fn refines_cohere_errors() {
        let cases = [
            (
                400,
                "too many tokens: total number of tokens in the prompt cannot exceed 4081",
                ErrorKind::ContextLengthExceeded,
            ),
            (498, "invalid api token", ErrorKind::Authentication),
            (
                400,
                "invalid request: message must not be empty",
                ErrorKind::InvalidRequest,
            ),
            (429, "You are using a Trial key", ErrorKind::RateLimited),
        ];
        for (status, message, kind) in cases {
            let error = refine(upstream::error_from_parts(status, message, None, None));
            assert_eq!(error.kind, kind, "{message}");
        }
    }
}
