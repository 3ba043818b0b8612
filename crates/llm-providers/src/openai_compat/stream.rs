//! An upstream SSE body turned into OpenAI chunks, one at a time, with idle timeouts and usage
//! normalized (see [`crate::ChatStream`]).

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use llm_types::{ChatCompletionChunk, Error, ErrorBody, ErrorKind, Usage};
use std::collections::VecDeque;
use std::time::Duration;

use super::upstream::transport_error;
use crate::provider::ChatStream;
use crate::redact::redact_secrets;
use crate::sse::SseDecoder;

/// Bound on one SSE event: far above any real chunk, low enough to stop a runaway upstream.
const MAX_EVENT_BYTES: usize = 8 << 20;

/// Chunks of `response`; each read waits at most `idle_timeout`.
pub(super) fn chunk_stream(response: reqwest::Response, idle_timeout: Duration) -> ChatStream {
    let state = State {
        body: response.bytes_stream().boxed(),
        decoder: SseDecoder::new(MAX_EVENT_BYTES),
        ready: VecDeque::new(),
        usage: None,
        last: None,
        saw_finish: false,
        phase: Phase::Streaming,
        idle_timeout,
    };
    Box::pin(stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Streaming,
    /// `[DONE]` (or a clean end) was seen: emit what is left, then the usage chunk.
    Done,
    /// Everything was emitted, or an error ended the stream.
    Over,
}

struct State {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    ready: VecDeque<ChatCompletionChunk>,
    /// The usage-only chunk to end with (the upstream's own, or built from a content chunk's).
    usage: Option<ChatCompletionChunk>,
    /// The last content chunk, a template for a synthesized usage chunk.
    last: Option<(String, String, u64)>,
    saw_finish: bool,
    phase: Phase,
    idle_timeout: Duration,
}

impl State {
    async fn next(&mut self) -> Option<Result<ChatCompletionChunk, Error>> {
        loop {
            if let Some(chunk) = self.ready.pop_front() {
                return Some(Ok(chunk));
            }
            match self.phase {
                Phase::Over => return None,
                Phase::Done => {
                    self.phase = Phase::Over;
                    return self.usage.take().map(Ok);
                }
                Phase::Streaming => {}
            }
            match self.decoder.next_event() {
                Ok(Some(event)) => {
                    if let Err(error) = self.take_event(&event.data) {
                        return Some(Err(self.fail(error)));
                    }
                    continue;
                }
                Ok(None) => {}
                Err(_) => {
                    let error = bad_response("the upstream sent an oversized stream event".into());
                    return Some(Err(self.fail(error)));
                }
            }
            match tokio::time::timeout(self.idle_timeout, self.body.next()).await {
                Ok(Some(Ok(bytes))) => self.decoder.push(&bytes),
                Ok(Some(Err(error))) => {
                    let mut error = transport_error(error);
                    error.message =
                        format!("the upstream stream broke off: {}", error.message).into();
                    return Some(Err(self.fail(error)));
                }
                Ok(None) => {
                    if let Some(event) = self.decoder.finish()
                        && let Err(error) = self.take_event(&event.data)
                    {
                        return Some(Err(self.fail(error)));
                    }
                    if self.phase == Phase::Streaming {
                        // Some hosts end without `[DONE]`; that is fine once a choice finished.
                        if !self.saw_finish {
                            let error = bad_response(
                                "the upstream closed the stream before it finished".into(),
                            );
                            return Some(Err(self.fail(error)));
                        }
                        self.phase = Phase::Done;
                    }
                }
                Err(_) => {
                    let error = Error::upstream(
                        ErrorKind::UpstreamTimeout,
                        None,
                        format!(
                            "the upstream sent nothing for {:.1}s (stream_timeout)",
                            self.idle_timeout.as_secs_f64()
                        ),
                    );
                    return Some(Err(self.fail(error)));
                }
            }
        }
    }

    /// Handles one event's data: a chunk, `[DONE]`, or an in-stream error.
    fn take_event(&mut self, data: &str) -> Result<(), Error> {
        if data == "[DONE]" {
            self.phase = Phase::Done;
            return Ok(());
        }
        let mut chunk: ChatCompletionChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(parse_error) => return Err(in_stream_error(data, &parse_error.to_string())),
        };
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.saw_finish = true;
        }
        if let Some(usage) = chunk.usage.take() {
            self.keep_usage(&chunk, usage);
        }
        if !chunk.choices.is_empty() {
            self.last = Some((chunk.id.clone(), chunk.model.clone(), chunk.created));
            self.ready.push_back(chunk);
        }
        Ok(())
    }

    /// Remembers the latest usage as a usage-only chunk (hosts that attach usage to content
    /// chunks, like Mistral and Perplexity, report running totals: the last one wins).
    fn keep_usage(&mut self, chunk: &ChatCompletionChunk, usage: Usage) {
        let (id, model, created) = match (&self.last, chunk.choices.is_empty()) {
            (Some(last), true) if chunk.id.is_empty() => last.clone(),
            _ => (chunk.id.clone(), chunk.model.clone(), chunk.created),
        };
        self.usage = Some(ChatCompletionChunk {
            id,
            object: "chat.completion.chunk".to_owned(),
            created,
            model,
            choices: Vec::new(),
            usage: Some(usage),
            system_fingerprint: chunk.system_fingerprint.clone(),
            service_tier: chunk.service_tier.clone(),
        });
    }

    fn fail(&mut self, error: Error) -> Error {
        self.phase = Phase::Over;
        self.ready.clear();
        error
    }
}

fn bad_response(message: String) -> Error {
    Error::upstream(ErrorKind::UpstreamBadResponse, Some(200), message)
}

/// An event that is not a chunk: the host's error object, or garbage.
fn in_stream_error(data: &str, parse_error: &str) -> Error {
    match serde_json::from_str::<ErrorBody>(data) {
        Ok(body) => {
            let kind = match body.error.code.as_deref() {
                Some("rate_limit_exceeded") => ErrorKind::RateLimited,
                Some("context_length_exceeded") => ErrorKind::ContextLengthExceeded,
                _ => ErrorKind::UpstreamServerError,
            };
            Error::upstream(
                kind,
                Some(200),
                format!(
                    "upstream error mid-stream: {}",
                    redact_secrets(&body.error.message)
                ),
            )
        }
        Err(_) => bad_response(format!(
            "the upstream sent an invalid stream chunk ({parse_error})"
        )),
    }
}
