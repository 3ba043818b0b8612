//! Azure's error answers: OpenAI's envelope with Azure's twists (`type: null`, numeric-string
//! codes, the content filter's `innererror`), mapped to our classified error.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use llm_types::Error;
use serde::Deserialize;

use crate::upstream::{self, MAX_UPSTREAM_BODY, error_fields, error_from_parts, transport_error};

/// `{"error": {...}}` as Azure writes it; every field optional because Azure's gateways,
/// content filter and OpenAI backend each fill a different subset.
#[derive(Debug, Deserialize)]
struct AzureErrorBody {
    error: AzureError,
}

#[derive(Debug, Deserialize)]
struct AzureError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<Code>,
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    innererror: Option<InnerError>,
}

/// Azure writes codes as strings (`"content_filter"`, `"429"`) and sometimes as numbers.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Code {
    Text(String),
    Number(i64),
}

#[derive(Debug, Deserialize)]
struct InnerError {
    #[serde(default)]
    code: Option<String>,
}

/// Our error for an Azure error answer.
pub(crate) fn map_error(status: u16, body: &[u8]) -> Error {
    let Ok(parsed) = serde_json::from_slice::<AzureErrorBody>(body) else {
        let (message, code, param) = error_fields(body, status);
        return error_from_parts(status, &message, code, param);
    };
    let error = parsed.error;
    let code = match error.code {
        Some(Code::Text(code)) => Some(code),
        Some(Code::Number(code)) => Some(code.to_string()),
        None => None,
    };
    let filtered = code.as_deref() == Some("content_filter")
        || error.innererror.and_then(|i| i.code).as_deref() == Some("ResponsibleAIPolicyViolation");
    // Numeric codes only repeat the status; OpenAI clients expect a name or nothing.
    let code = if filtered {
        Some("content_policy_violation".to_owned())
    } else {
        code.filter(|c| c.parse::<u16>().is_err())
    };
    let message = error
        .message
        .unwrap_or_else(|| format!("Azure OpenAI answered {status}"));
    error_from_parts(status, &message, code, error.param)
}

/// Sends a JSON POST; a non-success answer becomes our error through [`map_error`].
pub(crate) async fn send(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<reqwest::Response, Error> {
    upstream::send_refused_by(http, url, headers, body, |status, headers, body| {
        map_error(status, body).with_retry_after(upstream::retry_after(headers))
    })
    .await
}

/// Sends a JSON POST and reads the whole (bounded) success body.
pub(crate) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<Bytes, Error> {
    read_bounded(send(http, url, headers, body).await?).await
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Bytes, Error> {
    let mut body = BytesMut::new();
    while let Some(piece) = response.chunk().await.map_err(transport_error)? {
        if body.len() + piece.len() > MAX_UPSTREAM_BODY {
            return Err(crate::stream_driver::bad_response(format!(
                "the upstream answer exceeds {} MiB",
                MAX_UPSTREAM_BODY >> 20
            )));
        }
        body.extend_from_slice(&piece);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::ErrorKind;

    #[test]
    fn maps_azure_error_bodies() {
        let cases: &[(u16, &str, ErrorKind, Option<&str>)] = &[
            (
                400,
                r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}"#,
                ErrorKind::ContentPolicy,
                Some("content_policy_violation"),
            ),
            (
                400,
                r#"{"error":{"message":"filtered","code":"other","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#,
                ErrorKind::ContentPolicy,
                Some("content_policy_violation"),
            ),
            (
                401,
                r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}"#,
                ErrorKind::Authentication,
                None,
            ),
            (
                429,
                r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded token rate limit."}}"#,
                ErrorKind::RateLimited,
                Some("rate_limit_exceeded"),
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
                ErrorKind::ContextLengthExceeded,
                Some("context_length_exceeded"),
            ),
            (
                404,
                r#"{"error":{"code":404,"message":"Resource not found"}}"#,
                ErrorKind::NotFound,
                None,
            ),
            (
                503,
                "upstream connect error",
                ErrorKind::UpstreamUnavailable,
                Some("upstream_error"),
            ),
        ];
        for (status, body, kind, code) in cases {
            let error = map_error(*status, body.as_bytes());
            assert_eq!(error.kind, *kind, "{body}");
            assert_eq!(error.body().error.code.as_deref(), *code, "{body}");
            assert!(!error.message.is_empty());
        }
    }
}
