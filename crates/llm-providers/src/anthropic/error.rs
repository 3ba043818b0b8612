//! Anthropic errors → our classified error.
//!
//! Anthropic names its errors (`{"type": "error", "error": {"type": "rate_limit_error", ...}}`)
//! and says "prompt is too long" for a context overflow; both map onto what OpenAI clients
//! expect: 400 `context_length_exceeded`, 401, 403, 404, 413, 429 with `Retry-After`, and
//! `overloaded_error` (HTTP 529) as a retryable 503.

use std::time::Duration;

use llm_types::Error;

use super::wire::{AnthropicErrorBody, AnthropicErrorDetail};
use crate::upstream::{error_fields, error_from_parts};

/// The HTTP status Anthropic documents for an error type (used for in-stream errors, which
/// arrive on a 200).
fn status_of(kind: &str) -> Option<u16> {
    Some(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => return None,
    })
}

/// The OpenAI-style code for an Anthropic error.
fn code_of(kind: &str, message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    if kind == "invalid_request_error" {
        if lower.contains("prompt is too long")
            || lower.contains("context window")
            || lower.contains("exceed context limit")
        {
            return Some("context_length_exceeded".to_owned());
        }
        if lower.contains("content filtering") || lower.contains("content policy") {
            return Some("content_policy_violation".to_owned());
        }
    }
    (!kind.is_empty()).then(|| kind.to_owned())
}

/// Our error for an upstream HTTP error: its status, body and `Retry-After`.
pub fn error_from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    match serde_json::from_slice::<AnthropicErrorBody>(body) {
        Ok(parsed) => {
            let code = code_of(&parsed.error.kind, &parsed.error.message);
            error_from_parts(status, &parsed.error.message, code, None)
        }
        Err(_) => {
            let (message, code, param) = error_fields(body, status);
            error_from_parts(status, &message, code, param)
        }
    }
    .with_retry_after(retry_after)
}

/// Our error for an `error` event in a stream.
pub fn stream_error(error: &AnthropicErrorDetail) -> Error {
    let status = status_of(&error.kind).unwrap_or(500);
    error_from_parts(
        status,
        &format!("mid-stream: {}", error.message),
        code_of(&error.kind, &error.message),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::ErrorKind;

    fn body(kind: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn maps_every_error_type() {
        let cases = [
            (
                400,
                "invalid_request_error",
                "max_tokens: Field required",
                400,
                ErrorKind::InvalidRequest,
                false,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
                400,
                ErrorKind::ContextLengthExceeded,
                false,
            ),
            (
                401,
                "authentication_error",
                "invalid x-api-key",
                401,
                ErrorKind::Authentication,
                false,
            ),
            (
                403,
                "permission_error",
                "no access",
                403,
                ErrorKind::PermissionDenied,
                false,
            ),
            (
                404,
                "not_found_error",
                "model: claude-x",
                404,
                ErrorKind::NotFound,
                false,
            ),
            (
                413,
                "request_too_large",
                "too big",
                413,
                ErrorKind::PayloadTooLarge,
                false,
            ),
            (
                429,
                "rate_limit_error",
                "slow down",
                429,
                ErrorKind::RateLimited,
                true,
            ),
            (
                500,
                "api_error",
                "oops",
                502,
                ErrorKind::UpstreamServerError,
                true,
            ),
            (
                529,
                "overloaded_error",
                "Overloaded",
                503,
                ErrorKind::UpstreamUnavailable,
                true,
            ),
        ];
        for (status, kind, message, expected_status, expected_kind, retryable) in cases {
            let error = error_from_response(status, &body(kind, message), None);
            assert_eq!(
                (error.status(), error.kind, error.is_retryable()),
                (expected_status, expected_kind, retryable),
                "{kind}"
            );
            assert!(error.message.contains(message), "{}", error.message);
            let streamed = stream_error(&AnthropicErrorDetail {
                kind: kind.to_owned(),
                message: message.to_owned(),
            });
            assert_eq!(streamed.kind, expected_kind, "streamed {kind}");
        }
    }

    #[test]
    fn keeps_retry_after_and_tolerates_other_bodies() {
        let error = error_from_response(
            429,
            &body("rate_limit_error", "x"),
            Some(Duration::from_secs(7)),
        );
        assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
        let error = error_from_response(502, b"<html>bad gateway</html>", None);
        assert_eq!(error.status(), 502);
        assert!(error.message.contains("bad gateway"));
    }
}
