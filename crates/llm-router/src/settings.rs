//! Router settings: strategy, retries, fallbacks, cooldowns (LiteLLM's `router_settings`).

use llm_types::ErrorKind;
use std::collections::HashMap;
use std::time::Duration;

use crate::breaker::BreakerPolicy;
use crate::strategy::Strategy;

/// Retries when none are configured (LiteLLM's documented default).
pub const DEFAULT_NUM_RETRIES: u32 = 2;
/// Fallback groups tried at most, per request.
pub const DEFAULT_MAX_FALLBACKS: usize = 5;

/// How the router behaves; every field has LiteLLM's default.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterSettings {
    pub strategy: Strategy,
    /// Retries of a retryable failure (next deployment first, then backoff).
    pub num_retries: u32,
    /// Retries per error class, overriding `num_retries` for that class.
    pub retry_policy: RetryPolicy,
    /// Group → groups tried, in order, when it fails.
    pub fallbacks: HashMap<String, Vec<String>>,
    /// Group → groups tried when the prompt exceeds its context window.
    pub context_window_fallbacks: HashMap<String, Vec<String>>,
    /// Group → groups tried when its provider refuses the content.
    pub content_policy_fallbacks: HashMap<String, Vec<String>>,
    /// Groups tried when a failing group has no fallbacks of its own.
    pub default_fallbacks: Vec<String>,
    pub max_fallbacks: usize,
    pub breaker: BreakerPolicy,
    /// Bound of a whole request (all attempts), when set.
    pub timeout: Option<Duration>,
}

impl Default for RouterSettings {
    fn default() -> Self {
        RouterSettings {
            strategy: Strategy::default(),
            num_retries: DEFAULT_NUM_RETRIES,
            retry_policy: RetryPolicy::default(),
            fallbacks: HashMap::new(),
            context_window_fallbacks: HashMap::new(),
            content_policy_fallbacks: HashMap::new(),
            default_fallbacks: Vec::new(),
            max_fallbacks: DEFAULT_MAX_FALLBACKS,
            breaker: BreakerPolicy::default(),
            timeout: None,
        }
    }
}

/// LiteLLM's `retry_policy`: retries per error class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryPolicy {
    pub bad_request: Option<u32>,
    pub authentication: Option<u32>,
    pub timeout: Option<u32>,
    pub rate_limit: Option<u32>,
    pub content_policy: Option<u32>,
    pub internal_server: Option<u32>,
}

impl RetryPolicy {
    /// The policy's LiteLLM key names, for configuration.
    pub const KEYS: &'static [&'static str] = &[
        "BadRequestErrorRetries",
        "AuthenticationErrorRetries",
        "TimeoutErrorRetries",
        "RateLimitErrorRetries",
        "ContentPolicyViolationErrorRetries",
        "InternalServerErrorRetries",
    ];

    /// Sets a retry count by its LiteLLM key; false for an unknown key.
    pub fn set(&mut self, key: &str, retries: u32) -> bool {
        let slot = match key {
            "BadRequestErrorRetries" => &mut self.bad_request,
            "AuthenticationErrorRetries" => &mut self.authentication,
            "TimeoutErrorRetries" => &mut self.timeout,
            "RateLimitErrorRetries" => &mut self.rate_limit,
            "ContentPolicyViolationErrorRetries" => &mut self.content_policy,
            "InternalServerErrorRetries" => &mut self.internal_server,
            _ => return false,
        };
        *slot = Some(retries);
        true
    }

    /// Retries for a failure of `kind`: the policy's class count, else `num_retries` for
    /// retryable kinds and none for the others.
    pub fn retries_for(&self, kind: ErrorKind, num_retries: u32) -> u32 {
        let class = match kind {
            ErrorKind::InvalidRequest
            | ErrorKind::Unprocessable
            | ErrorKind::NotFound
            | ErrorKind::PayloadTooLarge => self.bad_request,
            ErrorKind::ContextLengthExceeded => self.bad_request,
            ErrorKind::Authentication | ErrorKind::PermissionDenied => self.authentication,
            ErrorKind::RequestTimeout | ErrorKind::UpstreamTimeout => self.timeout,
            ErrorKind::RateLimited => self.rate_limit,
            ErrorKind::ContentPolicy => self.content_policy,
            ErrorKind::UpstreamUnavailable
            | ErrorKind::UpstreamBadResponse
            | ErrorKind::UpstreamServerError
            | ErrorKind::Internal => self.internal_server,
        };
        class.unwrap_or(if kind.is_retryable() { num_retries } else { 0 })
    }
}

/// What a caller may override per request (LiteLLM clients send these in the body).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestOptions {
    pub num_retries: Option<u32>,
    pub fallbacks: Option<Vec<String>>,
    pub timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_per_error_class() {
        let mut policy = RetryPolicy::default();
        assert!(policy.set("RateLimitErrorRetries", 4));
        assert!(policy.set("AuthenticationErrorRetries", 1));
        assert!(!policy.set("NoSuchErrorRetries", 1));
        let cases = [
            (ErrorKind::RateLimited, 4),
            (ErrorKind::Authentication, 1),
            (ErrorKind::UpstreamServerError, 2),
            (ErrorKind::UpstreamTimeout, 2),
            (ErrorKind::InvalidRequest, 0),
            (ErrorKind::ContentPolicy, 0),
        ];
        for (kind, retries) in cases {
            assert_eq!(policy.retries_for(kind, 2), retries, "{kind:?}");
        }
    }

    #[test]
    fn strategy_names() {
        for name in Strategy::NAMES {
            assert!(Strategy::parse(name).is_some(), "{name}");
        }
        assert_eq!(Strategy::parse("fastest"), None);
    }
}
