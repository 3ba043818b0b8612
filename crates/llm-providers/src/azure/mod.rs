//! Azure OpenAI (`azure/<deployment>`): OpenAI's wire format behind deployment URLs.
//!
//! The body is OpenAI's, so requests are built by [`crate::openai_compat::request`] and streams
//! translated by its [`OpenAiChunks`]; what differs is the URL
//! (`{api_base}/openai/deployments/{deployment}/chat/completions?api-version=...`), the
//! credentials (`api-key` header, or an Azure AD bearer token) and the errors (Azure's content
//! filter answers 400 `content_filter`, which becomes OpenAI's `content_policy_violation`).
//! Azure's extras in answers (`prompt_filter_results`, `content_filter_results`, a first stream
//! chunk with no choices) are tolerated and dropped by the typed OpenAI structs.
//!
//! ```
//! use llm_providers::{Provider, ProviderTarget, Secret};
//! use llm_providers::azure::AzureOpenAi;
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mock = llm_mock_upstream::MockServer::start(Default::default()).await?;
//! # let resource = format!("http://{}", mock.addr()); // https://<resource>.openai.azure.com
//! let target = ProviderTarget {
//!     api_base: Some(resource),
//!     api_key: Some(Secret::new("my-azure-key")),
//!     ..ProviderTarget::new("azure/my-gpt-4o-deployment")
//! };
//! let azure = AzureOpenAi::new(&target, llm_providers::http_client::build_http_client()?)?;
//! assert!(azure.chat_url().ends_with(
//!     "/openai/deployments/my-gpt-4o-deployment/chat/completions?api-version=2024-10-21"));
//! let request = ChatCompletionRequest::new("azure/my-gpt-4o-deployment",
//!     vec![ChatMessage::text(Role::User, "Hello")]);
//! let response = azure.chat(request).await?;
//! assert_eq!(response.choices[0].message.content.as_deref(), Some("echo: Hello"));
//! # Ok(()) }
//! ```

mod error;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::sync::Arc;
use std::time::Duration;

use crate::hosts::{AuthStyle, Host, Quirks};
use crate::openai_compat::request::chat_body;
use crate::openai_compat::stream::OpenAiChunks;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::{SseFraming, drive};
use crate::target::{ProviderTarget, Secret};
use crate::upstream;

/// The API version when neither the deployment nor `AZURE_API_VERSION` names one: the GA
/// version the official SDK's reference requests use.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Azure as an OpenAI-compatible host row: the quirk flags drive [`chat_body`]. Azure
/// understands `stream_options.include_usage` and `max_completion_tokens` since 2024-09.
static AZURE_HOST: Host = Host {
    name: "azure",
    default_base_url: None,
    api_key_env: Some("AZURE_API_KEY"),
    api_base_env: Some("AZURE_API_BASE"),
    auth: AuthStyle::Header("api-key"),
    key_optional: false,
    quirks: Quirks {
        stream_usage_option: true,
        max_tokens_only: false,
        append_v1: false,
    },
};

/// One Azure OpenAI deployment, with its URLs and headers prebuilt.
#[derive(Debug, Clone)]
pub struct AzureOpenAi {
    deployment: Arc<str>,
    chat_url: Arc<str>,
    embeddings_url: Arc<str>,
    headers: HeaderMap,
    timeout: Duration,
    stream_timeout: Duration,
    http: reqwest::Client,
}

impl AzureOpenAi {
    /// Builds the adapter for `azure/<deployment>`: endpoint from `api_base` or
    /// `AZURE_API_BASE`, version from `api_version` or `AZURE_API_VERSION`, key from `api_key`
    /// or `AZURE_API_KEY` (else a bearer token from `azure_ad_token` or `AZURE_AD_TOKEN`).
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let deployment = model_ref.model;
        let base = target
            .api_base
            .clone()
            .or_else(|| env("AZURE_API_BASE"))
            .ok_or_else(|| {
                Error::invalid_param(
                    "api_base",
                    "Azure OpenAI needs the resource endpoint: set `api_base` \
                     (https://<resource>.openai.azure.com) or AZURE_API_BASE",
                )
            })?;
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::invalid_param(
                "api_base",
                format!("`api_base` must start with http:// or https://, got `{base}`"),
            ));
        }
        let version = target
            .api_version
            .clone()
            .or_else(|| env("AZURE_API_VERSION"))
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        let url = |operation: &str| -> Arc<str> {
            Arc::from(format!(
                "{base}/openai/deployments/{deployment}/{operation}?api-version={version}"
            ))
        };
        Ok(AzureOpenAi {
            deployment: Arc::from(deployment),
            chat_url: url("chat/completions"),
            embeddings_url: url("embeddings"),
            headers: headers(target, env)?,
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
            http,
        })
    }

    /// The chat endpoint requests go to.
    pub fn chat_url(&self) -> &str {
        &self.chat_url
    }

    /// The embeddings endpoint.
    pub fn embeddings_url(&self) -> &str {
        &self.embeddings_url
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `api-key` when there is a key, else `Authorization: Bearer` with an Azure AD token; then
/// the deployment's extra headers.
fn headers(
    target: &ProviderTarget,
    env: impl Fn(&str) -> Option<String>,
) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let key = target
        .api_key
        .clone()
        .or_else(|| env("AZURE_API_KEY").map(Secret::new));
    let credential = match key {
        Some(key) => Some((HeaderName::from_static("api-key"), key.expose().to_owned())),
        None => target
            .azure_ad_token
            .as_ref()
            .map(|token| token.expose().to_owned())
            .or_else(|| env("AZURE_AD_TOKEN"))
            .map(|token| (header::AUTHORIZATION, format!("Bearer {token}"))),
    };
    if let Some((name, value)) = credential {
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::invalid_param(
                "api_key",
                "the Azure credential contains characters not allowed in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    for (name, value) in &target.extra_headers {
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
    }
    Ok(headers)
}

impl Provider for AzureOpenAi {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = chat_body(&AZURE_HOST, &self.deployment, request, false)?;
        let call = error::post_json(&self.http, &self.chat_url, &self.headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
        upstream::parse_body(&bytes, "chat completion")
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = chat_body(&AZURE_HOST, &self.deployment, request, true)?;
        let send = error::send(&self.http, &self.chat_url, &self.headers, body);
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
        request.model = self.deployment.to_string();
        let body = serde_json::to_vec(&request)
            .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))?;
        let call = error::post_json(&self.http, &self.embeddings_url, &self.headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
        upstream::parse_body(&bytes, "embeddings response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Azure's stream shape (from its docs and recorded traffic): a first chunk with only
    /// the prompt's filter results, filter results on every choice, and a completion the
    /// output filter stopped (`finish_reason: content_filter`), which passes through.
    #[tokio::test]
    async fn azure_stream_extras_are_tolerated_and_content_filter_passes_through() {
        use futures_util::StreamExt;
        let frames = [
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#,
            r#"{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1731000000,"id":"chatcmpl-A","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}"#,
            r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1731000000,"id":"chatcmpl-A","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}"#,
            r#"{"choices":[{"content_filter_results":{"violence":{"filtered":true,"severity":"high"}},"delta":{},"finish_reason":"content_filter","index":0,"logprobs":null}],"created":1731000000,"id":"chatcmpl-A","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65"}"#,
            r#"{"choices":[],"created":1731000000,"id":"chatcmpl-A","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_04751d0b65","usage":{"completion_tokens":1,"prompt_tokens":9,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":4}}}"#,
            "[DONE]",
        ];
        let body: String = frames.iter().map(|f| format!("data: {f}\n\n")).collect();
        let bytes = futures_util::stream::iter([Ok(bytes::Bytes::from(body))]).boxed();
        let chunks: Vec<_> = crate::stream_driver::drive_bytes(
            bytes,
            SseFraming::new(),
            OpenAiChunks::default(),
            Duration::from_secs(5),
        )
        .collect()
        .await;
        let chunks: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
        assert_eq!(chunks.len(), 4, "{chunks:#?}");
        assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hi"));
        assert_eq!(
            chunks[2].choices[0].finish_reason,
            Some(llm_types::FinishReason::ContentFilter)
        );
        let usage = chunks[3].usage.as_ref().unwrap();
        assert_eq!((usage.prompt_tokens, usage.cached_tokens()), (9, 4));
        let text = serde_json::to_string(&chunks).unwrap();
        assert!(!text.contains("content_filter_results") && !text.contains("prompt_filter"));
    }

    #[test]
    fn the_credential_is_a_key_or_an_azure_ad_token() {
        let lookup = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let keyed = ProviderTarget {
            api_key: Some(Secret::new("k1")),
            ..ProviderTarget::new("azure/d")
        };
        let bare = ProviderTarget::new("azure/d");
        let with_token = ProviderTarget {
            azure_ad_token: Some(Secret::new("cfg")),
            ..ProviderTarget::new("azure/d")
        };
        type Case<'a> = (
            &'a ProviderTarget,
            &'static [(&'static str, &'static str)],
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: [Case; 5] = [
            (
                &with_token,
                &[("AZURE_AD_TOKEN", "env")],
                None,
                Some("Bearer cfg"),
            ),
            (&keyed, &[("AZURE_AD_TOKEN", "t")], Some("k1"), None),
            (
                &bare,
                &[("AZURE_API_KEY", "k2"), ("AZURE_AD_TOKEN", "t")],
                Some("k2"),
                None,
            ),
            (
                &bare,
                &[("AZURE_AD_TOKEN", "tok")],
                None,
                Some("Bearer tok"),
            ),
            (&bare, &[], None, None),
        ];
        for (target, vars, key, bearer) in cases {
            let built = headers(target, lookup(vars)).unwrap();
            let get = |name: &str| built.get(name).map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(get("api-key").as_deref(), key, "{vars:?}");
            assert_eq!(get("authorization").as_deref(), bearer, "{vars:?}");
        }
    }

    #[test]
    fn urls_and_credentials_come_from_the_target() {
        let http = crate::http_client::build_http_client().unwrap();
        let cases = [
            (
                "azure/gpt4o-prod",
                Some("https://res.openai.azure.com/"),
                None,
                Some(
                    "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
                ),
            ),
            (
                "azure/emb",
                Some("http://127.0.0.1:9"),
                Some("2025-01-01-preview"),
                Some(
                    "http://127.0.0.1:9/openai/deployments/emb/chat/completions?api-version=2025-01-01-preview",
                ),
            ),
            ("azure/x", Some("ftp://x"), None, None),
        ];
        for (model, base, version, expected) in cases {
            let target = ProviderTarget {
                api_base: base.map(str::to_owned),
                api_version: version.map(str::to_owned),
                api_key: Some(Secret::new("azure-key-123456")),
                ..ProviderTarget::new(model)
            };
            let built = AzureOpenAi::new(&target, http.clone());
            assert_eq!(
                built.as_ref().ok().map(|p| p.chat_url()),
                expected,
                "{model}"
            );
            if let Ok(built) = built {
                let key = built.headers.get("api-key").unwrap();
                assert!(key.is_sensitive());
                assert_eq!(key, "azure-key-123456");
                assert!(!format!("{built:?}").contains("azure-key-123456"));
                assert!(built.embeddings_url().contains("/embeddings?api-version="));
            }
        }
    }
}
