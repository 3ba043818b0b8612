//! Forwarding a [`ChatStream`] to the client as server-sent events, chunk by chunk.
//!
//! The usage-only chunk is shown only to clients that asked for it. An upstream failure
//! mid-way becomes an error event followed by `[DONE]`, so no client hangs or waits for more.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use llm_providers::ChatStream;
use llm_types::{ChatCompletionChunk, Error};
use std::convert::Infallible;

const DONE: &[u8] = b"data: [DONE]\n\n";

/// An SSE response streaming `chunks`.
pub fn sse_response(
    chunks: ChatStream,
    show_usage: bool,
    request_id: std::sync::Arc<str>,
) -> Response {
    let body = Body::from_stream(sse_frames(chunks, show_usage, request_id));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Reverse proxies (nginx) must not buffer a stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Frames chunks as `data: {json}\n\n`, ending with `data: [DONE]\n\n` whatever happens.
fn sse_frames(
    events: impl Stream<Item = Result<ChatCompletionChunk, Error>> + Send + 'static,
    show_usage: bool,
    request_id: std::sync::Arc<str>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let events = Box::pin(events);
    stream::unfold(Some(events), move |state| {
        let request_id = request_id.clone();
        async move {
            let mut events = state?;
            loop {
                match events.next().await {
                    None => return Some((Ok(Bytes::from_static(DONE)), None)),
                    Some(Ok(chunk)) if chunk.is_usage_only() && !show_usage => continue,
                    Some(Ok(chunk)) => return Some((Ok(frame(&chunk)), Some(events))),
                    Some(Err(error)) => {
                        tracing::warn!(request_id = %request_id, error = %error, "stream failed mid-way");
                        let mut bytes = frame(&error.body()).to_vec();
                        bytes.extend_from_slice(DONE);
                        return Some((Ok(Bytes::from(bytes)), None));
                    }
                }
            }
        }
    })
}

fn frame<T: serde::Serialize>(value: &T) -> Bytes {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(b"data: ");
    // Our types always serialize; an empty object would still be a valid frame.
    if serde_json::to_writer(&mut bytes, value).is_err() {
        bytes.extend_from_slice(b"{}");
    }
    bytes.extend_from_slice(b"\n\n");
    Bytes::from(bytes)
}
