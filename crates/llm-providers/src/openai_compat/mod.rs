//! The ONE adapter for every OpenAI-compatible host (OpenAI itself, Groq, Mistral, DeepSeek, xAI,
//! Together, Fireworks, OpenRouter, Perplexity, Cerebras, vLLM, LM Studio, Ollama `/v1`, NIM...).
//!
//! Hosts differ only in data (base URL, auth header, quirks), which comes from
//! [`crate::hosts`]. The request goes out as the client wrote it (unknown fields included) with
//! the deployment's model name; answers come back through the typed OpenAI structs, so what we
//! emit is strict whatever the host adds.

pub(crate) mod request;
pub mod stream;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::sync::Arc;
use std::time::Duration;

use crate::hosts::{AuthStyle, Host, find_host, host_names};
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::{SseFraming, drive};
use crate::target::ProviderTarget;
use crate::upstream;
use stream::OpenAiChunks;

/// A deployment on an OpenAI-compatible host, with everything prebuilt at configuration time.
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    host: &'static Host,
    upstream_model: Arc<str>,
    chat_url: Arc<str>,
    embeddings_url: Arc<str>,
    headers: HeaderMap,
    timeout: Duration,
    stream_timeout: Duration,
    http: reqwest::Client,
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
                .and_then(|name| std::env::var(name).ok())
                .filter(|key| !key.is_empty())
                .map(crate::target::Secret::new)
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(key) = &api_key {
            let (name, value) = match host.auth {
                AuthStyle::Bearer => (header::AUTHORIZATION, format!("Bearer {}", key.expose())),
                AuthStyle::Header(name) => (HeaderName::from_static(name), key.expose().to_owned()),
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                Error::invalid_param(
                    "api_key",
                    "the API key contains characters not allowed in an HTTP header",
                )
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if let Some(organization) = &target.organization {
            insert_header(&mut headers, "openai-organization", organization)?;
        }
        for (name, value) in &target.extra_headers {
            insert_header(&mut headers, name, value)?;
        }
        Ok(OpenAiCompatible {
            host,
            upstream_model: Arc::from(model_ref.model),
            chat_url: Arc::from(format!("{base}/chat/completions")),
            embeddings_url: Arc::from(format!("{base}/embeddings")),
            headers,
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
            http,
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
    let configured = target.api_base.clone().or_else(|| {
        host.api_base_env
            .and_then(|name| std::env::var(name).ok())
            .filter(|base| !base.is_empty())
    });
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
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(Error::invalid_param(
            "api_base",
            format!("`api_base` must start with http:// or https://, got `{base}`"),
        ));
    }
    if host.quirks.append_v1 && !base.ends_with("/v1") {
        base.push_str("/v1");
    }
    Ok(base)
}

fn insert_header(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), Error> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::invalid_param("extra_headers", format!("invalid header name `{name}`"))
    })?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_param(
            "extra_headers",
            format!("invalid value for header `{name}`"),
        )
    })?;
    headers.insert(name, value);
    Ok(())
}

impl Provider for OpenAiCompatible {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = request::chat_body(self.host, &self.upstream_model, request, false)?;
        let call = upstream::post_json(&self.http, &self.chat_url, &self.headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
        upstream::parse_body(&bytes, "chat completion")
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = request::chat_body(self.host, &self.upstream_model, request, true)?;
        let send = upstream::send(&self.http, &self.chat_url, &self.headers, body);
        let response = upstream::within(self.stream_timeout, send).await?;
        Ok(drive(
            response,
            SseFraming::new(),
            OpenAiChunks::default(),
            self.stream_timeout,
        ))
    }

    async fn embeddings(
        &self,
        mut request: EmbeddingsRequest,
    ) -> Result<EmbeddingsResponse, Error> {
        request.model = self.upstream_model.to_string();
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))?;
        let call = upstream::post_json(&self.http, &self.embeddings_url, &self.headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
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
        let auth = built.headers.get(header::AUTHORIZATION).unwrap();
        assert!(auth.is_sensitive());
        assert!(!format!("{built:?}").contains("sk-test-key-123456"));
    }
}
