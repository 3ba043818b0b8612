//! Spend accounting around one LLM call: a [`Meter`] holds the request's admission from the
//! moment it is admitted until it settles, exactly once, whatever happens.
//!
//! - answered: settled with the real usage at the deployment's prices;
//! - failed: settled at zero cost (the upstream billed nothing we can see);
//! - the client went away before the answer: settled as estimated (the prompt at input price);
//! - a stream the client abandons ([`MeteredStream`] dropped early): the upstream is drained
//!   in the background for its usage, up to [`DRAIN_LIMIT`]; if it does not come, the output
//!   seen so far is estimated (four characters a token) and the row is marked estimated.

use futures_util::{Stream, StreamExt};
use llm_policy::Policy;
use llm_policy::policy::{Admission, Outcome};
use llm_providers::ChatStream;
use llm_types::money::NanoDollars;
use llm_types::{ChatCompletionChunk, Error, ModelRef, Usage};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::metrics::Metrics;
use crate::prices::PriceBook;

/// How long an abandoned stream is drained for its usage.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Status recorded for a request whose client went away (nginx's convention).
pub const CLIENT_CLOSED: u16 = 499;

/// One request's admission, settled exactly once (on drop at the latest).
pub struct Meter {
    policy: Arc<Policy>,
    prices: Arc<PriceBook>,
    admission: Option<Admission>,
    outcome: Outcome,
    target_model: Option<Arc<str>>,
    prompt_estimate: u64,
    metrics: Arc<Metrics>,
    started: Instant,
    stream: bool,
    /// Whether the model group is configured (else its metrics say `other`).
    known_group: bool,
}

impl Meter {
    pub fn new(
        policy: Arc<Policy>,
        prices: Arc<PriceBook>,
        admission: Admission,
        model_group: &str,
        prompt_estimate: u64,
        metrics: Arc<Metrics>,
        known_group: bool,
    ) -> Meter {
        metrics.in_flight.inc();
        Meter {
            policy,
            prices,
            admission: Some(admission),
            outcome: Outcome {
                model_group: model_group.to_owned(),
                status: CLIENT_CLOSED,
                ..Outcome::default()
            },
            target_model: None,
            prompt_estimate,
            metrics,
            started: Instant::now(),
            stream: false,
            known_group,
        }
    }

    /// Records the request's timing: the whole of it so far is `total`, of which `upstream`
    /// was the upstream's (to its first token for a stream). Returns the gateway's own part.
    pub fn timing(&self, total: Duration, upstream: Duration) -> Duration {
        let overhead = total.saturating_sub(upstream);
        let group = self
            .known_group
            .then_some(self.outcome.model_group.as_str());
        self.metrics
            .timing(group, overhead, self.stream.then_some(total));
        overhead
    }

    /// Marks the request as streamed (a label of its metrics).
    pub fn streaming(&mut self) {
        self.stream = true;
    }

    /// Records which deployment answered.
    pub fn served_by(&mut self, deployment_id: &str, target_model: &Arc<str>) {
        self.outcome.deployment = Some(deployment_id.to_owned());
        self.outcome.provider = ModelRef::parse(target_model)
            .ok()
            .map(|m| m.provider.to_owned());
        self.target_model = Some(target_model.clone());
    }

    /// The rate-limit figures of the admission, for response headers.
    pub fn rate_headers(&self) -> Option<&llm_policy::policy::RateHeaders> {
        self.admission.as_ref().map(|a| &a.headers)
    }

    /// What `usage` costs on the deployment that answered; `None` when its prices are
    /// unknown (the spend row then says zero, and no cost header is sent).
    pub fn price(&self, usage: &Usage) -> Option<NanoDollars> {
        match (&self.outcome.deployment, &self.target_model) {
            (Some(id), Some(model)) => self.prices.cost(id, model, usage),
            _ => None,
        }
    }

    /// Settles with the real usage (or none) and the status the client got; returns the cost
    /// when the deployment's prices are known.
    pub fn finish(mut self, status: u16, usage: Option<&Usage>) -> Option<NanoDollars> {
        self.outcome.status = status;
        let cost = usage.and_then(|usage| self.record_usage(usage));
        self.settle();
        cost
    }

    /// Settles an answer served from the response cache: free, its usage recorded for the
    /// log, the row marked as a cache hit.
    pub fn finish_cache_hit(mut self, usage: Option<&Usage>) {
        self.outcome.status = 200;
        self.outcome.cache_hit = true;
        if let Some(usage) = usage {
            self.outcome.prompt_tokens = usage.prompt_tokens;
            self.outcome.completion_tokens = usage.completion_tokens;
            self.outcome.cached_tokens = usage.cached_tokens();
        }
        self.outcome.cost = NanoDollars::ZERO;
        self.settle();
    }

    /// Settles an answer whose usage never came: the prompt estimate and `completion_chars`
    /// of output at four characters a token, marked estimated.
    fn finish_estimated(mut self, status: u16, completion_chars: u64) {
        self.outcome.status = status;
        let usage = Usage::new(self.prompt_estimate, completion_chars.div_ceil(4));
        self.record_usage(&usage);
        self.outcome.estimated = true;
        self.settle();
    }

    fn record_usage(&mut self, usage: &Usage) -> Option<NanoDollars> {
        self.outcome.prompt_tokens = usage.prompt_tokens;
        self.outcome.completion_tokens = usage.completion_tokens;
        self.outcome.cached_tokens = usage.cached_tokens();
        let cost = self.price(usage);
        self.outcome.cost = cost.unwrap_or(NanoDollars::ZERO);
        cost
    }

    fn settle(&mut self) {
        if let Some(admission) = self.admission.take() {
            self.metrics.observe(
                &self.outcome,
                self.known_group,
                self.stream,
                self.started.elapsed(),
            );
            self.policy
                .settle(admission, std::mem::take(&mut self.outcome));
        }
    }
}

impl Drop for Meter {
    /// The handler was dropped before it settled: the client went away while the upstream
    /// worked. The prompt was sent, so it is billed as estimated.
    fn drop(&mut self) {
        if self.admission.is_some() {
            self.outcome.status = CLIENT_CLOSED;
            self.outcome.estimated = true;
            self.outcome.prompt_tokens = self.prompt_estimate;
            self.outcome.cost = match (&self.outcome.deployment, &self.target_model) {
                (Some(_), Some(_)) => self
                    .price(&Usage::new(self.prompt_estimate, 0))
                    .unwrap_or(NanoDollars::ZERO),
                _ => self
                    .prices
                    .input_estimate(&self.outcome.model_group, self.prompt_estimate),
            };
            self.settle();
        }
    }
}

/// A chat stream that settles its meter when it ends, fails, or is abandoned.
pub struct MeteredStream {
    inner: Option<ChatStream>,
    meter: Option<Meter>,
    usage: Option<Usage>,
    completion_chars: u64,
}

impl MeteredStream {
    pub fn new(inner: ChatStream, meter: Meter) -> MeteredStream {
        MeteredStream {
            inner: Some(inner),
            meter: Some(meter),
            usage: None,
            completion_chars: 0,
        }
    }

    fn end(&mut self, status: u16) {
        self.inner = None;
        if let Some(meter) = self.meter.take() {
            settle_stream(meter, status, self.usage.take(), self.completion_chars);
        }
    }
}

fn observe(chunk: &ChatCompletionChunk, usage: &mut Option<Usage>, chars: &mut u64) {
    if let Some(u) = &chunk.usage {
        *usage = Some(u.clone());
    }
    for choice in &chunk.choices {
        let delta = &choice.delta;
        let text = [&delta.content, &delta.reasoning_content, &delta.refusal];
        *chars += text
            .iter()
            .filter_map(|t| t.as_ref())
            .map(|t| t.len() as u64)
            .sum::<u64>();
        if let Some(calls) = &delta.tool_calls {
            *chars += calls
                .iter()
                .filter_map(|c| c.function.as_ref()?.arguments.as_ref())
                .map(|a| a.len() as u64)
                .sum::<u64>();
        }
    }
}

fn settle_stream(meter: Meter, status: u16, usage: Option<Usage>, completion_chars: u64) {
    match usage {
        Some(usage) => {
            meter.finish(status, Some(&usage));
        }
        None => meter.finish_estimated(status, completion_chars),
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
                observe(&chunk, &mut this.usage, &mut this.completion_chars);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.end(error.status());
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.end(200);
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
        let mut usage = self.usage.take();
        let mut chars = self.completion_chars;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            settle_stream(meter, CLIENT_CLOSED, usage, chars);
            return;
        };
        runtime.spawn(async move {
            let drained = tokio::time::timeout(DRAIN_LIMIT, async {
                while let Some(item) = inner.next().await {
                    match item {
                        Ok(chunk) => observe(&chunk, &mut usage, &mut chars),
                        Err(_) => break,
                    }
                }
            })
            .await;
            if drained.is_err() {
                tracing::debug!("abandoned stream did not finish in time; its usage is estimated");
            }
            settle_stream(meter, CLIENT_CLOSED, usage, chars);
        });
    }
}
