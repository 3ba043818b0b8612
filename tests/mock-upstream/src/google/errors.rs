//! Google-shaped error answers: `{"error": {"code", "message", "status", "details"}}`.
//!
//! Real quirks kept: a wrong API key is a 400 `INVALID_ARGUMENT` with reason
//! `API_KEY_INVALID`; a 429 says its wait in a `RetryInfo` detail, not in a header.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One Google error answer.
#[derive(Debug, Clone)]
pub(crate) struct GoogleError {
    status: StatusCode,
    message: String,
    details: Vec<Value>,
}

impl GoogleError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn bad_key() -> Self {
        Self {
            details: vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}
            })],
            ..Self::invalid("API key not valid. Please pass a valid API key.")
        }
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential.",
        )
    }

    /// The error a scripted `error-<status>` model answers with.
    pub(crate) fn scripted(status: StatusCode, model: &str) -> Self {
        let mut error = Self::new(
            status,
            format!(
                "This is a scripted mock error: status {} requested by model '{model}'.",
                status.as_u16()
            ),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            error.details.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": "7s"
            }));
        }
        error
    }

    /// The canonical `google.rpc.Code` name of the HTTP status.
    fn rpc_status(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 => "ABORTED",
            429 => "RESOURCE_EXHAUSTED",
            499 => "CANCELLED",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            500..=599 => "INTERNAL",
            _ => "FAILED_PRECONDITION",
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut error = json!({
            "code": self.status.as_u16(),
            "message": self.message,
            "status": self.rpc_status(),
        });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
