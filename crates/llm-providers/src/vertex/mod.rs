//! Vertex AI (`vertex_ai/...`): Gemini models on Google Cloud.
//!
//! Same body format as Google AI Studio (the translation lives in [`crate::gemini`]), on
//! `{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}` with
//! `Authorization: Bearer <token>`, the token minted from a service-account key
//! ([`auth`]). Project and location come from the deployment (LiteLLM's `vertex_project`,
//! `vertex_location`), else `VERTEXAI_PROJECT` / `VERTEXAI_LOCATION`, else the credentials'
//! `project_id` and `us-central1`. The default endpoint is
//! `https://{location}-aiplatform.googleapis.com` (`https://aiplatform.googleapis.com` for the
//! `global` location). Embeddings use `:predict`. Claude models (`vertex_ai/claude-...`) go
//! to Anthropic's publisher endpoint with the Anthropic body ([`anthropic`]).
//!
//! ```
//! use llm_providers::{ProviderTarget, VertexSettings};
//! use llm_providers::vertex::Vertex;
//!
//! let target = ProviderTarget {
//!     vertex: VertexSettings {
//!         project: Some("my-project".into()),
//!         location: Some("europe-west4".into()),
//!         credentials: None,
//!     },
//!     ..ProviderTarget::new("vertex_ai/gemini-2.5-flash")
//! };
//! let http = llm_providers::http_client::build_http_client().unwrap();
//! let vertex = Vertex::new(&target, http).unwrap();
//! assert_eq!(
//!     vertex.model_url(),
//!     "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-project/locations/\
//!      europe-west4/publishers/google/models/gemini-2.5-flash"
//! );
//! ```

pub mod anthropic;
pub mod auth;
pub mod embeddings;

use http::{HeaderMap, HeaderValue, header};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ErrorOrigin, ModelRef,
};
use std::sync::Arc;
use std::time::Duration;

use crate::gemini::{Exchange, checked_base, error, json_headers};
use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::target::ProviderTarget;
use crate::upstream;
use auth::{ServiceAccount, TokenSource};

const PROVIDER: &str = "vertex_ai";
const DEFAULT_LOCATION: &str = "us-central1";

/// Who publishes the model on Vertex AI: the body format follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Gemini and Google's embedding models: `generateContent`, `predict`.
    Google,
    /// Claude: the Anthropic Messages body on `rawPredict` / `streamRawPredict`.
    Anthropic,
}

impl Publisher {
    /// The publisher of a model name, as LiteLLM decides it (`claude-*` is Anthropic's).
    pub fn of(model: &str) -> Publisher {
        if model.starts_with("claude") {
            Publisher::Anthropic
        } else {
            Publisher::Google
        }
    }

    fn path(self) -> &'static str {
        match self {
            Publisher::Google => "google",
            Publisher::Anthropic => "anthropic",
        }
    }
}

/// A Vertex AI deployment of a Google (Gemini) or Anthropic (Claude) model.
#[derive(Debug, Clone)]
pub struct Vertex {
    publisher: Publisher,
    model: Arc<str>,
    model_url: Arc<str>,
    headers: HeaderMap,
    tokens: TokenSource,
    policy: ParamPolicy,
    timeout: Duration,
    stream_timeout: Duration,
    http: reqwest::Client,
}

impl Vertex {
    /// Builds the adapter; credentials are read (and the key checked) now, tokens are minted
    /// on first use.
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        let model = model_ref.model.to_owned();
        let settings = &target.vertex;
        let credentials = settings
            .credentials
            .as_ref()
            .map(|c| c.expose().to_owned())
            .or_else(|| upstream::env_var("GOOGLE_APPLICATION_CREDENTIALS"));
        let account = credentials
            .as_deref()
            .map(ServiceAccount::load)
            .transpose()?;
        let project = settings
            .project
            .clone()
            .or_else(|| upstream::env_var("VERTEXAI_PROJECT"))
            .or_else(|| account.as_ref().and_then(|a| a.project_id.clone()))
            .ok_or_else(|| {
                Error::invalid_param(
                    "vertex_project",
                    "Vertex AI needs a project: set `vertex_project` or VERTEXAI_PROJECT",
                )
            })?;
        let location = settings
            .location
            .clone()
            .or_else(|| upstream::env_var("VERTEXAI_LOCATION"))
            .unwrap_or_else(|| DEFAULT_LOCATION.to_owned());
        let base = match target.api_base.as_deref().filter(|b| !b.is_empty()) {
            Some(base) => checked_base(base)?,
            None if location == "global" => "https://aiplatform.googleapis.com".to_owned(),
            None => format!("https://{location}-aiplatform.googleapis.com"),
        };
        let versioned = if base.ends_with("/v1") || base.ends_with("/v1beta1") {
            base
        } else {
            format!("{base}/v1")
        };
        let tokens = match (account, &target.api_key) {
            (Some(account), _) => TokenSource::service_account(account, http.clone())?,
            (None, Some(token)) => TokenSource::fixed(token.clone()),
            (None, None) => TokenSource::missing(),
        };
        let publisher = Publisher::of(&model);
        Ok(Vertex {
            model_url: Arc::from(format!(
                "{versioned}/projects/{project}/locations/{location}/publishers/{}/models/{model}",
                publisher.path()
            )),
            publisher,
            model: Arc::from(model),
            headers: json_headers(&target.extra_headers)?,
            tokens,
            policy: target.param_policy(),
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
            http,
        })
    }

    /// `.../publishers/{publisher}/models/{model}`, to which `:method` is appended.
    pub fn model_url(&self) -> &str {
        &self.model_url
    }

    /// The request headers with a current bearer token.
    async fn headers(&self) -> Result<HeaderMap, Error> {
        let token = self.tokens.token().await?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| Error::internal("the access token is not a valid header value"))?;
        value.set_sensitive(true);
        let mut headers = self.headers.clone();
        headers.insert(header::AUTHORIZATION, value);
        Ok(headers)
    }

    fn anthropic<'a>(&'a self, headers: &'a HeaderMap) -> anthropic::Call<'a> {
        anthropic::Call {
            http: &self.http,
            model_url: &self.model_url,
            headers,
            policy: &self.policy,
        }
    }

    fn exchange<'a>(&'a self, headers: &'a HeaderMap) -> Exchange<'a> {
        Exchange {
            http: &self.http,
            model_url: &self.model_url,
            headers,
            policy: &self.policy,
            provider: PROVIDER,
            model: &self.model,
        }
    }
}

impl Provider for Vertex {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let headers = self.headers().await?;
        match self.publisher {
            Publisher::Google => self.exchange(&headers).chat(request, self.timeout).await,
            Publisher::Anthropic => self.anthropic(&headers).chat(request, self.timeout).await,
        }
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let headers = self.headers().await?;
        match self.publisher {
            Publisher::Google => {
                self.exchange(&headers)
                    .chat_stream(request, self.stream_timeout)
                    .await
            }
            Publisher::Anthropic => {
                self.anthropic(&headers)
                    .chat_stream(request, self.stream_timeout)
                    .await
            }
        }
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        if self.publisher == Publisher::Anthropic {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                ErrorOrigin::Client,
                format!(
                    "embeddings are not supported by vertex_ai/{} (an Anthropic model)",
                    self.model
                ),
            )
            .with_param("model"));
        }
        let headers = self.headers().await?;
        let body = embeddings::body(&request)?;
        let url = format!("{}:predict", self.model_url);
        let call = error::post_json(&self.http, &url, &headers, body);
        let bytes = upstream::within(self.timeout, call).await?;
        let parsed: embeddings::PredictResponse =
            upstream::parse_body(&bytes, "Vertex AI predict response")?;
        Ok(embeddings::translate(parsed, &request, &self.model))
    }
}
