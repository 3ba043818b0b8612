//! Body and query extractors of the admin API whose rejections are OpenAI-shaped 400s
//! naming the field at fault (`max_budget`, `members_with_roles[0].role`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use bytes::Bytes;
use llm_types::Error;
use serde::de::DeserializeOwned;

/// A JSON body; an empty body reads as `{}` (LiteLLM's clients send none for defaults).
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| Error::invalid_request(format!("cannot read the body: {e}")))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(AdminJson)
            .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// A query string.
pub struct AdminQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            Ok(query) => Ok(AdminQuery(query.0)),
            Err(rejection) => {
                // "Failed to deserialize query string: <field>: <reason>"
                let text = rejection.body_text();
                let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
                match detail.split_once(": ") {
                    Some((field, reason)) if !field.contains(' ') => {
                        Err(field_error(field, reason))
                    }
                    _ => Err(Error::invalid_request(format!("invalid query: {detail}"))),
                }
            }
        }
    }
}

/// 400 naming `path` (the top level, `.`, names the missing field when that is the fault).
fn field_error(path: &str, reason: &str) -> Error {
    let field = match path {
        // `?`: the JSON itself is malformed, no field to name.
        "." | "" | "?" => reason
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .unwrap_or("body"),
        path => path,
    };
    Error::invalid_param(field, format!("invalid `{field}`: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (".", "missing field `key` at line 1 column 2", "key"),
            (
                "max_budget",
                "invalid type: string \"x\", expected f64",
                "max_budget",
            ),
            (
                "members_with_roles[0].role",
                "invalid type",
                "members_with_roles[0].role",
            ),
            (".", "expected value at line 1 column 1", "body"),
            ("?", "key must be a string at line 1 column 2", "body"),
        ];
        for (path, reason, field) in cases {
            assert_eq!(
                field_error(path, reason).param.as_deref(),
                Some(field),
                "{path}"
            );
        }
    }
}
