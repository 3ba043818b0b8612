//! HTTP exchange with an upstream: the headers adapters prebuild, sending, bounded reads,
//! timeouts and error mapping.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};
use llm_types::{Error, ErrorBody, ErrorKind};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::provider::ChatStream;
use crate::redact::redact_secrets;
use crate::stream_driver::{self, Framing, Translator};
use crate::target::ProviderTarget;

/// The largest upstream body we read: a bound against a runaway or hostile upstream.
pub const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// The Unix time an answer is stamped with (`created`).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A non-empty environment variable.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Fails unless `base` (an `api_base`) is an http:// or https:// URL.
pub fn check_http_base(base: &str) -> Result<(), Error> {
    if base.starts_with("http://") || base.starts_with("https://") {
        Ok(())
    } else {
        Err(Error::invalid_param(
            "api_base",
            format!("`api_base` must start with http:// or https://, got `{base}`"),
        ))
    }
}

/// `content-type: application/json`, where every JSON adapter's headers start.
pub fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

/// A credential (`api_key`) as a header value, marked sensitive so it never shows in logs.
pub fn credential_value(value: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_param(
            "api_key",
            "the API key contains characters not allowed in an HTTP header",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sets one configured header (an `extra_headers` entry), over any of the same name.
pub fn insert_header(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), Error> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Error::invalid_param("extra_headers", format!("invalid header name `{name}`"))
    })?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_param(
            "extra_headers",
            format!("invalid value for header `{name}`"),
        )
    })?;
    headers.insert(name, value);
    Ok(())
}

/// Sets the deployment's `extra_headers`, over any of the same name.
pub fn insert_extra_headers(
    headers: &mut HeaderMap,
    extra: &[(String, String)],
) -> Result<(), Error> {
    for (name, value) in extra {
        insert_header(headers, name, value)?;
    }
    Ok(())
}

/// `content-type: application/json`, `Authorization: Bearer <key>` when there is a key, and the
/// deployment's `extra_headers`.
pub fn bearer_json_headers(
    key: Option<&str>,
    extra: &[(String, String)],
) -> Result<HeaderMap, Error> {
    let mut headers = json_headers();
    if let Some(key) = key {
        headers.insert(
            header::AUTHORIZATION,
            credential_value(&format!("Bearer {key}"))?,
        );
    }
    insert_extra_headers(&mut headers, extra)?;
    Ok(headers)
}

/// Runs `call`, failing with a 504 when it takes longer than `limit`.
pub async fn within<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(Error::upstream(
            ErrorKind::UpstreamTimeout,
            None,
            format!(
                "the upstream did not answer within {:.1}s",
                limit.as_secs_f64()
            ),
        ))
    })
}

/// Sends a JSON POST; resolves with the response once its status is a success, else fails
/// with our error for the answer, keeping its message (redacted), code, param and
/// `Retry-After`.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<reqwest::Response, Error> {
    send_refused_by(http, url, headers, body, |status, headers, body| {
        let (message, code, param) = error_fields(body, status);
        error_from_parts(status, &message, code, param).with_retry_after(retry_after(headers))
    })
    .await
}

/// Sends a JSON POST; resolves with the response once its status is a success, else fails
/// with the error `refuse` makes of the answer's status, headers and (bounded) body: where a
/// family with its own error bodies plugs in its mapping.
pub async fn send_refused_by(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
    refuse: impl FnOnce(u16, &HeaderMap, &[u8]) -> Error,
) -> Result<reqwest::Response, Error> {
    let mut headers = headers.clone();
    crate::trace_headers::inject(&mut headers);
    let response = http
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(transport_error)?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_bounded(response).await.unwrap_or_default();
    Err(refuse(status, &headers, &body))
}

/// Sends a JSON POST and reads the whole (bounded) success body.
pub async fn post_json(
    http: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> Result<Bytes, Error> {
    let response = send(http, url, headers, body).await?;
    read_bounded(response).await
}

/// How one deployment reaches its upstream, prebuilt at configuration time: the pooled
/// client, the headers every request carries, and the two time limits (`timeout` for a whole
/// call, `stream_timeout` for a stream's head and between its chunks).
#[derive(Debug, Clone)]
pub struct Transport {
    pub http: reqwest::Client,
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub stream_timeout: Duration,
}

impl Transport {
    /// The transport of `target` (its time limits) sending `headers` through `http`.
    pub fn new(target: &ProviderTarget, http: reqwest::Client, headers: HeaderMap) -> Transport {
        Transport {
            http,
            headers,
            timeout: target.timeout(),
            stream_timeout: target.stream_timeout(),
        }
    }

    /// A non-streamed call: POSTs `body` to `url` and reads the whole (bounded) success body,
    /// all within `timeout`.
    pub async fn post(&self, url: &str, body: Vec<u8>) -> Result<Bytes, Error> {
        within(
            self.timeout,
            post_json(&self.http, url, &self.headers, body),
        )
        .await
    }

    /// Opens a stream: POSTs `body` to `url` and resolves with the response once its head says
    /// success, within `stream_timeout`.
    pub async fn open_stream(&self, url: &str, body: Vec<u8>) -> Result<reqwest::Response, Error> {
        within(
            self.stream_timeout,
            send(&self.http, url, &self.headers, body),
        )
        .await
    }

    /// The chunks of an opened stream, `stream_timeout` allowed between frames.
    pub fn drive<F, T>(&self, response: reqwest::Response, framing: F, translator: T) -> ChatStream
    where
        F: Framing,
        T: Translator<Frame = F::Frame>,
    {
        stream_driver::drive(response, framing, translator, self.stream_timeout)
    }
}

/// Reads a body up to [`MAX_UPSTREAM_BODY`].
pub async fn read_bounded(mut response: reqwest::Response) -> Result<Bytes, Error> {
    let mut body = BytesMut::new();
    while let Some(piece) = response.chunk().await.map_err(transport_error)? {
        if body.len() + piece.len() > MAX_UPSTREAM_BODY {
            return Err(Error::upstream(
                ErrorKind::UpstreamBadResponse,
                None,
                format!(
                    "the upstream answer exceeds {} MiB",
                    MAX_UPSTREAM_BODY >> 20
                ),
            ));
        }
        body.extend_from_slice(&piece);
    }
    Ok(body.freeze())
}

/// Parses a success body into our typed response.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::upstream(
            ErrorKind::UpstreamBadResponse,
            Some(200),
            format!("the upstream sent an invalid {what}: {e}"),
        )
    })
}

/// Maps a failure to reach or read from the upstream.
pub fn transport_error(error: reqwest::Error) -> Error {
    let (kind, what) = if error.is_timeout() {
        (ErrorKind::UpstreamTimeout, "timed out")
    } else if error.is_connect() {
        (ErrorKind::UpstreamUnavailable, "could not connect")
    } else if error.is_body() || error.is_decode() {
        (
            ErrorKind::UpstreamBadResponse,
            "the connection broke while reading the answer",
        )
    } else {
        (
            ErrorKind::UpstreamBadResponse,
            "the request to the upstream failed",
        )
    };
    // reqwest's message names the URL, never headers; redact anyway in case a key sits in it.
    Error::upstream(
        kind,
        None,
        format!("upstream {what}: {}", redact_secrets(&error.to_string())),
    )
}

/// Our error for an upstream status and the fields of its error body. Families with their own
/// error codes map them first and call this with OpenAI's names.
pub fn error_from_parts(
    status: u16,
    message: &str,
    code: Option<String>,
    param: Option<String>,
) -> Error {
    let kind = match (ErrorKind::from_upstream_status(status), code.as_deref()) {
        (ErrorKind::InvalidRequest, Some("context_length_exceeded")) => {
            ErrorKind::ContextLengthExceeded
        }
        (ErrorKind::InvalidRequest, Some("content_policy_violation" | "content_filter")) => {
            ErrorKind::ContentPolicy
        }
        (kind, _) => kind,
    };
    let mut error = Error::upstream(
        kind,
        Some(status),
        format!("upstream error: {}", redact_secrets(message)),
    );
    if let Some(code) = code {
        error = error.with_code(redact_secrets(&code));
    }
    if let Some(param) = param {
        error = error.with_param(param);
    }
    error
}

/// Message, code and param of an upstream error body, whatever its shape: OpenAI's
/// `{"error": {"message", "code", "param"}}` (Anthropic's and Google's nest the same way),
/// `{"message": ...}` (AWS, Cohere), `{"error": "..."}` (Ollama), or plain text.
pub fn error_fields(body: &[u8], status: u16) -> (String, Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Flat {
        message: Option<String>,
        error: Option<String>,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body)
        && !parsed.error.message.is_empty()
    {
        return (parsed.error.message, parsed.error.code, parsed.error.param);
    }
    if let Ok(flat) = serde_json::from_slice::<Flat>(body)
        && let Some(message) = flat.message.or(flat.error).filter(|m| !m.is_empty())
    {
        return (message, None, None);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(300)])
        .trim()
        .to_owned();
    let message = if text.is_empty() {
        format!("the upstream answered {status}")
    } else {
        text
    };
    (message, None, None)
}

/// `retry-after-ms` (OpenAI) or `Retry-After` in seconds; HTTP-date values are ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_error_bodies_of_every_shape() {
        let cases: &[(&[u8], &str, Option<&str>)] = &[
            (
                br#"{"error":{"message":"bad","type":"x","param":null,"code":"c"}}"#,
                "bad",
                Some("c"),
            ),
            (
                br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
                "busy",
                None,
            ),
            (
                br#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#,
                "quota",
                Some("429"),
            ),
            (
                br#"{"message":"The security token included in the request is invalid."}"#,
                "The security token included in the request is invalid.",
                None,
            ),
            (
                br#"{"error":"model 'x' not found"}"#,
                "model 'x' not found",
                None,
            ),
            (b"upstream connect error", "upstream connect error", None),
            (b"", "the upstream answered 503", None),
        ];
        for (body, message, code) in cases {
            let (got, got_code, _) = error_fields(body, 503);
            assert_eq!((got.as_str(), got_code.as_deref()), (*message, *code));
        }
    }

    #[test]
    fn reads_retry_after_in_its_forms() {
        let cases = [
            (vec![("retry-after", "7")], Some(Duration::from_secs(7))),
            (
                vec![("retry-after", "1.5")],
                Some(Duration::from_millis(1500)),
            ),
            (
                vec![("retry-after-ms", "250"), ("retry-after", "9")],
                Some(Duration::from_millis(250)),
            ),
            (vec![("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
            (vec![("retry-after", "-1")], None),
            (vec![], None),
        ];
        for (pairs, expected) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in &pairs {
                headers.insert(*name, value.parse().unwrap());
            }
            assert_eq!(retry_after(&headers), expected, "{pairs:?}");
        }
    }
}
