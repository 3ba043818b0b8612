//! The JSON body extractor of LLM routes: one parse, errors in the OpenAI shape naming the
//! field at fault, 413 over the body limit.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use llm_types::{Error, ErrorKind, ErrorOrigin};
use serde::de::DeserializeOwned;

/// A request body parsed as `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.into_response().status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(
                    ErrorKind::PayloadTooLarge,
                    ErrorOrigin::Client,
                    "the request body exceeds the size limit (general_settings.max_request_size_mb)",
                )
            } else {
                Error::invalid_request("the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses `bytes` as `T`, turning serde's complaint into a 400 that names the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid_request(
            "the request body is empty; send a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(&mut deserializer).map_err(path_error)?;
    deserializer
        .end()
        .map_err(|e| Error::invalid_request(format!("the request body is not valid JSON: {e}")))?;
    Ok(parsed)
}

fn path_error(error: serde_path_to_error::Error<serde_json::Error>) -> Error {
    {
        let inner = error.inner();
        let path = error.path().to_string();
        if inner.is_syntax() || inner.is_eof() {
            return Error::invalid_request(format!("the request body is not valid JSON: {inner}"));
        }
        let message = inner.to_string();
        let param = match crate::config::missing_field(&message) {
            Some(field) if path == "." => field.to_owned(),
            Some(field) => format!("{path}.{field}"),
            None if path == "." => String::new(),
            None => path,
        };
        let text = strip_position(&message);
        if param.is_empty() {
            Error::invalid_request(format!("invalid request body: {text}"))
        } else {
            Error::invalid_param(param.clone(), format!("invalid `{param}`: {text}"))
        }
    }
}

/// serde_json appends " at line 1 column 42"; the field name says more.
fn strip_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(head, _)| head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::{ChatCompletionRequest, EmbeddingsRequest};

    #[test]
    fn malformed_chat_bodies_name_the_field() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"{", None),
            (b"", None),
            (b"[]", None),
            (b"{\"model\": \"m\"}", Some("messages")),
            (b"{\"messages\": []}", Some("model")),
            (
                b"{\"model\": \"m\", \"messages\": \"hi\"}",
                Some("messages"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}",
                Some("messages[0].role"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [], \"temperature\": \"hot\"}",
                Some("temperature"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [], \"max_tokens\": -1}",
                Some("max_tokens"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [], \"stream\": \"yes\"}",
                Some("stream"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
                Some("messages[0].content"),
            ),
            (
                b"{\"model\": \"m\", \"messages\": [{\"role\": \"user\"}]} trailing",
                None,
            ),
            (b"{\"model\": \"\xff\xfe\", \"messages\": []}", None),
        ];
        for (body, param) in cases {
            let error = parse_json::<ChatCompletionRequest>(body).unwrap_err();
            assert_eq!(error.status(), 400, "{}", String::from_utf8_lossy(body));
            assert_eq!(
                error.param.as_deref(),
                *param,
                "{}: {}",
                String::from_utf8_lossy(body),
                error.message
            );
        }
    }

    #[test]
    fn embeddings_input_errors_name_input() {
        let error =
            parse_json::<EmbeddingsRequest>(b"{\"model\": \"m\", \"input\": {}}").unwrap_err();
        assert_eq!(error.param.as_deref(), Some("input"));
    }
}
