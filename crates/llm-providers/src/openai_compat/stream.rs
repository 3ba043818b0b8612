//! OpenAI-style SSE chunks in: the translator the stream driver runs for every
//! OpenAI-compatible host.

use llm_types::{ChatCompletionChunk, Error, ErrorBody, ErrorKind};

use crate::redact::redact_secrets;
use crate::sse::SseEvent;
use crate::stream_driver::{Step, Translator, bad_response};

/// Parses each `data:` payload as a chunk; `[DONE]` ends the answer; an `{"error": ...}`
/// payload is the host's in-stream error.
#[derive(Debug, Default)]
pub struct OpenAiChunks {
    saw_finish: bool,
}

impl Translator for OpenAiChunks {
    type Frame = SseEvent;

    fn on_frame(
        &mut self,
        event: SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<Step, Error> {
        let data = event.data.as_str();
        if data == "[DONE]" {
            return Ok(Step::Done);
        }
        let chunk: ChatCompletionChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(parse_error) => return Err(in_stream_error(data, &parse_error.to_string())),
        };
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.saw_finish = true;
        }
        out.push(chunk);
        Ok(Step::Continue)
    }

    fn complete_at_eof(&self) -> bool {
        self.saw_finish
    }
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
