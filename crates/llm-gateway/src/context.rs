//! The per-request context: one typed struct carried from the first middleware to the
//! handlers (request id, start time, who is calling, and its trace span).

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header::HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use llm_policy::Caller;
use llm_types::Error;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A client's own id for its request (OpenAI's name), echoed back as sent.
pub static X_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

/// What the gateway knows about a request beyond its body.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The gateway's own id, unique per request, sent back in `x-request-id`: spend rows
    /// and rate-limit tickets are keyed by it, so it is never taken from the client (a reused
    /// id would let a client slip spend past its budget).
    pub id: Arc<str>,
    pub started: Instant,
    pub caller: Caller,
    /// The request's trace span (its GenAI attributes are recorded when it settles).
    pub span: tracing::Span,
}

/// First middleware: creates the context and stamps `x-request-id` on every response. A
/// client's own id (`x-client-request-id`, or the `x-request-id` it sent) is echoed back in
/// `x-client-request-id` when it is sane, and logged beside ours.
pub async fn with_context(mut request: Request, next: Next) -> Response {
    let id: Arc<str> = Arc::from(format!("req_{}", uuid::Uuid::new_v4().simple()));
    let client_id = [&X_CLIENT_REQUEST_ID, &X_REQUEST_ID]
        .into_iter()
        .filter_map(|name| request.headers().get(name))
        .find(|v| {
            let v = v.as_bytes();
            !v.is_empty() && v.len() <= 128 && v.iter().all(u8::is_ascii_graphic)
        })
        .cloned();
    if let Some(client_id) = &client_id {
        tracing::debug!(request_id = %id, client_request_id = ?client_id, "client request id");
    }
    let span = crate::telemetry::request_span(
        request.method(),
        request.uri().path(),
        request.headers(),
        &id,
    );
    request.extensions_mut().insert(RequestContext {
        id: id.clone(),
        started: Instant::now(),
        caller: Caller::Anonymous,
        span: span.clone(),
    });
    let mut response = next.run(request).instrument(span.clone()).await;
    // The status sent in the response head, recorded here only (an attribute recorded twice
    // is exported twice). A request whose client left has none.
    span.record(
        "http.response.status_code",
        i64::from(response.status().as_u16()),
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    if let Some(client_id) = client_id {
        response
            .headers_mut()
            .insert(X_CLIENT_REQUEST_ID.clone(), client_id);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| Error::internal("request context missing (middleware order)"))
    }
}
