//! Ollama's native API (`ollama_chat/<model>`): `POST /api/chat` with NDJSON streaming and
//! `POST /api/embed`.
//!
//! (`ollama/<model>` is Ollama's OpenAI-compatible `/v1` endpoint, a row of the host table.)
//! The request is translated in [`request`], answers and stream lines in [`response`]. A key
//! (`api_key` or `OLLAMA_API_KEY`) is sent as a bearer token, for ollama.com and servers behind
//! an authenticating proxy; a local server needs none.
//!
//! ```
//! use llm_providers::{Provider, ProviderTarget};
//! use llm_providers::ollama::OllamaChat;
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = llm_mock_upstream::MockServer::start(Default::default()).await?;
//! let target = ProviderTarget {
//!     api_base: Some(format!("http://{}", mock.addr())), // default: http://localhost:11434
//!     ..ProviderTarget::new("ollama_chat/llama3.2")
//! };
//! let ollama = OllamaChat::new(&target, llm_providers::http_client::build_http_client()?)?;
//! let request = ChatCompletionRequest::new("ollama_chat/llama3.2",
//!     vec![ChatMessage::text(Role::User, "Hello")]);
//! let response = ollama.chat(request).await?;
//! assert_eq!(response.choices[0].message.content.as_deref(), Some("echo: Hello"));
//! # Ok(()) }
//! ```

mod embed;
mod request;
mod response;

use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::sync::Arc;

use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::NdjsonFraming;
use crate::target::ProviderTarget;
use crate::upstream::{self, Transport};

/// Where a local Ollama listens.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";

/// One Ollama model, with its URLs and headers prebuilt.
#[derive(Debug, Clone)]
pub struct OllamaChat {
    model: Arc<str>,
    chat_url: Arc<str>,
    embed_url: Arc<str>,
    policy: ParamPolicy,
    transport: Transport,
}

impl OllamaChat {
    /// Builds the adapter: endpoint from `api_base`, `OLLAMA_API_BASE` or localhost.
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model = ModelRef::parse(&target.model)?.model;
        let base = target
            .api_base
            .clone()
            .or_else(|| upstream::env_var("OLLAMA_API_BASE"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = base.trim_end_matches('/');
        upstream::check_http_base(base)?;
        let key = target
            .api_key
            .as_ref()
            .map(|k| k.expose().to_owned())
            .or_else(|| upstream::env_var("OLLAMA_API_KEY"));
        let headers = upstream::bearer_json_headers(key.as_deref(), &target.extra_headers)?;
        Ok(OllamaChat {
            model: Arc::from(model),
            chat_url: Arc::from(format!("{base}/api/chat")),
            embed_url: Arc::from(format!("{base}/api/embed")),
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
            .map_err(|e| Error::internal(format!("cannot encode the Ollama request: {e}")))
    }
}

impl Provider for OllamaChat {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = self.body(&request, false)?;
        let bytes = self.transport.post(&self.chat_url, body).await?;
        response::translate(&bytes, &self.model)
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = self.body(&request, true)?;
        let response = self.transport.open_stream(&self.chat_url, body).await?;
        Ok(self.transport.drive(
            response,
            NdjsonFraming::default(),
            response::OllamaChunks::new(&self.model),
        ))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let body = embed::body(&self.model, &request)?;
        let bytes = self.transport.post(&self.embed_url, body).await?;
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
            (None, Some("http://localhost:11434/api/chat")),
            (Some("http://gpu:11434/"), Some("http://gpu:11434/api/chat")),
            (Some("gpu:11434"), None),
        ];
        for (base, expected) in cases {
            let target = ProviderTarget {
                api_base: base.map(str::to_owned),
                ..ProviderTarget::new("ollama_chat/llama3.2")
            };
            let built = OllamaChat::new(&target, http.clone());
            assert_eq!(built.as_ref().ok().map(|p| p.chat_url()), expected);
        }
    }
}
