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
}

impl ProviderTarget {
    /// A target for `provider/model` with everything else defaulted.
    pub fn new(model: impl Into<String>) -> Self {
        ProviderTarget {
            model: model.into(),
            ..ProviderTarget::default()
        }
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
