//! Where a batch goes, built once per sink: an HTTP endpoint (webhook JSON or OTLP
//! protobuf) or a JSON-lines writer. A failed delivery says whether a retry may help.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use llm_providers::http_client::{HttpClient, build_http_client};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

use super::{encode, otlp};
use crate::config::{JsonlTarget, SinkConfig, SinkTarget};
use crate::request_log::RequestRecord;

/// A failed delivery. The message never holds a header value or the URL (webhook URLs may
/// carry tokens).
#[derive(Debug)]
pub(super) struct Failure {
    pub retryable: bool,
    pub message: String,
}

impl Failure {
    fn retryable(message: impl Into<String>) -> Failure {
        Failure {
            retryable: true,
            message: message.into(),
        }
    }
}

/// How a sink encodes a batch.
#[derive(Debug, Clone, Copy)]
enum Format {
    JsonArray,
    OtlpProtobuf,
    JsonLines,
}

/// Where a sink writes.
enum Output {
    Http {
        client: HttpClient,
        url: String,
        headers: HeaderMap,
        timeout: Duration,
    },
    Stdout,
    Stderr,
    File(tokio::fs::File),
}

pub(super) struct Destination {
    format: Format,
    output: Output,
    redact_content: bool,
}

impl Destination {
    /// The destination of `config`: headers checked, the file opened for appending.
    pub(super) fn build(config: &SinkConfig) -> Result<Destination, String> {
        let http = |url: &str, headers: &[(String, llm_providers::Secret)], content_type| {
            let mut map = HeaderMap::new();
            map.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            for (name, value) in headers {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("`{name}` is not a valid header name"))?;
                let mut value = HeaderValue::from_str(value.expose())
                    .map_err(|_| format!("the value of header `{name}` is not valid"))?;
                value.set_sensitive(true);
                map.insert(name, value);
            }
            let client = build_http_client().map_err(|e| e.message.to_string())?;
            Ok::<_, String>(Output::Http {
                client,
                url: url.to_owned(),
                headers: map,
                timeout: config.timeout,
            })
        };
        let (format, output) = match &config.target {
            SinkTarget::Webhook { url, headers } => {
                (Format::JsonArray, http(url, headers, "application/json")?)
            }
            SinkTarget::Otlp { endpoint, headers } => (
                Format::OtlpProtobuf,
                http(endpoint, headers, "application/x-protobuf")?,
            ),
            SinkTarget::Jsonl(JsonlTarget::Stdout) => (Format::JsonLines, Output::Stdout),
            SinkTarget::Jsonl(JsonlTarget::Stderr) => (Format::JsonLines, Output::Stderr),
            SinkTarget::Jsonl(JsonlTarget::File(path)) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open {} for appending: {e}", path.display()))?;
                (
                    Format::JsonLines,
                    Output::File(tokio::fs::File::from_std(file)),
                )
            }
        };
        Ok(Destination {
            format,
            output,
            redact_content: config.redact_content,
        })
    }

    /// The body of one delivery of `batch`, encoded once for every attempt.
    pub(super) fn encode(&self, batch: &[Arc<RequestRecord>]) -> Bytes {
        let redact = self.redact_content;
        match self.format {
            Format::JsonArray => encode::json_array(batch, redact),
            Format::JsonLines => encode::json_lines(batch, redact),
            Format::OtlpProtobuf => otlp::export_request(batch, redact),
        }
    }

    /// One delivery attempt.
    pub(super) async fn send(&mut self, body: Bytes) -> Result<(), Failure> {
        match &mut self.output {
            Output::Http {
                client,
                url,
                headers,
                timeout,
            } => post(client, url, headers, *timeout, body).await,
            Output::Stdout => write_std(body, false).await,
            Output::Stderr => write_std(body, true).await,
            Output::File(file) => {
                let written = async {
                    file.write_all(&body).await?;
                    // tokio's File hands writes to a blocking thread: wait until it is done.
                    file.flush().await
                };
                written
                    .await
                    .map_err(|e| Failure::retryable(format!("cannot write the file: {e}")))
            }
        }
    }
}

/// POSTs `body`; 2xx is delivered. Timeouts, connection errors, 408, 429 and 5xx may pass
/// on a retry; any other status will not.
async fn post(
    client: &HttpClient,
    url: &str,
    headers: &HeaderMap,
    timeout: Duration,
    body: Bytes,
) -> Result<(), Failure> {
    let response = client
        .post(url)
        .headers(headers.clone())
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::retryable(e.without_url().to_string()))?;
    let status = response.status();
    // Read the (small) answer so the connection goes back to the pool.
    let _ = response.bytes().await;
    if status.is_success() {
        return Ok(());
    }
    let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
    Err(Failure {
        retryable,
        message: format!("the sink answered {status}"),
    })
}

/// Writes JSON lines to the process's stdout or stderr. The standard handle's lock keeps a
/// batch's lines whole between other writers; a blocking thread keeps a stalled pipe off
/// the runtime.
async fn write_std(body: Bytes, stderr: bool) -> Result<(), Failure> {
    use std::io::Write as _;
    let written = tokio::task::spawn_blocking(move || {
        // The one place request-log lines reach stdout (`print_stdout` is about `print!`).
        if stderr {
            let mut out = std::io::stderr().lock();
            out.write_all(&body).and_then(|()| out.flush())
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(&body).and_then(|()| out.flush())
        }
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Failure::retryable(format!("cannot write: {e}"))),
        Err(e) => Err(Failure::retryable(format!("writer task failed: {e}"))),
    }
}
