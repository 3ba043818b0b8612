//! Google API errors in → our classified [`Error`] (Gemini and Vertex share the shape:
//! `{"error": {"code", "message", "status", "details": [...]}}`, Vertex sometimes wrapped in
//! an array).
//!
//! Google quirks handled here: a wrong API key is a 400 `INVALID_ARGUMENT` whose details say
//! `API_KEY_INVALID` (OpenAI clients expect 401); the wait of a 429 is in a `RetryInfo` detail
//! (`"retryDelay": "7s"`) rather than a header; a too-long prompt is a plain 400 whose message
//! says the token count exceeds the limit.

use bytes::Bytes;
use http::HeaderMap;
use llm_types::{Error, ErrorKind};
use serde::Deserialize;
use std::time::Duration;

use crate::redact::redact_secrets;
use crate::upstream::{self, error_from_parts};

#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(default)]
    error: Option<Status>,
}

/// `google.rpc.Status`.
#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    retry_delay: Option<String>,
}

fn parse(body: &[u8]) -> Option<Status> {
    // serde would read a struct from an array too: only an object is the plain envelope.
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if object {
        return serde_json::from_slice::<Envelope>(body).ok()?.error;
    }
    serde_json::from_slice::<Vec<Envelope>>(body)
        .ok()?
        .into_iter()
        .find_map(|e| e.error)
}

/// Whether `body` is a Google error (`google.rpc.Status`, which names its `status`), as
/// opposed to an error body of a partner model served through Google (Anthropic on Vertex).
pub fn is_google_error(body: &[u8]) -> bool {
    parse(body).is_some_and(|status| status.status.is_some())
}

/// `"7s"`, `"0.5s"` → a duration.
fn retry_delay(status: &Status) -> Option<Duration> {
    status
        .details
        .iter()
        .filter_map(|d| d.retry_delay.as_deref())
        .find_map(|d| d.strip_suffix('s')?.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Our error for a Google error answer.
pub fn from_google(http_status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let Some(status) = parse(body) else {
        let (message, code, param) = upstream::error_fields(body, http_status);
        return error_from_parts(http_status, &message, code, param)
            .with_retry_after(upstream::retry_after(headers));
    };
    let reason = status.details.iter().find_map(|d| d.reason.as_deref());
    let lower = status.message.to_ascii_lowercase();
    let (http_status, code) = if reason == Some("API_KEY_INVALID")
        || lower.contains("api key not valid")
        || status.status.as_deref() == Some("UNAUTHENTICATED")
    {
        (401, Some("invalid_api_key"))
    } else if http_status == 400
        && (lower.contains("exceeds the maximum number of tokens")
            || (lower.contains("token count") && lower.contains("exceeds")))
    {
        (400, Some("context_length_exceeded"))
    } else if http_status == 400 && lower.contains("safety") && lower.contains("block") {
        (400, Some("content_policy_violation"))
    } else {
        (http_status, None)
    };
    let error = error_from_parts(
        http_status,
        &status.message,
        code.map(str::to_owned)
            .or_else(|| status.status.clone().map(|s| s.to_ascii_lowercase())),
        None,
    );
    error.with_retry_after(upstream::retry_after(headers).or_else(|| retry_delay(&status)))
}

/// An `{"error": ...}` event (or garbage) in the middle of a stream.
pub fn in_stream_error(data: &str) -> Error {
    match parse(data.as_bytes()) {
        Some(status) => {
            let kind = match status.status.as_deref() {
                Some("RESOURCE_EXHAUSTED") => ErrorKind::RateLimited,
                Some("INVALID_ARGUMENT") => ErrorKind::InvalidRequest,
                _ => ErrorKind::UpstreamServerError,
            };
            Error::upstream(
                kind,
                Some(200),
                format!(
                    "upstream error mid-stream: {}",
                    redact_secrets(&status.message)
                ),
            )
        }
        None => crate::stream_driver::bad_response(format!(
            "the upstream sent an invalid stream event: {}",
            redact_secrets(&data.chars().take(200).collect::<String>())
        )),
    }
}

/// Sends a JSON POST; a non-success answer becomes our error through [`from_google`].
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<reqwest::Response, Error> {
    upstream::send_refused_by(http, url, headers, body, from_google).await
}

/// Sends a JSON POST and reads the whole (bounded) success body.
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<Bytes, Error> {
    upstream::read_bounded(send(http, url, headers, body).await?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_google_errors() {
        // (status, body, expected status, expected code, expected Retry-After seconds)
        type Case<'a> = (u16, &'a str, u16, Option<&'a str>, Option<u64>);
        let cases: &[Case] = &[
            (
                400,
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
                401,
                Some("invalid_api_key"),
                None,
            ),
            (
                429,
                r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#,
                429,
                Some("resource_exhausted"),
                Some(7),
            ),
            (
                400,
                r#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#,
                400,
                Some("context_length_exceeded"),
                None,
            ),
            (
                404,
                r#"[{"error":{"code":404,"message":"Publisher Model not found.","status":"NOT_FOUND"}}]"#,
                404,
                Some("not_found"),
                None,
            ),
            (
                403,
                r#"{"error":{"code":403,"message":"Method doesn't allow unregistered callers","status":"PERMISSION_DENIED"}}"#,
                403,
                Some("permission_denied"),
                None,
            ),
            (503, "upstream connect error", 503, None, None),
        ];
        for (status, body, expected, code, retry) in cases {
            let error = from_google(*status, &HeaderMap::new(), body.as_bytes());
            assert_eq!(error.status(), *expected, "{body}");
            let error_code = error.code.as_deref();
            let retry_secs = error.retry_after.map(|d| d.as_secs());
            assert_eq!((error_code, retry_secs), (*code, *retry), "{body}");
        }
        let context = from_google(400, &HeaderMap::new(), cases[2].1.as_bytes());
        assert_eq!(context.kind, ErrorKind::ContextLengthExceeded);
    }

    #[test]
    fn reads_in_stream_errors() {
        let error = in_stream_error(
            r#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(error.kind, ErrorKind::RateLimited);
        assert_eq!(
            in_stream_error("not json").kind,
            ErrorKind::UpstreamBadResponse
        );
    }
}
