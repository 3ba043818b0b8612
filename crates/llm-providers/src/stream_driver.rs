//! The one loop that turns an upstream byte stream into OpenAI chunks, for every wire family.
//!
//! A family supplies two small pieces: a [`Framing`] (how bytes become frames: SSE events,
//! NDJSON lines, AWS event-stream messages) and a [`Translator`] (how a frame becomes zero or
//! more OpenAI chunks). The driver owns everything else, once: idle timeouts
//! (`stream_timeout`), broken connections, a clean end without a terminal frame, and usage
//! normalization (content chunks never carry `usage`; the last usage seen ends the stream as
//! one usage-only chunk, see [`crate::ChatStream`]).

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use llm_types::{ChatCompletionChunk, ChunkChoice, Delta, Error, ErrorKind, FinishReason};
use std::collections::VecDeque;
use std::time::Duration;

use crate::provider::ChatStream;
use crate::sse::{SseDecoder, SseEvent};
use crate::upstream::transport_error;

/// Bound on one frame: far above any real chunk, low enough to stop a runaway upstream.
pub const MAX_FRAME_BYTES: usize = 8 << 20;

/// Cuts a byte stream into frames.
pub trait Framing: Send + 'static {
    type Frame: Send;
    /// Appends received bytes.
    fn push(&mut self, bytes: &[u8]);
    /// The next complete frame, if any.
    fn next_frame(&mut self) -> Result<Option<Self::Frame>, Error>;
    /// A last frame left when the body ended without its terminator.
    fn finish(&mut self) -> Result<Option<Self::Frame>, Error>;
}

/// Whether the stream goes on after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Continue,
    /// The upstream said the answer is complete (`[DONE]`, `message_stop`, ...).
    Done,
}

/// Turns frames into OpenAI chunks.
pub trait Translator: Send + 'static {
    type Frame;
    /// Appends the chunks `frame` means to `out` (possibly none, e.g. for a ping).
    fn on_frame(
        &mut self,
        frame: Self::Frame,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error>;
    /// Whether a body that ends without a [`Step::Done`] frame is still a complete answer
    /// (some hosts omit `[DONE]` once a choice has finished).
    fn complete_at_eof(&self) -> bool;
}

/// SSE framing.
pub struct SseFraming(SseDecoder);

impl SseFraming {
    pub fn new() -> Self {
        SseFraming(SseDecoder::new(MAX_FRAME_BYTES))
    }
}

impl Default for SseFraming {
    fn default() -> Self {
        SseFraming::new()
    }
}

impl Framing for SseFraming {
    type Frame = SseEvent;

    fn push(&mut self, bytes: &[u8]) {
        self.0.push(bytes);
    }

    fn next_frame(&mut self) -> Result<Option<SseEvent>, Error> {
        self.0.next_event().map_err(|_| oversized())
    }

    fn finish(&mut self) -> Result<Option<SseEvent>, Error> {
        Ok(self.0.finish())
    }
}

/// Newline-delimited JSON framing (Ollama's native API): one frame per non-empty line.
#[derive(Default)]
pub struct NdjsonFraming {
    buffer: Vec<u8>,
}

impl Framing for NdjsonFraming {
    type Frame = String;

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Result<Option<String>, Error> {
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line).trim().to_owned();
            if !text.is_empty() {
                return Ok(Some(text));
            }
        }
        if self.buffer.len() > MAX_FRAME_BYTES {
            return Err(oversized());
        }
        Ok(None)
    }

    fn finish(&mut self) -> Result<Option<String>, Error> {
        let text = String::from_utf8_lossy(&std::mem::take(&mut self.buffer))
            .trim()
            .to_owned();
        Ok((!text.is_empty()).then_some(text))
    }
}

fn oversized() -> Error {
    bad_response("the upstream sent an oversized stream frame".into())
}

/// An upstream answered 200 but what it sent cannot be used.
pub fn bad_response(message: String) -> Error {
    Error::upstream(ErrorKind::UpstreamBadResponse, Some(200), message)
}

/// A chunk of the one choice a translator streams: `delta`, and `finish_reason` on the last.
pub fn delta_chunk(
    id: &str,
    created: u64,
    model: &str,
    delta: Delta,
    finish_reason: Option<FinishReason>,
) -> ChatCompletionChunk {
    ChatCompletionChunk {
        id: id.to_owned(),
        object: "chat.completion.chunk".to_owned(),
        created,
        model: model.to_owned(),
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason,
            logprobs: None,
        }],
        usage: None,
        system_fingerprint: None,
        service_tier: None,
    }
}

/// Drives `response`'s body through `framing` and `translator`; each read waits at most
/// `idle_timeout`.
pub fn drive<F, T>(
    response: reqwest::Response,
    framing: F,
    translator: T,
    idle_timeout: Duration,
) -> ChatStream
where
    F: Framing,
    T: Translator<Frame = F::Frame>,
{
    drive_bytes(
        response.bytes_stream().boxed(),
        framing,
        translator,
        idle_timeout,
    )
}

/// [`drive`] over any byte stream (tests feed recorded traffic through it).
pub fn drive_bytes<F, T>(
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    framing: F,
    translator: T,
    idle_timeout: Duration,
) -> ChatStream
where
    F: Framing,
    T: Translator<Frame = F::Frame>,
{
    let state = Driver {
        body,
        framing,
        translator,
        ready: VecDeque::new(),
        scratch: Vec::new(),
        usage: None,
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
    /// The answer is complete: emit what is left, then the usage chunk.
    Done,
    /// Everything was emitted, or an error ended the stream.
    Over,
}

struct Driver<F, T> {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    framing: F,
    translator: T,
    ready: VecDeque<ChatCompletionChunk>,
    scratch: Vec<ChatCompletionChunk>,
    /// The usage-only chunk to end with.
    usage: Option<ChatCompletionChunk>,
    phase: Phase,
    idle_timeout: Duration,
}

impl<F: Framing, T: Translator<Frame = F::Frame>> Driver<F, T> {
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
            match self.framing.next_frame() {
                Ok(Some(frame)) => {
                    if let Err(error) = self.take(frame) {
                        return Some(Err(self.fail(error)));
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => return Some(Err(self.fail(error))),
            }
            match tokio::time::timeout(self.idle_timeout, self.body.next()).await {
                Ok(Some(Ok(bytes))) => self.framing.push(&bytes),
                Ok(Some(Err(error))) => {
                    let mut error = transport_error(error);
                    error.message =
                        format!("the upstream stream broke off: {}", error.message).into();
                    return Some(Err(self.fail(error)));
                }
                Ok(None) => {
                    let last = self.framing.finish();
                    if let Err(error) =
                        last.and_then(|frame| frame.map_or(Ok(()), |f| self.take(f)))
                    {
                        return Some(Err(self.fail(error)));
                    }
                    if self.phase == Phase::Streaming {
                        if !self.translator.complete_at_eof() {
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

    /// Translates one frame; chunks become ready, usage is set aside for the end.
    fn take(&mut self, frame: F::Frame) -> Result<(), Error> {
        let step = self.translator.on_frame(frame, &mut self.scratch)?;
        for mut chunk in self.scratch.drain(..) {
            if let Some(usage) = chunk.usage.take() {
                self.usage = Some(ChatCompletionChunk {
                    id: chunk.id.clone(),
                    object: "chat.completion.chunk".to_owned(),
                    created: chunk.created,
                    model: chunk.model.clone(),
                    choices: Vec::new(),
                    usage: Some(usage),
                    system_fingerprint: chunk.system_fingerprint.clone(),
                    service_tier: chunk.service_tier.clone(),
                });
            }
            if !chunk.choices.is_empty() {
                self.ready.push_back(chunk);
            }
        }
        if step == Step::Done {
            self.phase = Phase::Done;
        }
        Ok(())
    }

    fn fail(&mut self, error: Error) -> Error {
        self.phase = Phase::Over;
        self.ready.clear();
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_frames_are_lines() {
        let mut framing = NdjsonFraming::default();
        framing.push(b"{\"a\":1}\n\n{\"b\"");
        assert_eq!(framing.next_frame().unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(framing.next_frame().unwrap(), None);
        framing.push(b":2}");
        assert_eq!(framing.finish().unwrap().as_deref(), Some("{\"b\":2}"));
    }
}
