//! The response cache on the request path: the key of a request, answers served from the
//! cache (as JSON or replayed as a stream), and fresh answers stored once complete. The
//! cache never fails a request: a broken backend is a miss.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures_util::{Stream, StreamExt};
use llm_policy::cache::{CacheControl, ResponseCache, cache_key};
use llm_providers::ChatStream;
use llm_types::assembly::assemble;
use llm_types::{ChatCompletionChunk, Error};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::app::AppState;

pub static CACHE_HIT: HeaderName = HeaderName::from_static("x-llm-cache-hit");
pub static CACHE_KEY: HeaderName = HeaderName::from_static("x-llm-cache-key");

/// A cacheable request: its key and what it asked of the cache.
#[derive(Clone)]
pub struct Cacheable {
    pub cache: Arc<ResponseCache>,
    pub key: String,
    pub control: CacheControl,
}

impl Cacheable {
    /// The cache entry of `request` (what the upstream would get, its `cache` controls
    /// already taken out into `controls`) for `group`, when the cache is on. Malformed
    /// controls (body or `Cache-Control` header) are a 400 even with the cache off.
    pub fn of(
        app: &AppState,
        request: &impl serde::Serialize,
        controls: Option<serde_json::Value>,
        group: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Cacheable>, Error> {
        let header = headers
            .get(axum::http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok());
        let mut control = CacheControl::from_body(controls.as_ref())?;
        if let Some(header) = header {
            control.merge_header(header)?;
        }
        let Some(cache) = &app.cache else {
            return Ok(None);
        };
        let body = serde_json::to_value(request).map_err(|e| Error::internal(e.to_string()))?;
        let namespace = control
            .namespace
            .as_deref()
            .or(app.cache_namespace.as_deref());
        Ok(Some(Cacheable {
            cache: Arc::clone(cache),
            key: cache_key(&body, group, namespace),
            control,
        }))
    }

    /// The cached bytes, unless the request said `no-cache` or there are none.
    pub async fn lookup(&self) -> Option<Vec<u8>> {
        self.cache.lookup(&self.key, &self.control).await
    }

    /// Stores `bytes` before the answer goes out, so the client's next identical request
    /// is a hit (bounded: a Redis call gives up after its timeout and is skipped).
    pub async fn store_now(&self, bytes: Vec<u8>) {
        self.cache.store(&self.key, bytes, &self.control).await;
    }

    /// `x-llm-cache-hit` and `x-llm-cache-key`.
    pub fn apply_headers(&self, headers: &mut HeaderMap, hit: bool) {
        headers.insert(
            CACHE_HIT.clone(),
            HeaderValue::from_static(if hit { "true" } else { "false" }),
        );
        if let Ok(key) = HeaderValue::from_str(&self.key) {
            headers.insert(CACHE_KEY.clone(), key);
        }
        if hit {
            // A hit costs nothing (LiteLLM reports the same).
            headers.insert(
                super::headers::RESPONSE_COST.clone(),
                HeaderValue::from_static("0"),
            );
        }
    }
}

/// A chat stream that stores the complete answer in the cache when it ends well (every
/// choice finished, no error), before it reports its end: a client that read `[DONE]` and
/// asks again gets a hit. An abandoned or failed stream stores nothing.
pub struct CacheFill {
    inner: ChatStream,
    chunks: Vec<ChatCompletionChunk>,
    target: Option<Cacheable>,
    storing: Option<futures_util::future::BoxFuture<'static, ()>>,
}

impl CacheFill {
    pub fn new(inner: ChatStream, target: Cacheable) -> CacheFill {
        CacheFill {
            inner,
            chunks: Vec::new(),
            target: Some(target),
            storing: None,
        }
    }
}

impl Stream for CacheFill {
    type Item = Result<ChatCompletionChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(storing) = this.storing.as_mut() {
            return match storing.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.storing = None;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            };
        }
        let polled = this.inner.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) if this.target.is_some() => {
                this.chunks.push(chunk.clone())
            }
            Poll::Ready(Some(Err(_))) => this.target = None,
            Poll::Ready(None) => {
                let chunks = std::mem::take(&mut this.chunks);
                if let Some(target) = this.target.take()
                    && let Some(answer) = assemble(&chunks)
                    && let Ok(bytes) = serde_json::to_vec(&answer)
                {
                    this.storing = Some(Box::pin(async move { target.store_now(bytes).await }));
                    return self.poll_next(cx);
                }
            }
            _ => {}
        }
        polled
    }
}

/// A cached answer as a stream of chunks (for a streamed request).
pub fn replay_stream(chunks: Vec<ChatCompletionChunk>) -> ChatStream {
    Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
}
