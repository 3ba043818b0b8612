//! Spend accounting around one LLM call: a [`Meter`] holds the request's admission from the
//! moment it is admitted until it settles, exactly once, whatever happens.
//!
//! - answered: settled with the real usage at the deployment's prices;
//! - failed: settled at zero cost (the upstream billed nothing we can see);
//! - the client went away before the answer: settled as estimated (the prompt at input price);
//! - a stream the client abandons ([`MeteredStream`] dropped early): the upstream is drained
//!   in the background for its usage, up to [`DRAIN_LIMIT`]; if it does not come, the output
//!   seen so far is estimated (four characters a token) and the row is marked estimated.
//!
//! Settling also reports the request (its [`RequestRecord`]: log line, trace span, sinks)
//! and records its metrics.

mod stream;

pub use stream::MeteredStream;

use llm_policy::Policy;
use llm_policy::policy::{Admission, Outcome};
use llm_router::Routed;
use llm_types::money::NanoDollars;
use llm_types::{ChatCompletionResponse, Error, ModelRef, Usage};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::AppState;
use crate::context::RequestContext;
use crate::metrics::Metrics;
use crate::prices::PriceBook;
use crate::request_log::{Reporter, RequestRecord};

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
    reporter: Arc<Reporter>,
    span: tracing::Span,
    started: Instant,
    /// Whether the model group is configured (else its metrics say `other`).
    known_group: bool,
    /// The request's report, filled in as it goes.
    record: RequestRecord,
}

impl Meter {
    /// The meter of a request `context` admitted by `admission` for `model_group`, priced
    /// by `prices` (the book its reservation was computed with).
    #[allow(clippy::too_many_arguments)] // called once, by the policy gate
    pub fn new(
        app: &AppState,
        context: &RequestContext,
        prices: Arc<PriceBook>,
        admission: Admission,
        model_group: &str,
        prompt_estimate: u64,
        known_group: bool,
        call_type: &'static str,
    ) -> Meter {
        app.metrics.in_flight.inc();
        let caller = admission.caller();
        let record = RequestRecord {
            request_id: context.id.clone(),
            call_type,
            started_at_ms: llm_types::unix_now_ms()
                - i64::try_from(context.started.elapsed().as_millis()).unwrap_or(0),
            model_group: model_group.to_owned(),
            key_alias: caller.key_alias.map(str::to_owned),
            key_hash: caller.key_hash.map(str::to_owned),
            user_id: caller.user_id.map(str::to_owned),
            team_id: caller.team_id.map(str::to_owned),
            ..RequestRecord::default()
        };
        Meter {
            policy: Arc::clone(&app.policy),
            prices,
            admission: Some(admission),
            outcome: Outcome {
                model_group: model_group.to_owned(),
                status: CLIENT_CLOSED,
                ..Outcome::default()
            },
            target_model: None,
            prompt_estimate,
            metrics: Arc::clone(&app.metrics),
            reporter: Arc::clone(&app.reporter),
            span: context.span.clone(),
            started: context.started,
            known_group,
            record,
        }
    }

    /// Records the request's timing: the whole of it so far is `total`, of which `upstream`
    /// was the upstream's (to its first token for a stream). Returns the gateway's own part.
    pub fn timing(&mut self, total: Duration, upstream: Duration) -> Duration {
        let overhead = total.saturating_sub(upstream);
        let group = self
            .known_group
            .then_some(self.outcome.model_group.as_str());
        let first_token = self.record.stream.then_some(total);
        self.metrics.timing(group, overhead, first_token);
        self.record.overhead_ms = Some(millis(overhead));
        self.record.time_to_first_token_ms = first_token.map(millis);
        overhead
    }

    /// Marks the request as streamed (a label of its metrics).
    pub fn streaming(&mut self) {
        self.record.stream = true;
    }

    /// Whether the request's report carries message content.
    pub fn captures_content(&self) -> bool {
        self.reporter.captures_content()
    }

    /// Keeps the request's content (messages, embedding input) for its report, when
    /// reports carry content.
    pub fn capture_request(&mut self, content: &impl Serialize) {
        if self.captures_content() {
            self.record.request_content = crate::request_log::content_of(content);
        }
    }

    /// Records which deployment answered and how the router got there.
    pub fn served_by<T>(&mut self, routed: &Routed<T>) {
        let deployment = &routed.deployment;
        self.outcome.deployment = Some(deployment.id.to_string());
        self.outcome.provider = ModelRef::parse(&deployment.target_model)
            .ok()
            .map(|m| m.provider.to_owned());
        self.target_model = Some(deployment.target_model.clone());
        self.record.target_model = Some(deployment.target_model.to_string());
        self.record.failed_attempts = routed.failures.len() as u32;
        self.record.retries = routed.retries;
        self.record.fallbacks = routed.fallbacks;
    }

    /// Records what a complete answer says of itself: its model, finish reasons and (when
    /// reports carry content) its messages.
    pub fn answered(&mut self, answer: &ChatCompletionResponse) {
        self.record.response_model = Some(answer.model.clone());
        self.record.finish_reasons = answer
            .choices
            .iter()
            .map(|c| c.finish_reason.map_or("", |r| r.as_str()))
            .collect();
        if self.captures_content() {
            let messages: Vec<_> = answer.choices.iter().map(|c| &c.message).collect();
            self.record.response_content = crate::request_log::content_of(&messages);
        }
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

    /// Settles a request that failed with `error` (whatever the upstream billed for a
    /// guardrail's refusal after the answer is `usage`).
    pub fn fail(mut self, error: &Error, usage: Option<&Usage>) {
        self.record_error(error);
        self.finish(error.status(), usage);
    }

    /// Notes the error a request ends with (a stream's error event, a refusal).
    fn record_error(&mut self, error: &Error) {
        self.record.error_class = Some(error.kind.metric_label());
        self.record.error_message = Some(error.message.to_string());
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
        let Some(admission) = self.admission.take() else {
            return;
        };
        let elapsed = self.started.elapsed();
        self.metrics.observe(
            &self.outcome,
            self.known_group,
            self.record.stream,
            self.record.error_class,
            elapsed,
        );
        let record = self.completed_record(elapsed);
        self.policy
            .settle(admission, std::mem::take(&mut self.outcome));
        self.reporter.report(&self.span, record);
    }

    /// The report, completed from the settled outcome.
    fn completed_record(&mut self, elapsed: Duration) -> RequestRecord {
        let outcome = &self.outcome;
        let mut record = std::mem::take(&mut self.record);
        record.duration_ms = millis(elapsed);
        record.status = outcome.status;
        record.deployment.clone_from(&outcome.deployment);
        record.provider.clone_from(&outcome.provider);
        record.prompt_tokens = outcome.prompt_tokens;
        record.completion_tokens = outcome.completion_tokens;
        record.cached_tokens = outcome.cached_tokens;
        record.cost_nanos = outcome.cost.0;
        record.cache_hit = outcome.cache_hit;
        record.estimated = outcome.estimated;
        record
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
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
