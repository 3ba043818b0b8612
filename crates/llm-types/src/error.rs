//! The one classified error of llm-gateway.
//!
//! Every failure, from a malformed request to an upstream that cut its stream, becomes an
//! [`Error`]: a [`ErrorKind`] (which decides the HTTP status, the OpenAI error `type`, whether a
//! retry may help and the metric label), where it came from ([`ErrorOrigin`]), and a message
//! that says what to fix. It renders as the OpenAI error body
//! `{"error": {"message", "type", "param", "code"}}`.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// What went wrong, at the granularity clients and metrics care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Malformed or invalid request (400).
    InvalidRequest,
    /// Missing or wrong credentials (401).
    Authentication,
    /// Credentials valid but not allowed (403).
    PermissionDenied,
    /// Unknown model, route or object (404).
    NotFound,
    /// The client took too long to send its request (408).
    RequestTimeout,
    /// Body over the configured limit (413).
    PayloadTooLarge,
    /// Well-formed but semantically rejected (422).
    Unprocessable,
    /// Too many requests or tokens (429).
    RateLimited,
    /// Prompt longer than the model's context window (400, `context_length_exceeded`).
    ContextLengthExceeded,
    /// The provider's content policy refused the request (400, `content_policy_violation`).
    ContentPolicy,
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream is overloaded or unreachable (503).
    UpstreamUnavailable,
    /// The upstream answered with something we cannot use: garbage, a cut stream (502).
    UpstreamBadResponse,
    /// The upstream failed with a 5xx (502).
    UpstreamServerError,
    /// A bug or an unexpected state of ours (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status an OpenAI client expects for this kind.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest
            | ErrorKind::ContextLengthExceeded
            | ErrorKind::ContentPolicy => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Unprocessable => 422,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::UpstreamBadResponse | ErrorKind::UpstreamServerError => 502,
            ErrorKind::UpstreamUnavailable => 503,
            ErrorKind::UpstreamTimeout => 504,
        }
    }

    /// The OpenAI error `type` string.
    pub fn openai_type(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest
            | ErrorKind::NotFound
            | ErrorKind::PayloadTooLarge
            | ErrorKind::Unprocessable
            | ErrorKind::ContextLengthExceeded
            | ErrorKind::ContentPolicy
            | ErrorKind::RequestTimeout => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::UpstreamTimeout => "timeout_error",
            ErrorKind::UpstreamUnavailable
            | ErrorKind::UpstreamBadResponse
            | ErrorKind::UpstreamServerError
            | ErrorKind::Internal => "api_error",
        }
    }

    /// The default `code` when the error carries none.
    fn default_code(self) -> Option<&'static str> {
        match self {
            ErrorKind::ContextLengthExceeded => Some("context_length_exceeded"),
            ErrorKind::ContentPolicy => Some("content_policy_violation"),
            ErrorKind::PayloadTooLarge => Some("request_too_large"),
            ErrorKind::RateLimited => Some("rate_limit_exceeded"),
            ErrorKind::UpstreamTimeout => Some("upstream_timeout"),
            ErrorKind::UpstreamBadResponse => Some("upstream_bad_response"),
            ErrorKind::UpstreamServerError | ErrorKind::UpstreamUnavailable => {
                Some("upstream_error")
            }
            _ => None,
        }
    }

    /// Whether trying again (later, or on another deployment) may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::RequestTimeout
                | ErrorKind::UpstreamTimeout
                | ErrorKind::UpstreamUnavailable
                | ErrorKind::UpstreamBadResponse
                | ErrorKind::UpstreamServerError
        )
    }

    /// A low-cardinality label for metrics and logs.
    pub fn metric_label(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Unprocessable => "unprocessable",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ContextLengthExceeded => "context_length_exceeded",
            ErrorKind::ContentPolicy => "content_policy",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::UpstreamUnavailable => "upstream_unavailable",
            ErrorKind::UpstreamBadResponse => "upstream_bad_response",
            ErrorKind::UpstreamServerError => "upstream_server_error",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind for an HTTP status an upstream answered with.
    pub fn from_upstream_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::InvalidRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::UpstreamTimeout,
            413 => ErrorKind::PayloadTooLarge,
            422 => ErrorKind::Unprocessable,
            429 => ErrorKind::RateLimited,
            503 | 529 => ErrorKind::UpstreamUnavailable,
            504 => ErrorKind::UpstreamTimeout,
            500..=599 => ErrorKind::UpstreamServerError,
            _ => ErrorKind::InvalidRequest,
        }
    }
}

/// Where an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorOrigin {
    /// The client's request.
    Client,
    /// A provider; `status` is what it answered, if it answered.
    Provider { status: Option<u16> },
    /// The gateway itself.
    Internal,
}

/// The classified error. Cheap to build; messages never contain secrets (callers redact).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub origin: ErrorOrigin,
    pub message: Cow<'static, str>,
    /// The request field at fault, e.g. `messages[0].content`.
    pub param: Option<String>,
    /// A machine-readable code; defaults by kind when absent.
    pub code: Option<Cow<'static, str>>,
    /// How long the client should wait before retrying (429 / 503).
    pub retry_after: Option<Duration>,
}

impl Error {
    /// A new error of `kind` from `origin`.
    pub fn new(
        kind: ErrorKind,
        origin: ErrorOrigin,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error {
            kind,
            origin,
            message: message.into(),
            param: None,
            code: None,
            retry_after: None,
        }
    }

    /// A 400 about the client's request.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidRequest, ErrorOrigin::Client, message)
    }

    /// A 400 naming the field at fault.
    pub fn invalid_param(param: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Self {
        Error::invalid_request(message).with_param(param)
    }

    /// A 500 for a bug of ours.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Internal, ErrorOrigin::Internal, message)
    }

    /// An error a provider caused, with the status it answered (if any).
    pub fn upstream(
        kind: ErrorKind,
        status: Option<u16>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error::new(kind, ErrorOrigin::Provider { status }, message)
    }

    /// Sets the field at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets the machine-readable code.
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets how long to wait before retrying.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The OpenAI error body for this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                message: self.message.to_string(),
                kind: self.kind.openai_type().to_owned(),
                param: self.param.clone(),
                code: self
                    .code
                    .as_deref()
                    .or(self.kind.default_code())
                    .map(str::to_owned),
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.kind.metric_label(),
            self.status(),
            self.message
        )
    }
}

impl std::error::Error for Error {}

/// `{"error": {...}}`, the OpenAI error envelope. Also parsed from upstream error bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The inside of the OpenAI error envelope. All four keys are always written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default, deserialize_with = "code_as_string")]
    pub code: Option<String>,
}

/// Upstreams send `code` as a string, a number or null; we always emit a string.
fn code_as_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_statuses_map_to_what_openai_clients_expect() {
        let cases = [
            (400, 400, false),
            (401, 401, false),
            (403, 403, false),
            (404, 404, false),
            (408, 504, true),
            (413, 413, false),
            (422, 422, false),
            (429, 429, true),
            (500, 502, true),
            (502, 502, true),
            (503, 503, true),
            (504, 504, true),
            (529, 503, true),
        ];
        for (upstream, status, retryable) in cases {
            let kind = ErrorKind::from_upstream_status(upstream);
            assert_eq!(
                (kind.status(), kind.is_retryable()),
                (status, retryable),
                "{upstream}"
            );
        }
    }

    #[test]
    fn body_always_has_all_four_keys() {
        let body = serde_json::to_value(Error::invalid_param("messages", "bad").body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"message": "bad", "type": "invalid_request_error",
                "param": "messages", "code": null}})
        );
        let limited = Error::new(
            ErrorKind::RateLimited,
            ErrorOrigin::Provider { status: Some(429) },
            "slow down",
        );
        let body = serde_json::to_value(limited.body()).unwrap();
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_eq!(body["error"]["type"], "rate_limit_error");
    }

    #[test]
    fn parses_upstream_error_bodies_with_odd_codes() {
        let cases = [
            (
                r#"{"error":{"message":"m","type":"t","param":null,"code":"x"}}"#,
                Some("x"),
            ),
            (
                r#"{"error":{"message":"m","type":"t","code":429}}"#,
                Some("429"),
            ),
            (r#"{"error":{"message":"m"}}"#, None),
        ];
        for (text, code) in cases {
            let body: ErrorBody = serde_json::from_str(text).unwrap();
            assert_eq!(body.error.code.as_deref(), code, "{text}");
        }
    }
}
