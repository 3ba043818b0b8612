//! Anthropic's Claude models on Vertex AI (`vertex_ai/claude-...`): the Anthropic Messages
//! body on `.../publishers/anthropic/models/{model}:rawPredict` (and `:streamRawPredict`),
//! with `anthropic_version: "vertex-2023-10-16"` in the body and no `model` (it is in the URL).
//!
//! The translation is the Anthropic family's ([`crate::anthropic`]); only the envelope
//! differs. Errors come in either shape: Google's front end answers auth and quota failures
//! as `google.rpc.Status`, the model's own failures are Anthropic error bodies.

use http::HeaderMap;
use llm_types::{ChatCompletionRequest, ChatCompletionResponse, Error};
use std::time::Duration;

use crate::anthropic::{
    AnthropicChunks, error_from_response, from_anthropic_response, to_anthropic_request, wants_json,
};
use crate::gemini::error::{from_google, is_google_error};
use crate::params::ParamPolicy;
use crate::provider::ChatStream;
use crate::stream_driver::{SseFraming, drive};
use crate::upstream::{self, now_secs};

/// The API version Vertex AI's Anthropic endpoint wants in the body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// What one call needs.
pub(super) struct Call<'a> {
    pub http: &'a reqwest::Client,
    /// `.../publishers/anthropic/models/{model}`.
    pub model_url: &'a str,
    pub headers: &'a HeaderMap,
    pub policy: &'a ParamPolicy,
}

impl Call<'_> {
    /// The `rawPredict` body: Anthropic's, without `model`, with the Vertex version.
    pub(super) fn body(
        &self,
        request: &ChatCompletionRequest,
        stream: bool,
    ) -> Result<Vec<u8>, Error> {
        let mut body = to_anthropic_request(request, None, self.policy)?;
        body.anthropic_version = Some(VERTEX_ANTHROPIC_VERSION.to_owned());
        body.stream = stream.then_some(true);
        serde_json::to_vec(&body)
            .map_err(|e| Error::internal(format!("cannot encode the Anthropic request: {e}")))
    }

    async fn send(&self, method: &str, body: Vec<u8>) -> Result<reqwest::Response, Error> {
        let url = format!("{}:{method}", self.model_url);
        upstream::send_refused_by(
            self.http,
            &url,
            self.headers,
            body,
            |status, headers, body| {
                if is_google_error(body) {
                    from_google(status, headers, body)
                } else {
                    error_from_response(status, body, upstream::retry_after(headers))
                }
            },
        )
        .await
    }

    pub(super) async fn chat(
        &self,
        request: ChatCompletionRequest,
        timeout: Duration,
    ) -> Result<ChatCompletionResponse, Error> {
        let body = self.body(&request, false)?;
        let call = async {
            let response = self.send("rawPredict", body).await?;
            upstream::read_bounded(response).await
        };
        let bytes = upstream::within(timeout, call).await?;
        let parsed = upstream::parse_body(&bytes, "Anthropic message")?;
        Ok(from_anthropic_response(
            parsed,
            wants_json(&request),
            now_secs(),
        ))
    }

    pub(super) async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
        stream_timeout: Duration,
    ) -> Result<ChatStream, Error> {
        let body = self.body(&request, true)?;
        let response =
            upstream::within(stream_timeout, self.send("streamRawPredict", body)).await?;
        Ok(drive(
            response,
            SseFraming::new(),
            AnthropicChunks::new(wants_json(&request), now_secs()),
            stream_timeout,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::{ChatMessage, Role};
    use serde_json::{Value, json};

    #[test]
    fn the_body_has_the_vertex_version_and_no_model() {
        let http = crate::http_client::build_http_client().unwrap();
        let headers = HeaderMap::new();
        let policy = ParamPolicy::default();
        let call = Call {
            http: &http,
            model_url: "http://x",
            headers: &headers,
            policy: &policy,
        };
        let mut request = ChatCompletionRequest::new(
            "vertex_ai/claude-sonnet-4-5",
            vec![ChatMessage::text(Role::User, "hi")],
        );
        request.max_tokens = Some(10);
        let cases = [
            (
                false,
                json!({"anthropic_version": VERTEX_ANTHROPIC_VERSION, "max_tokens": 10,
                           "messages": [{"role": "user", "content": "hi"}]}),
            ),
            (
                true,
                json!({"anthropic_version": VERTEX_ANTHROPIC_VERSION, "max_tokens": 10, "stream": true,
                          "messages": [{"role": "user", "content": "hi"}]}),
            ),
        ];
        for (stream, expected) in cases {
            let body: Value =
                serde_json::from_slice(&call.body(&request, stream).unwrap()).unwrap();
            assert_eq!(body, expected);
        }
    }
}
