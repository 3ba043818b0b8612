//! Bedrock errors → our error: HTTP errors named by the `x-amzn-ErrorType` header (or the
//! body's `__type`), and exceptions sent inside an event stream (`:exception-type`).

use llm_types::{Error, ErrorKind};

use crate::redact::redact_secrets;
use crate::upstream::error_from_parts;

/// The error type without its namespace suffix or prefix
/// (`ThrottlingException:http://internal.amazon.com/...`, `com.amazon.coral#Throttling...`).
pub fn short_type(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

/// Whether a validation message means the prompt exceeds the model's context window.
fn is_context_length(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "too long",
        "input is too long",
        "context length",
        "too many input tokens",
        "prompt is too long",
        "maximum context",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

/// Our error for an HTTP error answer: `error_type` as AWS names it (may be empty), the
/// status and the body's message.
pub fn http_error(status: u16, error_type: &str, message: &str) -> Error {
    let kind = short_type(error_type);
    let (status, code) = match kind {
        "ThrottlingException" | "TooManyRequestsException" => (429, None),
        "AccessDeniedException" => (403, None),
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException"
        | "IncompleteSignatureException" => (401, None),
        "ValidationException" if is_context_length(message) => {
            (400, Some("context_length_exceeded"))
        }
        "ValidationException" => (400, None),
        "ResourceNotFoundException" => (404, None),
        "ServiceUnavailableException" => (503, None),
        "ModelTimeoutException" => (504, None),
        "ModelNotReadyException" => (503, None),
        "InternalServerException" | "ModelErrorException" => (500, None),
        _ if status == 400 && is_context_length(message) => (400, Some("context_length_exceeded")),
        _ => (status, None),
    };
    let message = if kind.is_empty() {
        message.to_owned()
    } else {
        format!("{kind}: {message}")
    };
    error_from_parts(status, &message, code.map(str::to_owned), None)
}

/// Our error for an exception inside a ConverseStream (`throttlingException`, ...).
pub fn stream_exception(exception_type: &str, message: &str) -> Error {
    let kind = match exception_type {
        "throttlingException" => ErrorKind::RateLimited,
        "validationException" if is_context_length(message) => ErrorKind::ContextLengthExceeded,
        "validationException" => ErrorKind::InvalidRequest,
        "serviceUnavailableException" => ErrorKind::UpstreamUnavailable,
        "modelTimeoutException" => ErrorKind::UpstreamTimeout,
        // modelStreamErrorException, internalServerException and anything newer.
        _ => ErrorKind::UpstreamServerError,
    };
    let mut error = Error::upstream(
        kind,
        Some(200),
        format!(
            "upstream error mid-stream: {exception_type}: {}",
            redact_secrets(message)
        ),
    );
    if kind == ErrorKind::ContextLengthExceeded {
        error = error.with_code("context_length_exceeded");
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_http_errors() {
        let cases = [
            (
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                429,
                "Too many requests",
                429,
                None,
            ),
            (
                "AccessDeniedException",
                403,
                "You don't have access",
                403,
                None,
            ),
            (
                "UnrecognizedClientException",
                403,
                "The security token included in the request is invalid.",
                401,
                None,
            ),
            (
                "InvalidSignatureException",
                403,
                "The request signature we calculated does not match",
                401,
                None,
            ),
            (
                "ValidationException",
                400,
                "Input is too long for requested model.",
                400,
                Some("context_length_exceeded"),
            ),
            (
                "ValidationException",
                400,
                "Malformed input request",
                400,
                None,
            ),
            (
                "ResourceNotFoundException",
                404,
                "Model not found",
                404,
                None,
            ),
            ("ServiceUnavailableException", 503, "busy", 503, None),
            ("ModelTimeoutException", 408, "timed out", 504, None),
            (
                "com.amazon.coral.service#InternalServerException",
                500,
                "oops",
                502,
                None,
            ),
            (
                "",
                400,
                "prompt is too long: 300000 tokens",
                400,
                Some("context_length_exceeded"),
            ),
            ("", 418, "teapot", 400, None),
        ];
        for (kind, status, message, want_status, want_code) in cases {
            let error = http_error(status, kind, message);
            assert_eq!(
                (error.status(), error.code.as_deref()),
                (want_status, want_code),
                "{kind} {status}"
            );
        }
        let throttled = http_error(429, "ThrottlingException", "slow down");
        assert!(throttled.is_retryable());
        assert!(http_error(503, "ServiceUnavailableException", "x").is_retryable());
    }

    #[test]
    fn maps_stream_exceptions() {
        let cases = [
            ("throttlingException", "x", 429),
            ("validationException", "bad", 400),
            ("validationException", "Input is too long", 400),
            ("modelStreamErrorException", "x", 502),
            ("internalServerException", "x", 502),
            ("serviceUnavailableException", "x", 503),
            ("modelTimeoutException", "x", 504),
        ];
        for (kind, message, status) in cases {
            assert_eq!(stream_exception(kind, message).status(), status, "{kind}");
        }
    }
}
