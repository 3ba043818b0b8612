//! Authentication of LLM routes: `Authorization: Bearer <key>` or `x-api-key: <key>`.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::app::AppState;
use crate::context::RequestContext;

/// The key a client presented, if any. The bearer scheme is matched case-insensitively.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer.or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

/// Middleware: refuses the request with 401 unless the caller is allowed.
pub async fn require_key(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    match llm_policy::authorize(app.master_key.as_ref(), presented_key(request.headers())) {
        Ok(caller) => {
            if let Some(context) = request.extensions_mut().get_mut::<RequestContext>() {
                context.caller = caller;
            }
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_in_either_header() {
        let cases = [
            (vec![("authorization", "Bearer sk-1")], Some("sk-1")),
            (vec![("authorization", "bearer  sk-2 ")], Some("sk-2")),
            (vec![("x-api-key", "sk-3")], Some("sk-3")),
            (
                vec![("authorization", "Basic abc"), ("x-api-key", "sk-4")],
                Some("sk-4"),
            ),
            (vec![("authorization", "Bearer")], None),
            (vec![], None),
        ];
        for (pairs, expected) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in &pairs {
                headers.insert(*name, value.parse().unwrap());
            }
            assert_eq!(presented_key(&headers), expected, "{pairs:?}");
        }
    }
}
