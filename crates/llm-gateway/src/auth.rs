//! Authentication: `Authorization: Bearer <key>` or `x-api-key: <key>`, the master key or a
//! virtual key (from the policy's key cache), and a key's `allowed_routes`.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use llm_types::{Error, ErrorKind, ErrorOrigin};
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

/// Middleware: refuses the request with 401 unless the caller is allowed, and with 403 when a
/// virtual key may not use this route.
pub async fn require_key(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match app
        .policy
        .authenticate(presented_key(request.headers()))
        .await
    {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    if let Some(principal) = caller.principal()
        && !route_allowed(&principal.key.allowed_routes, request.uri().path())
    {
        return Error::new(
            ErrorKind::PermissionDenied,
            ErrorOrigin::Client,
            format!("this key may not call `{}`", request.uri().path()),
        )
        .with_code("route_not_allowed")
        .into_response();
    }
    if let Some(context) = request.extensions_mut().get_mut::<RequestContext>() {
        context.caller = caller;
    }
    next.run(request).await
}

/// A key's `allowed_routes` (LiteLLM): empty allows every route; `/chat/completions` also
/// allows `/v1/chat/completions`; a trailing `*` allows a prefix.
pub fn route_allowed(allowed: &[String], path: &str) -> bool {
    let unversioned = path.strip_prefix("/v1").unwrap_or(path);
    allowed.is_empty()
        || allowed.iter().any(|route| {
            let route = route.strip_prefix("/v1").unwrap_or(route);
            match route.strip_suffix('*') {
                Some(prefix) => unversioned.starts_with(prefix),
                None => unversioned == route,
            }
        })
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

    #[test]
    fn allowed_routes_match_with_or_without_v1() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&[], "/v1/chat/completions", true),
            (&["/chat/completions"], "/v1/chat/completions", true),
            (&["/chat/completions"], "/chat/completions", true),
            (&["/v1/chat/completions"], "/chat/completions", true),
            (&["/chat/completions"], "/v1/embeddings", false),
            (&["/key/*"], "/key/info", true),
            (&["/key/*"], "/team/info", false),
        ];
        for (allowed, path, expected) in cases {
            let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                route_allowed(&allowed, path),
                *expected,
                "{allowed:?} {path}"
            );
        }
    }
}
