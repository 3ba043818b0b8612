//! Starting and stopping the export: the OTLP/HTTP (protobuf) exporter, sending through the
//! workspace's reqwest client, behind the SDK's batch processor.

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SpanExporter as _, SpanProcessor};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::late::{HOOKS, LateProcessor, export_targets};
use super::{CAPTURE_CONTENT, EXPORTING, propagation};
use crate::config::TracingConfig;

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the flush at shutdown may take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Trace export while it runs; [`Tracing::shutdown`] flushes what is buffered.
pub struct Tracing {
    /// `None`: nothing is exported.
    processor: Option<LateProcessor>,
}

/// Starts exporting spans as `config` says (nothing when it names no endpoint). Runs inside
/// the gateway's tokio runtime: the exporter's HTTP calls are spawned onto it.
pub fn start_tracing(config: &TracingConfig) -> Result<Tracing, String> {
    let Some(endpoint) = &config.endpoint else {
        return Ok(Tracing { processor: None });
    };
    let hooks = HOOKS
        .get()
        .ok_or("cannot export traces: the log subscriber is not ours (was it installed?)")?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "cannot export traces outside the async runtime".to_owned())?;
    let client = llm_providers::http_client::build_http_client()
        .map_err(|e| format!("cannot build the HTTP client for trace export: {e}"))?;
    let headers: HashMap<String, String> = config.headers.iter().cloned().collect();
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OtlpClient { client, runtime })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_headers(headers)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot export traces to {endpoint}: {e}"))?;
    let service_name = config.service_name();
    exporter.set_resource(
        &Resource::builder()
            .with_service_name(service_name.to_owned())
            .build(),
    );
    // The batch settings (`OTEL_BSP_SCHEDULE_DELAY`, ...) come from the environment.
    let batch = BatchSpanProcessor::builder(exporter).build();
    if hooks.processor.0.set(batch).is_err() || hooks.sampler.0.set(sampler(config)).is_err() {
        return Err("trace export was already started".to_owned());
    }
    CAPTURE_CONTENT.store(config.capture_content, Ordering::Relaxed);
    EXPORTING.store(true, Ordering::Relaxed);
    llm_providers::trace_headers::set_injector(propagation::inject);
    hooks
        .filter
        .reload(export_targets())
        .map_err(|e| format!("cannot enable the trace layer: {e}"))?;
    tracing::info!(%endpoint, service_name, "exporting traces over OTLP/HTTP");
    Ok(Tracing {
        processor: Some(hooks.processor.clone()),
    })
}

impl Tracing {
    /// Flushes buffered spans (bounded in time) and stops the exporter.
    pub async fn shutdown(self) {
        let Some(processor) = self.processor else {
            return;
        };
        EXPORTING.store(false, Ordering::Relaxed);
        // The processor's shutdown blocks while its thread exports (through this runtime).
        let flush =
            tokio::task::spawn_blocking(move || processor.shutdown_with_timeout(SHUTDOWN_TIMEOUT));
        match tokio::time::timeout(SHUTDOWN_TIMEOUT + Duration::from_secs(1), flush).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "trace export did not flush"),
            Ok(Err(error)) => tracing::warn!(%error, "trace export did not flush"),
            Err(_) => tracing::warn!("trace export did not flush in time"),
        }
    }
}

/// The SDK's sampler for the configured one.
fn sampler(config: &TracingConfig) -> Sampler {
    let ratio = config.sampler.root_ratio();
    let root = if ratio >= 1.0 {
        Sampler::AlwaysOn
    } else if ratio <= 0.0 {
        Sampler::AlwaysOff
    } else {
        Sampler::TraceIdRatioBased(ratio)
    };
    if config.sampler.parent_based() {
        Sampler::ParentBased(Box::new(root))
    } else {
        root
    }
}

/// The exporter's HTTP client: the workspace's reqwest (no second HTTP stack).
#[derive(Debug)]
struct OtlpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// The largest collector answer read (they are a few bytes of protobuf).
const MAX_ANSWER: usize = 1 << 20;

#[async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let exchange = async move {
            let mut response = client.execute(reqwest::Request::try_from(request)?).await?;
            let mut answer = Response::builder().status(response.status());
            if let Some(headers) = answer.headers_mut() {
                headers.clone_from(response.headers());
            }
            let mut body = Vec::new();
            while let Some(piece) = response.chunk().await? {
                if body.len() + piece.len() > MAX_ANSWER {
                    break;
                }
                body.extend_from_slice(&piece);
            }
            Ok::<_, HttpError>(answer.body(Bytes::from(body))?)
        };
        // The batch processor polls this on its own thread, outside any runtime, and reqwest
        // needs tokio's reactor: the exchange runs on the gateway's runtime.
        self.runtime.spawn(exchange).await?
    }
}
