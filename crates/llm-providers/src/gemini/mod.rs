//! Google AI Studio (`gemini/...`): the Gemini `generateContent` API.
//!
//! `POST {base}/v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, key in `x-goog-api-key` (from the deployment or
//! `GEMINI_API_KEY`). The translation modules ([`request`], [`response`], [`stream`],
//! [`error`], [`embeddings`]) are shared with Vertex AI, which speaks the same body format on
//! other URLs with other credentials (see [`crate::vertex`]).
//!
//! ```
//! use llm_providers::{ProviderTarget, Secret};
//! use llm_providers::gemini::Gemini;
//!
//! let target = ProviderTarget {
//!     api_key: Some(Secret::new("my-key")),
//!     ..ProviderTarget::new("gemini/gemini-2.5-flash")
//! };
//! let http = llm_providers::http_client::build_http_client().unwrap();
//! let gemini = Gemini::new(&target, http).unwrap();
//! assert_eq!(
//!     gemini.chat_url(),
//!     "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
//! );
//! ```

pub mod embeddings;
pub mod error;
pub mod ids;
pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

use http::{HeaderMap, HeaderName, HeaderValue};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ModelRef,
};
use std::sync::Arc;
use std::time::Duration;

use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::{SseFraming, drive};
use crate::target::ProviderTarget;
use crate::upstream;

/// Google AI Studio's endpoint.
pub const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com";
/// The name in error messages.
const PROVIDER: &str = "gemini";

/// A Gemini deployment, prebuilt at configuration time.
#[derive(Debug, Clone)]
pub struct Gemini {
    model: Arc<str>,
    /// `{base}/{version}/models/{model}`, to which `:method` is appended.
    model_url: Arc<str>,
    headers: HeaderMap,
    policy: ParamPolicy,
    timeout: Duration,
    stream_timeout: Duration,
    http: reqwest::Client,
}

impl Gemini {
    /// Builds the adapter; the key comes from the target or `GEMINI_API_KEY`.
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let model = model_ref.model.trim_start_matches("models/");
        let base = target
            .api_base
            .clone()
            .or_else(|| std::env::var("GEMINI_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_owned());
        let base = checked_base(&base)?;
        let versioned = if ["/v1", "/v1beta", "/v1alpha"]
            .iter()
            .any(|v| base.ends_with(v))
        {
            base
        } else {
            format!("{base}/v1beta")
        };
        let api_key = target
            .api_key
            .clone()
            .or_else(|| upstream::env_var("GEMINI_API_KEY").map(crate::target::Secret::new));
        let mut headers = json_headers(&target.extra_headers)?;
        if let Some(key) = api_key {
            headers.insert(
                HeaderName::from_static("x-goog-api-key"),
                upstream::credential_value(key.expose())?,
            );
        }
        Ok(Gemini {
            model: Arc::from(model),
            model_url: Arc::from(format!("{versioned}/models/{model}")),
            headers,
            policy: target.param_policy(),
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
            http,
        })
    }

    /// The non-streamed chat endpoint.
    pub fn chat_url(&self) -> String {
        format!("{}:generateContent", self.model_url)
    }
}

/// A base URL without its trailing slash, refused unless it is http(s).
pub(crate) fn checked_base(base: &str) -> Result<String, Error> {
    let base = base.trim_end_matches('/').to_owned();
    upstream::check_http_base(&base)?;
    Ok(base)
}

/// `content-type: application/json` and the deployment's extra headers.
pub(crate) fn json_headers(extra: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut headers = upstream::json_headers();
    for (name, value) in extra {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::invalid_param("extra_headers", format!("invalid header name `{name}`"))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_param("extra_headers", format!("invalid value for `{name}`"))
        })?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// The shared chat exchange of Gemini and Vertex: one call, translated.
pub(crate) struct Exchange<'a> {
    pub http: &'a reqwest::Client,
    /// `.../models/{model}`.
    pub model_url: &'a str,
    pub headers: &'a HeaderMap,
    pub policy: &'a ParamPolicy,
    pub provider: &'a str,
    pub model: &'a str,
}

impl Exchange<'_> {
    fn body(&self, request: &ChatCompletionRequest) -> Result<Vec<u8>, Error> {
        let body = request::build(request, self.policy, self.provider)?;
        serde_json::to_vec(&body)
            .map_err(|e| Error::internal(format!("cannot encode the Gemini request: {e}")))
    }

    pub(crate) async fn chat(
        &self,
        request: ChatCompletionRequest,
        timeout: Duration,
    ) -> Result<ChatCompletionResponse, Error> {
        let body = self.body(&request)?;
        let url = format!("{}:generateContent", self.model_url);
        let call = error::post_json(self.http, &url, self.headers, body);
        let bytes = upstream::within(timeout, call).await?;
        let parsed: wire::GenerateContentResponse =
            upstream::parse_body(&bytes, "Gemini response")?;
        Ok(response::translate(parsed, self.model))
    }

    pub(crate) async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        stream_timeout: Duration,
    ) -> Result<ChatStream, Error> {
        let body = self.body(&request)?;
        let url = format!("{}:streamGenerateContent?alt=sse", self.model_url);
        let send = error::send(self.http, &url, self.headers, body);
        let response = upstream::within(stream_timeout, send).await?;
        Ok(drive(
            response,
            SseFraming::new(),
            stream::GeminiChunks::new(self.model),
            stream_timeout,
        ))
    }
}

impl Gemini {
    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            http: &self.http,
            model_url: &self.model_url,
            headers: &self.headers,
            policy: &self.policy,
            provider: PROVIDER,
            model: &self.model,
        }
    }
}

impl Provider for Gemini {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        self.exchange().chat(request, self.timeout).await
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        self.exchange()
            .chat_stream(request, self.stream_timeout)
            .await
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let (method, body) = embeddings::body(&request, &self.model)?;
        let url = format!("{}:{method}", self.model_url);
        let call = error::post_json(&self.http, &url, &self.headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
        let parsed: embeddings::EmbedResponse =
            upstream::parse_body(&bytes, "Gemini embeddings response")?;
        Ok(embeddings::translate(
            parsed,
            request.encoding_format,
            &self.model,
        ))
    }
}
