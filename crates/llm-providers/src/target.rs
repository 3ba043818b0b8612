//! What one deployment points at: provider model, endpoint, credentials and timeouts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default bound of a whole non-streamed attempt, and of the wait for each stream chunk
/// (LiteLLM's default `timeout` is 600 s as well).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// A secret (API key) that never prints: `Debug` and `Display` show `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for building a request header. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Everything needed to build an adapter for one deployment (one `model_list` entry).
#[derive(Debug, Clone, Default)]
pub struct ProviderTarget {
    /// `provider/model`, e.g. `groq/llama-3.1-8b-instant`.
    pub model: String,
    /// Overrides the provider's default endpoint (how tests reach mocks and users reach proxies).
    pub api_base: Option<String>,
    pub api_key: Option<Secret>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    /// Extra headers sent with every upstream request.
    pub extra_headers: Vec<(String, String)>,
    /// Bounds a whole non-streamed attempt.
    pub timeout: Option<Duration>,
    /// Bounds the wait for the first chunk and between chunks of a stream.
    pub stream_timeout: Option<Duration>,
    /// Fixed reply text of the built-in `mock` provider (LiteLLM's `mock_response`).
    pub mock_response: Option<String>,
    /// Drop request parameters the provider does not support instead of refusing with 400
    /// (LiteLLM's `drop_params`).
    pub drop_params: bool,
    /// Parameters to drop always (LiteLLM's `additional_drop_params`).
    pub additional_drop_params: Vec<String>,
    /// Google Cloud settings of Vertex AI deployments.
    pub vertex: VertexSettings,
    /// AWS settings of Bedrock deployments.
    pub aws: AwsSettings,
    /// Azure AD (Entra ID) bearer token for Azure OpenAI, used when no `api_key` is given
    /// (LiteLLM's `azure_ad_token`).
    pub azure_ad_token: Option<Secret>,
}

/// Vertex AI: project, location and service-account credentials (LiteLLM's `vertex_project`,
/// `vertex_location`, `vertex_credentials`: a JSON string or a file path).
#[derive(Debug, Clone, Default)]
pub struct VertexSettings {
    pub project: Option<String>,
    pub location: Option<String>,
    pub credentials: Option<Secret>,
}

/// AWS: static keys, session token, profile and region (LiteLLM's `aws_access_key_id`,
/// `aws_secret_access_key`, `aws_session_token`, `aws_profile_name`, `aws_region_name`).
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    pub profile_name: Option<String>,
    pub region_name: Option<String>,
}

impl ProviderTarget {
    /// A target for `provider/model` with everything else defaulted.
    pub fn new(model: impl Into<String>) -> Self {
        ProviderTarget {
            model: model.into(),
            ..ProviderTarget::default()
        }
    }

    /// The policy for parameters the provider cannot express.
    pub fn param_policy(&self) -> crate::params::ParamPolicy {
        crate::params::ParamPolicy::new(self.drop_params, &self.additional_drop_params)
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    pub(crate) fn stream_timeout(&self) -> Duration {
        self.stream_timeout
            .or(self.timeout)
            .unwrap_or(DEFAULT_TIMEOUT)
    }
}
