//! The ONE adapter for every OpenAI-compatible host (OpenAI itself, Groq, Mistral, DeepSeek, xAI,
//! Together, Fireworks, OpenRouter, Perplexity, Cerebras, vLLM, LM Studio, Ollama `/v1`, NIM...).
//!
//! Hosts differ only in data (base URL, auth header, quirks), which comes from
//! [`crate::hosts`]. The request goes out as the client wrote it (unknown fields included) with
//! the deployment's model name; answers come back through the typed OpenAI structs, so what we
//! emit is strict whatever the host adds.

pub(crate) mod request;
pub mod stream;

use http::{HeaderName, header};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::sync::Arc;

use crate::hosts::{AuthStyle, Host, find_host, host_names};
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::SseFraming;
use crate::target::ProviderTarget;
use crate::upstream::{self, Transport};
use stream::OpenAiChunks;

/// A deployment on an OpenAI-compatible host, with everything prebuilt at configuration time.
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    host: &'static Host,
    upstream_model: Arc<str>,
    chat_url: Arc<str>,
    embeddings_url: Arc<str>,
    transport: Transport,
}

impl OpenAiCompatible {
    /// Builds the adapter for `target`, whose provider prefix must be a row of the host table.
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let host = find_host(model_ref.provider).ok_or_else(|| {
            Error::invalid_param(
                "model",
                format!(
                    "unknown provider `{}`; OpenAI-compatible providers are: {}",
                    model_ref.provider,
                    host_names().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let base = base_url(host, target)?;
        let api_key = target.api_key.clone().or_else(|| {
            host.api_key_env
                .and_then(upstream::env_var)
                .map(crate::target::Secret::new)
        });
        let mut headers = upstream::json_headers();
        if let Some(key) = &api_key {
            let (name, value) = match host.auth {
                AuthStyle::Bearer => (header::AUTHORIZATION, format!("Bearer {}", key.expose())),
                AuthStyle::Header(name) => (HeaderName::from_static(name), key.expose().to_owned()),
            };
            headers.insert(name, upstream::credential_value(&value)?);
        }
        if let Some(organization) = &target.organization {
            upstream::insert_header(&mut headers, "openai-organization", organization)?;
        }
        upstream::insert_extra_headers(&mut headers, &target.extra_headers)?;
        Ok(OpenAiCompatible {
            host,
            upstream_model: Arc::from(model_ref.model),
            chat_url: Arc::from(format!("{base}/chat/completions")),
            embeddings_url: Arc::from(format!("{base}/embeddings")),
            transport: Transport::new(target, http, headers),
        })
    }

    /// The host row this deployment uses.
    pub fn host(&self) -> &'static Host {
        self.host
    }

    /// The chat endpoint requests go to.
    pub fn chat_url(&self) -> &str {
        &self.chat_url
    }
}

fn base_url(host: &Host, target: &ProviderTarget) -> Result<String, Error> {
    let configured = target
        .api_base
        .clone()
        .or_else(|| host.api_base_env.and_then(upstream::env_var));
    let base = match (configured, host.default_base_url) {
        (Some(base), _) => base,
        (None, Some(default)) => default.to_owned(),
        (None, None) => {
            return Err(Error::invalid_param(
                "api_base",
                format!(
                    "provider `{}` has no default endpoint: set `api_base`",
                    host.name
                ),
            ));
        }
    };
    let mut base = base.trim_end_matches('/').to_owned();
    upstream::check_http_base(&base)?;
    if host.quirks.append_v1 && !base.ends_with("/v1") {
        base.push_str("/v1");
    }
    Ok(base)
}

impl Provider for OpenAiCompatible {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = request::chat_body(self.host, &self.upstream_model, request, false)?;
        let bytes = self.transport.post(&self.chat_url, body).await?;
        upstream::parse_body(&bytes, "chat completion")
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = request::chat_body(self.host, &self.upstream_model, request, true)?;
        let response = self.transport.open_stream(&self.chat_url, body).await?;
        Ok(self
            .transport
            .drive(response, SseFraming::new(), OpenAiChunks::default()))
    }

    async fn embeddings(
        &self,
        mut request: EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, Error> {
        request.model = self.upstream_model.to_string();
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))?;
        let bytes = self.transport.post(&self.embeddings_url, body).await?;
        upstream::parse_body(&bytes, "embeddings response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(model: &str, api_base: Option<&str>) -> ProviderTarget {
        ProviderTarget {
            api_base: api_base.map(str::to_owned),
            api_key: Some(crate::target::Secret::new("sk-test-key-123456")),
            ..ProviderTarget::new(model)
        }
    }

    #[test]
    fn endpoints_come_from_the_table_or_api_base() {
        let http = crate::http_client::build_http_client().unwrap();
        let cases = [
            (
                "openai/gpt-4o",
                None,
                Some("https://api.openai.com/v1/chat/completions"),
            ),
            (
                "groq/llama-3.1-8b-instant",
                None,
                Some("https://api.groq.com/openai/v1/chat/completions"),
            ),
            (
                "openai/gpt-4o",
                Some("http://127.0.0.1:9/v1/"),
                Some("http://127.0.0.1:9/v1/chat/completions"),
            ),
            (
                "ollama/llama3",
                Some("http://localhost:11434"),
                Some("http://localhost:11434/v1/chat/completions"),
            ),
            ("hosted_vllm/meta/llama", None, None),
            (
                "hosted_vllm/meta/llama",
                Some("http://gpu:8000/v1"),
                Some("http://gpu:8000/v1/chat/completions"),
            ),
            ("nosuch/model", None, None),
            ("openai/gpt-4o", Some("ftp://x"), None),
        ];
        for (model, base, expected) in cases {
            let built = OpenAiCompatible::new(&target(model, base), http.clone());
            assert_eq!(
                built.as_ref().ok().map(|p| p.chat_url()),
                expected,
                "{model} {base:?}"
            );
        }
    }

    #[test]
    fn the_key_header_is_sensitive_and_never_debug_printed() {
        let built = OpenAiCompatible::new(
            &target("openai/gpt-4o", None),
            crate::http_client::build_http_client().unwrap(),
        )
        .unwrap();
        let auth = built.transport.headers.get(header::AUTHORIZATION).unwrap();
        assert!(auth.is_sensitive());
        assert!(!format!("{built:?}").contains("sk-test-key-123456"));
    }
}
