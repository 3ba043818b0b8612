//! Anthropic Messages API (`anthropic/<model>`): `POST {api_base}/v1/messages` with
//! `x-api-key` and `anthropic-version: 2023-06-01` (the documented pair, and what LiteLLM
//! sends), `anthropic-beta` and any other header through `extra_headers`.
//!
//! The translation functions are public so other families speaking the same body (Vertex AI's
//! Anthropic models via `rawPredict` / `streamRawPredict`) reuse them:
//! [`to_anthropic_request`], [`from_anthropic_response`], [`AnthropicChunks`] and
//! [`error_from_response`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), llm_types::Error> {
//! use llm_providers::anthropic::Anthropic;
//! use llm_providers::{Provider, ProviderTarget, Secret};
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! let target = ProviderTarget {
//!     api_key: Some(Secret::new("sk-ant-...")),
//!     ..ProviderTarget::new("anthropic/claude-sonnet-4-5")
//! };
//! let http = llm_providers::http_client::build_http_client()?;
//! let anthropic = Anthropic::new(&target, http)?;
//! let request = ChatCompletionRequest::new(
//!     "claude-sonnet-4-5",
//!     vec![ChatMessage::text(Role::User, "Hello")],
//! );
//! let answer = anthropic.chat(request).await?;
//! println!("{:?}", answer.choices[0].message.content);
//! # Ok(())
//! # }
//! ```

mod error;
mod request;
mod response;
mod stream;
pub mod wire;

pub use error::{error_from_response, stream_error};
pub use request::{
    DEFAULT_MAX_TOKENS, JSON_TOOL_NAME, media_source, thinking_budget, to_anthropic_request,
    wants_json,
};
pub use response::{finish_reason, from_anthropic_response, usage};
pub use stream::AnthropicChunks;
pub use wire::AnthropicRequest;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ModelRef,
};

use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::SseFraming;
use crate::target::{ProviderTarget, Secret};
use crate::upstream::{self, Transport, now_secs};

/// Default endpoint base.
pub const DEFAULT_API_BASE: &str = "https://api.anthropic.com";
/// The API version we speak (documented, and what LiteLLM sends).
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Environment variable read when the deployment has no `api_key`.
const API_KEY_ENV: &str = "ANTHROPIC_API_KEY";

/// One deployment on the Anthropic Messages API, prebuilt at configuration time.
#[derive(Debug, Clone)]
pub struct Anthropic {
    upstream_model: Arc<str>,
    messages_url: Arc<str>,
    policy: ParamPolicy,
    transport: Transport,
}

impl Anthropic {
    /// Builds the adapter for `target` (`anthropic/<model>`).
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let api_key = target
            .api_key
            .clone()
            .or_else(|| upstream::env_var(API_KEY_ENV).map(Secret::new));
        let mut headers = upstream::json_headers();
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
        if let Some(key) = &api_key {
            headers.insert(
                HeaderName::from_static("x-api-key"),
                upstream::credential_value(key.expose())?,
            );
        }
        upstream::insert_extra_headers(&mut headers, &target.extra_headers)?;
        Ok(Anthropic {
            upstream_model: Arc::from(model_ref.model),
            messages_url: Arc::from(messages_url(target.api_base.as_deref())?),
            policy: target.param_policy(),
            transport: Transport::new(target, http, headers),
        })
    }

    /// The endpoint requests go to.
    pub fn messages_url(&self) -> &str {
        &self.messages_url
    }

    fn body(&self, request: &ChatCompletionRequest, stream: bool) -> Result<Vec<u8>, Error> {
        let mut body = to_anthropic_request(request, Some(&self.upstream_model), &self.policy)?;
        body.stream = stream.then_some(true);
        serde_json::to_vec(&body)
            .map_err(|e| Error::internal(format!("cannot encode the Anthropic request: {e}")))
    }

    /// Sends the body; a non-success answer becomes our error via Anthropic's error types.
    async fn send(&self, body: Vec<u8>) -> Result<reqwest::Response, Error> {
        let mut headers = self.transport.headers.clone();
        crate::trace_headers::inject(&mut headers);
        let response = self
            .transport
            .http
            .post(&*self.messages_url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(upstream::transport_error)?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let retry_after = upstream::retry_after(response.headers());
        let body = read_error_body(response).await;
        Err(error_from_response(status, &body, retry_after))
    }
}

/// `{base}/v1/messages`, whether `api_base` is the host, ends in `/v1`, or is the full URL
/// (LiteLLM accepts all three).
fn messages_url(api_base: Option<&str>) -> Result<String, Error> {
    let base = api_base.unwrap_or(DEFAULT_API_BASE).trim_end_matches('/');
    upstream::check_http_base(base)?;
    Ok(if base.ends_with("/v1/messages") {
        base.to_owned()
    } else if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    })
}

/// An error body, bounded: it only feeds a message.
async fn read_error_body(mut response: reqwest::Response) -> Bytes {
    const LIMIT: usize = 64 << 10;
    let mut body = Vec::new();
    while let Ok(Some(piece)) = response.chunk().await {
        body.extend_from_slice(&piece);
        if body.len() >= LIMIT {
            body.truncate(LIMIT);
            break;
        }
    }
    Bytes::from(body)
}

impl Provider for Anthropic {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let body = self.body(&request, false)?;
        let call = async {
            let response = self.send(body).await?;
            upstream::read_bounded(response).await
        };
        let bytes = upstream::within(self.transport.timeout, call).await?;
        let parsed = upstream::parse_body(&bytes, "Anthropic message")?;
        Ok(from_anthropic_response(
            parsed,
            wants_json(&request),
            now_secs(),
        ))
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let body = self.body(&request, true)?;
        let response = upstream::within(self.transport.stream_timeout, self.send(body)).await?;
        Ok(self.transport.drive(
            response,
            SseFraming::new(),
            AnthropicChunks::new(wants_json(&request), now_secs()),
        ))
    }

    async fn embeddings(&self, _request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        Err(Error::new(
            ErrorKind::InvalidRequest,
            llm_types::ErrorOrigin::Client,
            "embeddings are not supported by anthropic",
        )
        .with_param("model"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_comes_from_api_base() {
        let cases = [
            (None, Some("https://api.anthropic.com/v1/messages")),
            (
                Some("http://127.0.0.1:9"),
                Some("http://127.0.0.1:9/v1/messages"),
            ),
            (
                Some("http://127.0.0.1:9/v1/"),
                Some("http://127.0.0.1:9/v1/messages"),
            ),
            (
                Some("https://proxy/x/v1/messages"),
                Some("https://proxy/x/v1/messages"),
            ),
            (Some("ftp://x"), None),
        ];
        for (base, expected) in cases {
            assert_eq!(messages_url(base).ok().as_deref(), expected, "{base:?}");
        }
    }

    #[test]
    fn the_key_header_is_sensitive_and_never_debug_printed() {
        let target = ProviderTarget {
            api_key: Some(Secret::new("sk-ant-secret-123456")),
            extra_headers: vec![("anthropic-beta".into(), "prompt-caching-2024-07-31".into())],
            ..ProviderTarget::new("anthropic/claude-sonnet-4-5")
        };
        let built =
            Anthropic::new(&target, crate::http_client::build_http_client().unwrap()).unwrap();
        assert!(
            built
                .transport
                .headers
                .get("x-api-key")
                .unwrap()
                .is_sensitive()
        );
        assert_eq!(
            built.transport.headers.get("anthropic-beta").unwrap(),
            "prompt-caching-2024-07-31"
        );
        assert!(!format!("{built:?}").contains("sk-ant-secret-123456"));
    }
}
