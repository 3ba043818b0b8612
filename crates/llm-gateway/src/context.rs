//! The per-request context: one typed struct carried from the first middleware to the
//! handlers (request id, start time, who is calling).

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header::HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use llm_policy::Caller;
use llm_types::Error;
use std::sync::Arc;
use std::time::Instant;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the gateway knows about a request beyond its body.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Echoed in `x-request-id`; the client's own id when it sent a sane one.
    pub id: Arc<str>,
    pub started: Instant,
    pub caller: Caller,
}

/// First middleware: creates the context and stamps `x-request-id` on every response.
pub async fn with_context(mut request: Request, next: Next) -> Response {
    let id: Arc<str> = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(Arc::from)
        .unwrap_or_else(|| Arc::from(format!("req_{}", uuid::Uuid::new_v4().simple())));
    request.extensions_mut().insert(RequestContext {
        id: id.clone(),
        started: Instant::now(),
        caller: Caller::Anonymous,
    });
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
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
