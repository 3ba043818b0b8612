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
    /// Shared state across instances; `None`: in-process.
    pub redis: Option<RedisSettings>,
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
            redis: None,
        }
    }
}

/// The Redis server that holds the router state shared by every instance.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://[[user]:password@]host[:port][/db]` or `unix:///path`; never printed, as
    /// it may hold a password.
    pub url: String,
    /// Prefix of every key; instances sharing a Redis and a prefix share their state.
    pub key_prefix: String,
}

impl RedisSettings {
    pub const DEFAULT_KEY_PREFIX: &'static str = "llmgw:router:";

    /// Checks the URL (no IO) and uses the default key prefix.
    pub fn new(url: &str) -> Result<RedisSettings, String> {
        let settings = RedisSettings {
            url: url.to_owned(),
            key_prefix: RedisSettings::DEFAULT_KEY_PREFIX.to_owned(),
        };
        settings.endpoint()?;
        Ok(settings)
    }

    /// A URL from LiteLLM's `redis_host`, `redis_port` and `redis_password`.
    pub fn from_parts(host: &str, port: Option<u16>, password: Option<&str>) -> String {
        let auth = password
            .filter(|p| !p.is_empty())
            .map(|p| format!(":{}@", percent_encode(p)))
            .unwrap_or_default();
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        format!("redis://{auth}{host}:{}", port.unwrap_or(6379))
    }

    /// `host:port` (or the socket path), for logs: never the password.
    pub fn endpoint(&self) -> Result<String, String> {
        use deadpool_redis::redis::{ConnectionAddr, IntoConnectionInfo};
        let info = self
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| format!("not a usable Redis URL: {e}"))?;
        match info.addr() {
            ConnectionAddr::Tcp(host, port) => Ok(format!("{host}:{port}")),
            ConnectionAddr::Unix(path) => Ok(path.display().to_string()),
            _ => Err("TLS connections to Redis (rediss://) are not supported yet".to_owned()),
        }
    }
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("endpoint", &self.endpoint().unwrap_or_default())
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a password in a URL).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
    fn redis_urls_from_litellm_parts_and_checks() {
        // (host, port, password, url)
        let cases = [
            ("localhost", None, None, "redis://localhost:6379"),
            ("10.0.0.5", Some(6380), Some(""), "redis://10.0.0.5:6380"),
            (
                "r",
                Some(1),
                Some("p@ss/w:rd"),
                "redis://:p%40ss%2Fw%3Ard@r:1",
            ),
            ("::1", None, None, "redis://[::1]:6379"),
        ];
        for (host, port, password, url) in cases {
            assert_eq!(RedisSettings::from_parts(host, port, password), url);
            assert!(RedisSettings::new(url).is_ok(), "{url}");
        }
        // (url, usable)
        let cases = [
            ("redis://127.0.0.1:6379/2", true),
            ("redis://:secret@cache:6379", true),
            ("unix:///run/redis.sock", true),
            ("rediss://cache:6380", false),
            ("http://cache", false),
            ("cache:6379", false),
        ];
        for (url, usable) in cases {
            assert_eq!(RedisSettings::new(url).is_ok(), usable, "{url}");
        }
        let debug = format!(
            "{:?}",
            RedisSettings::new("redis://:secret@cache:6379").unwrap()
        );
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn strategy_names() {
        for name in Strategy::NAMES {
            assert!(Strategy::parse(name).is_some(), "{name}");
        }
        assert_eq!(Strategy::parse("fastest"), None);
    }
}
