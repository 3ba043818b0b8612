//! [`MeteredStream`]: a chat stream that settles its [`Meter`] when it ends, fails or is
//! abandoned, noting on the way what the request's report needs (usage, model, finish
//! reasons, and the answer's text when reports carry content).

use futures_util::{Stream, StreamExt};
use llm_providers::ChatStream;
use llm_types::{ChatCompletionChunk, Error, Usage};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{CLIENT_CLOSED, DRAIN_LIMIT, Meter};

/// A chat stream that settles its meter when it ends, fails, or is abandoned.
pub struct MeteredStream {
    inner: Option<ChatStream>,
    meter: Option<Meter>,
    seen: Seen,
}

/// What passed through the stream so far.
#[derive(Default)]
struct Seen {
    usage: Option<Usage>,
    completion_chars: u64,
    model: Option<String>,
    /// Per choice index.
    finish_reasons: Vec<Option<&'static str>>,
    /// Per choice index; only kept when reports carry content.
    texts: Option<Vec<String>>,
}

impl MeteredStream {
    pub fn new(inner: ChatStream, meter: Meter) -> MeteredStream {
        let texts = meter.captures_content().then(Vec::new);
        MeteredStream {
            inner: Some(inner),
            meter: Some(meter),
            seen: Seen {
                texts,
                ..Seen::default()
            },
        }
    }

    fn end(&mut self, status: u16, error: Option<&Error>) {
        self.inner = None;
        if let Some(mut meter) = self.meter.take() {
            if let Some(error) = error {
                meter.record_error(error);
            }
            settle(meter, status, std::mem::take(&mut self.seen));
        }
    }
}

impl Seen {
    fn observe(&mut self, chunk: &ChatCompletionChunk) {
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        if self.model.is_none() && !chunk.model.is_empty() {
            self.model = Some(chunk.model.clone());
        }
        for choice in &chunk.choices {
            let delta = &choice.delta;
            let text = [&delta.content, &delta.reasoning_content, &delta.refusal];
            self.completion_chars += text
                .iter()
                .filter_map(|t| t.as_ref())
                .map(|t| t.len() as u64)
                .sum::<u64>();
            if let Some(calls) = &delta.tool_calls {
                self.completion_chars += calls
                    .iter()
                    .filter_map(|c| c.function.as_ref()?.arguments.as_ref())
                    .map(|a| a.len() as u64)
                    .sum::<u64>();
            }
            let index = choice.index as usize;
            if let Some(reason) = choice.finish_reason {
                if self.finish_reasons.len() <= index {
                    self.finish_reasons.resize(index + 1, None);
                }
                self.finish_reasons[index] = Some(reason.as_str());
            }
            if let (Some(texts), Some(content)) = (&mut self.texts, &delta.content) {
                if texts.len() <= index {
                    texts.resize(index + 1, String::new());
                }
                texts[index].push_str(content);
            }
        }
    }
}

fn settle(mut meter: Meter, status: u16, seen: Seen) {
    let record = &mut meter.record;
    record.response_model = seen.model;
    record.finish_reasons = seen
        .finish_reasons
        .iter()
        .map(|r| r.unwrap_or_default())
        .collect();
    if let Some(texts) = seen.texts {
        let messages: Vec<_> = texts
            .into_iter()
            .map(|content| serde_json::json!({"role": "assistant", "content": content}))
            .collect();
        record.response_content = crate::request_log::content_of(&messages);
    }
    match seen.usage {
        Some(usage) => {
            meter.finish(status, Some(&usage));
        }
        None => meter.finish_estimated(status, seen.completion_chars),
    }
}

impl Stream for MeteredStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.seen.observe(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.end(error.status(), Some(&error));
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.end(200, None);
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for MeteredStream {
    /// The client went away mid-stream: drain the upstream in the background for its usage.
    fn drop(&mut self) {
        let (Some(mut inner), Some(meter)) = (self.inner.take(), self.meter.take()) else {
            return;
        };
        let mut seen = std::mem::take(&mut self.seen);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            settle(meter, CLIENT_CLOSED, seen);
            return;
        };
        runtime.spawn(async move {
            let drained = tokio::time::timeout(DRAIN_LIMIT, async {
                while let Some(item) = inner.next().await {
                    match item {
                        Ok(chunk) => seen.observe(&chunk),
                        Err(_) => break,
                    }
                }
            })
            .await;
            if drained.is_err() {
                tracing::debug!("abandoned stream did not finish in time; its usage is estimated");
            }
            settle(meter, CLIENT_CLOSED, seen);
        });
    }
}
