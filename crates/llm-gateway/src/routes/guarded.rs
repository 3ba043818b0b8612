//! Guardrails on the request path of a chat call: selection (default-on, the key's and its
//! team's, the request's own `guardrails`), the pre-call pass on the request, the
//! during-call pass beside the upstream call, and the post-call pass on the answer, whole or
//! streamed ([`GuardedStream`] holds back only what a match could still span).

use futures_util::{Stream, StreamExt};
use llm_policy::guardrails::{self, CallInfo, Guardrails, Masks, Selection, StreamGuard};
use llm_providers::ChatStream;
use llm_types::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, Error};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::app::AppState;
use crate::context::RequestContext;

/// The guardrails of one chat request, with what its pre-call pass masked.
pub struct ChatGuard {
    engine: Guardrails,
    selection: Selection,
    call: CallInfo,
    masks: Masks,
}

impl ChatGuard {
    /// Selects the request's guardrails (taking its `guardrails` field out of what goes
    /// upstream). An unknown requested name is a 400.
    pub fn select(
        app: &AppState,
        context: &RequestContext,
        request: &mut ChatCompletionRequest,
        prompt_tokens: u64,
    ) -> Result<ChatGuard, Error> {
        let requested = guardrails::take_requested(request)?;
        let principal = context.caller.principal();
        let key: &[String] = principal.map_or(&[], |p| &p.key.guardrails);
        let team: &[String] = principal
            .and_then(|p| p.team.as_ref())
            .map_or(&[], |t| &t.guardrails);
        let selection = app.guardrails.select(key, team, &requested)?;
        // Most requests run no guardrail: they pay for no copies of the key's details.
        let call = if selection.is_empty() {
            CallInfo::default()
        } else {
            CallInfo {
                request_id: context.id.to_string(),
                model: request.model.clone(),
                key_alias: principal.and_then(|p| p.key.key_alias.clone()),
                team_id: principal.and_then(|p| p.key.team_id.clone()),
                metadata: principal
                    .map(|p| p.key.metadata.clone())
                    .unwrap_or_default(),
                prompt_tokens: Some(prompt_tokens),
                request_messages: Vec::new(),
            }
        };
        Ok(ChatGuard {
            engine: app.guardrails.clone(),
            selection,
            call,
            masks: Masks::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.selection.is_empty()
    }

    /// The pre-call pass: may block, mask or rewrite the request (for the model group
    /// `model`, as routed).
    pub async fn pre_call(
        &mut self,
        request: &mut ChatCompletionRequest,
        model: &str,
    ) -> Result<(), Error> {
        if self.is_empty() {
            return Ok(());
        }
        self.call.model = model.to_owned();
        self.masks = self
            .engine
            .pre_call(&self.selection, &self.call, request)
            .await
            .map_err(guardrails::Blocked::into_error)?;
        if self.engine.post_call_needs_messages(&self.selection) {
            self.call.request_messages = request.messages.clone();
        }
        Ok(())
    }

    /// Whether a during-call guardrail must run beside the upstream call.
    pub fn has_during_call(&self) -> bool {
        !self.is_empty() && self.engine.has_during_call(&self.selection)
    }

    /// The during-call pass (read-only).
    pub async fn during_call(&self, request: &ChatCompletionRequest) -> Result<(), Error> {
        self.engine
            .during_call(&self.selection, &self.call, request)
            .await
            .map_err(guardrails::Blocked::into_error)
    }

    /// The post-call pass on a complete answer: may block it, mask it, restore masked values.
    pub async fn post_call(&self, answer: &mut ChatCompletionResponse) -> Result<(), Error> {
        if self.is_empty() && !self.masks.has_unmask() {
            return Ok(());
        }
        self.engine
            .post_call(&self.selection, &self.call, answer, &self.masks)
            .await
            .map_err(guardrails::Blocked::into_error)
    }

    /// The post-call pass on a stream, chunk by chunk.
    pub fn wrap_stream(&self, inner: ChatStream) -> ChatStream {
        let guard = self
            .engine
            .stream_guard(&self.selection, &self.masks)
            .with_request_id(self.call.request_id.clone());
        if guard.is_passthrough() {
            return inner;
        }
        Box::pin(GuardedStream {
            inner: Some(inner),
            guard,
            ready: VecDeque::new(),
        })
    }
}

/// A chat stream passed through a [`StreamGuard`]; a block ends it with the guardrail's
/// error (the SSE writer then sends the error event and `[DONE]`).
struct GuardedStream {
    inner: Option<ChatStream>,
    guard: StreamGuard,
    ready: VecDeque<Result<ChatCompletionChunk, Error>>,
}

impl GuardedStream {
    fn take(&mut self, verdict: Result<Vec<ChatCompletionChunk>, guardrails::Blocked>) {
        match verdict {
            Ok(chunks) => self.ready.extend(chunks.into_iter().map(Ok)),
            Err(blocked) => {
                self.inner = None;
                self.ready.push_back(Err(blocked.into_error()));
            }
        }
    }
}

impl Stream for GuardedStream {
    type Item = Result<ChatCompletionChunk, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let verdict = this.guard.push(chunk);
                    this.take(verdict);
                }
                Poll::Ready(Some(Err(error))) => {
                    this.inner = None;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    let verdict = this.guard.finish();
                    this.take(verdict);
                    this.inner = None;
                }
            }
        }
    }
}
