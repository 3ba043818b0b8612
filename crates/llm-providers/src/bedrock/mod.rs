//! AWS Bedrock (`bedrock/<model id>`): chat through Converse and ConverseStream, embeddings
//! (Titan, Cohere) through InvokeModel, every request SigV4-signed.
//!
//! ```no_run
//! use llm_providers::{AwsSettings, ProviderTarget, Provider, Secret};
//! use llm_providers::bedrock::Bedrock;
//! use llm_types::{ChatCompletionRequest, ChatMessage, Role};
//!
//! # async fn run() -> Result<(), llm_types::Error> {
//! let target = ProviderTarget {
//!     aws: AwsSettings {
//!         access_key_id: Some("AKIDEXAMPLE".into()),
//!         secret_access_key: Some(Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
//!         region_name: Some("us-east-1".into()),
//!         ..AwsSettings::default()
//!     },
//!     ..ProviderTarget::new("bedrock/anthropic.claude-3-haiku-20240307-v1:0")
//! };
//! let bedrock = Bedrock::new(&target, llm_providers::http_client::build_http_client()?)?;
//! assert_eq!(
//!     bedrock.chat_url(),
//!     "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
//! );
//! let request = ChatCompletionRequest::new(
//!     "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
//!     vec![ChatMessage::text(Role::User, "Hello")],
//! );
//! let answer = bedrock.chat(request).await?;
//! # Ok(()) }
//! ```

pub mod credentials;
pub mod embed;
pub mod error;
pub mod request;
pub mod response;
pub mod sign;
pub mod stream;
pub mod wire;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ModelRef,
};

use crate::params::ParamPolicy;
use crate::provider::{ChatStream, Provider};
use crate::stream_driver::drive;
use crate::target::ProviderTarget;
use crate::upstream::{self, transport_error};
use credentials::{AwsCredentials, ProcessEnv};
use embed::{CohereRequest, CohereResponse, EmbedModel, TitanRequest, TitanResponse};
use stream::{ConverseChunks, EventStreamFraming};

/// Error bodies are short JSON; more than this is not worth reading.
const MAX_ERROR_BODY: usize = 64 << 10;

/// A Bedrock deployment: model id, endpoint, credentials and region, prepared at configuration.
#[derive(Debug, Clone)]
pub struct Bedrock {
    model_id: Arc<str>,
    base: Arc<str>,
    region: Arc<str>,
    credentials: Option<AwsCredentials>,
    extra_headers: HeaderMap,
    policy: ParamPolicy,
    timeout: Duration,
    stream_timeout: Duration,
    http: reqwest::Client,
}

/// Percent-encodes a model id as one path segment (`:` → `%3A`, `/` of ARNs → `%2F`), the way
/// botocore encodes the `modelId` URI member.
pub fn encode_model_id(model_id: &str) -> String {
    let mut out = String::with_capacity(model_id.len() + 8);
    for byte in model_id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Bedrock {
    /// Builds the adapter; credentials come from the target, the environment or the shared
    /// credentials file (see [`credentials`]).
    pub fn new(target: &ProviderTarget, http: reqwest::Client) -> Result<Self, Error> {
        let model_ref = ModelRef::parse(&target.model)?;
        // LiteLLM accepts `bedrock/converse/<id>` to force the Converse route; it is ours anyway.
        let model_id = model_ref
            .model
            .strip_prefix("converse/")
            .unwrap_or(model_ref.model);
        let env = ProcessEnv;
        let region = credentials::region(&target.aws, &env);
        let base = match &target.api_base {
            Some(base) => base.trim_end_matches('/').to_owned(),
            None => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        };
        upstream::check_http_base(&base)?;
        let mut extra_headers = HeaderMap::new();
        for (name, value) in &target.extra_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::invalid_param("extra_headers", format!("invalid header name `{name}`"))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::invalid_param("extra_headers", format!("invalid value for `{name}`"))
            })?;
            extra_headers.insert(name, value);
        }
        Ok(Bedrock {
            model_id: Arc::from(model_id),
            base: Arc::from(base),
            region: Arc::from(region),
            credentials: credentials::resolve(&target.aws, &env),
            extra_headers,
            policy: target.param_policy(),
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
            http,
        })
    }

    fn url(&self, action: &str) -> String {
        format!(
            "{}/model/{}/{action}",
            self.base,
            encode_model_id(&self.model_id)
        )
    }

    /// The Converse endpoint chat requests go to.
    pub fn chat_url(&self) -> String {
        self.url("converse")
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Signs and sends a JSON POST; resolves once the status is a success.
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<reqwest::Response, Error> {
        let credentials = self.credentials.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Authentication,
                llm_types::ErrorOrigin::Internal,
                "no AWS credentials for bedrock: set aws_access_key_id / aws_secret_access_key \
                 (or aws_profile_name) in litellm_params, or AWS_ACCESS_KEY_ID / \
                 AWS_SECRET_ACCESS_KEY in the environment",
            )
        })?;
        let mut headers =
            sign::sign_post(credentials, &self.region, url, &body, SystemTime::now())?;
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &self.extra_headers {
            headers.insert(name.clone(), value.clone());
        }
        // After signing: SigV4 signs only the headers named in `SignedHeaders`, so the
        // trace headers travel unsigned and the signature stays valid.
        crate::trace_headers::inject(&mut headers);
        let response = self
            .http
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_response(response).await)
    }

    async fn post_read(&self, url: &str, body: Vec<u8>) -> Result<(HeaderMap, Bytes), Error> {
        let response = self.post(url, body).await?;
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport_error)?;
        if bytes.len() > upstream::MAX_UPSTREAM_BODY {
            return Err(Error::upstream(
                ErrorKind::UpstreamBadResponse,
                None,
                "the upstream answer is too large",
            ));
        }
        Ok((headers, bytes))
    }

    fn translate(&self, request: &ChatCompletionRequest) -> Result<(Vec<u8>, bool), Error> {
        let policy = self.policy.for_request(request);
        let translated = request::converse_body(&self.model_id, request, &policy)?;
        let body = serde_json::to_vec(&translated.body)
            .map_err(|e| Error::internal(format!("cannot encode the Converse request: {e}")))?;
        Ok((body, translated.json_mode))
    }

    async fn embed_one<T: serde::Serialize>(&self, body: &T) -> Result<(HeaderMap, Bytes), Error> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::internal(format!("cannot encode the embeddings request: {e}")))?;
        upstream::within(self.timeout, self.post_read(&self.url("invoke"), body)).await
    }
}

/// The completion id: Bedrock has none, its request id is the closest thing.
fn completion_id(headers: &HeaderMap) -> String {
    let request_id = headers
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic()));
    match request_id {
        Some(id) => format!("chatcmpl-{id}"),
        None => format!("chatcmpl-bedrock-{}", llm_types::unix_now()),
    }
}

/// Our error for a non-success answer: the type from `x-amzn-ErrorType` (or the body's
/// `__type`), the message from the body, `Retry-After` kept.
async fn error_response(mut response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let retry_after = upstream::retry_after(response.headers());
    let header_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Ok(Some(piece)) = response.chunk().await {
        body.extend_from_slice(&piece);
        if body.len() > MAX_ERROR_BODY {
            break;
        }
    }
    let parsed: wire::ErrorPayload = serde_json::from_slice(&body).unwrap_or_default();
    let error_type = header_type.or(parsed.kind).unwrap_or_default();
    let message = parsed.message.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)])
            .trim()
            .to_owned();
        if text.is_empty() {
            format!("the upstream answered {status}")
        } else {
            text
        }
    });
    error::http_error(status, &error_type, &message).with_retry_after(retry_after)
}

impl Provider for Bedrock {
    async fn chat(&self, request: ChatCompletionRequest) -> Result<ChatCompletionResponse, Error> {
        let (body, json_mode) = self.translate(&request)?;
        let url = self.url("converse");
        let (headers, bytes) = upstream::within(self.timeout, self.post_read(&url, body)).await?;
        let answer: wire::ConverseResponse = upstream::parse_body(&bytes, "Converse answer")?;
        Ok(response::chat_response(
            answer,
            completion_id(&headers),
            llm_types::unix_now(),
            &self.model_id,
            json_mode,
        ))
    }

    async fn chat_stream(&self, request: ChatCompletionRequest) -> Result<ChatStream, Error> {
        let (body, json_mode) = self.translate(&request)?;
        let url = self.url("converse-stream");
        let response = upstream::within(self.stream_timeout, self.post(&url, body)).await?;
        let translator = ConverseChunks::new(
            completion_id(response.headers()),
            llm_types::unix_now(),
            self.model_id.to_string(),
            json_mode,
        );
        Ok(drive(
            response,
            EventStreamFraming::default(),
            translator,
            self.stream_timeout,
        ))
    }

    async fn embeddings(&self, request: EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let kind = EmbedModel::of(&self.model_id).ok_or_else(|| {
            Error::invalid_param(
                "model",
                format!(
                    "embeddings are not supported by bedrock model `{}`: use amazon.titan-embed-* \
                     or cohere.embed-*",
                    self.model_id
                ),
            )
        })?;
        let texts = request.input.texts();
        let mut vectors = Vec::with_capacity(texts.len());
        let mut tokens = 0;
        match kind {
            EmbedModel::Titan { dimensions } => {
                if request.dimensions.is_some() && !dimensions {
                    self.policy.unsupported("bedrock", "dimensions")?;
                }
                for text in &texts {
                    let body = TitanRequest {
                        input_text: text,
                        dimensions: request.dimensions.filter(|_| dimensions),
                    };
                    let (_, bytes) = self.embed_one(&body).await?;
                    let answer: TitanResponse = upstream::parse_body(&bytes, "Titan embedding")?;
                    tokens += answer.input_text_token_count;
                    vectors.push(answer.embedding);
                }
            }
            EmbedModel::Cohere => {
                if request.dimensions.is_some() {
                    self.policy.unsupported("bedrock", "dimensions")?;
                }
                let body = CohereRequest {
                    texts: &texts,
                    input_type: "search_document",
                };
                let (headers, bytes) = self.embed_one(&body).await?;
                let answer: CohereResponse = upstream::parse_body(&bytes, "Cohere embeddings")?;
                tokens = headers
                    .get("x-amzn-bedrock-input-token-count")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                vectors = answer.embeddings;
            }
        }
        if vectors.len() != texts.len() {
            return Err(Error::upstream(
                ErrorKind::UpstreamBadResponse,
                Some(200),
                format!(
                    "bedrock returned {} embeddings for {} inputs",
                    vectors.len(),
                    texts.len()
                ),
            ));
        }
        embed::response(vectors, tokens, &self.model_id, request.encoding_format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let target = ProviderTarget {
            aws: crate::target::AwsSettings {
                access_key_id: Some("AKIDVISIBLE".into()),
                secret_access_key: Some(crate::target::Secret::new("very-secret-key-123")),
                session_token: Some(crate::target::Secret::new("session-token-456")),
                ..Default::default()
            },
            ..ProviderTarget::new("bedrock/amazon.nova-micro-v1:0")
        };
        let http = crate::http_client::build_http_client().unwrap();
        let shown = format!("{:?}", Bedrock::new(&target, http).unwrap());
        assert!(shown.contains("AKIDVISIBLE"), "{shown}");
        assert!(!shown.contains("very-secret-key-123") && !shown.contains("session-token-456"));
    }

    #[test]
    fn endpoints_follow_region_and_api_base() {
        let http = crate::http_client::build_http_client().unwrap();
        let cases = [
            (
                "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
                None,
                "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
            ),
            (
                "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
                Some("http://127.0.0.1:9/"),
                "http://127.0.0.1:9/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse",
            ),
            (
                "bedrock/converse/amazon.nova-micro-v1:0",
                None,
                "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse",
            ),
            (
                "bedrock/arn:aws:bedrock:us-east-1:123:inference-profile/x",
                Some("https://proxy/bedrock"),
                "https://proxy/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fx/converse",
            ),
        ];
        for (model, base, expected) in cases {
            let target = ProviderTarget {
                api_base: base.map(str::to_owned),
                aws: crate::target::AwsSettings {
                    region_name: Some("eu-west-1".into()),
                    ..Default::default()
                },
                ..ProviderTarget::new(model)
            };
            assert_eq!(
                Bedrock::new(&target, http.clone()).unwrap().chat_url(),
                expected
            );
        }
    }
}
