//! The [`Router`]: model name → group of deployments → an answer, with a routing strategy,
//! retries, fallbacks to other groups and per-deployment cooldowns.

use futures_util::{StreamExt, stream};
use llm_providers::{AnyProvider, ChatStream, Provider};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ErrorOrigin,
};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

use crate::attempt::{Operation, attempt_span};
use crate::breaker::Admission;
use crate::deployment::Deployment;
use crate::events::RouterEvents;
use crate::retry::wait_before_retry;
use crate::settings::{RequestOptions, RouterSettings};
use crate::shared::{Attempt, LocalState, SharedState, Verdict, shared_state};
use crate::state::DeploymentState;
use crate::strategy::choose;
use crate::wildcard::{Wildcard, WildcardFactory};

/// A failed attempt on the way to an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt {
    pub group: Arc<str>,
    pub deployment: Arc<str>,
    /// The error's metric label (`rate_limited`, `upstream_timeout`, ...).
    pub error: &'static str,
}

/// An answer and how it was obtained.
#[derive(Debug)]
pub struct Routed<T, P: Provider = AnyProvider> {
    pub value: T,
    /// The deployment that answered.
    pub deployment: Arc<Deployment<P>>,
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// Retries within the group that answered.
    pub retries: u32,
    /// Fallback groups moved to.
    pub fallbacks: u32,
    /// Every failed attempt, in order.
    pub failures: Vec<FailedAttempt>,
}

struct ModelGroup<P: Provider> {
    deployments: Arc<Vec<Arc<Deployment<P>>>>,
}

/// Model groups built from a configuration; cheap to share behind an `Arc`.
pub struct Router<P: Provider = AnyProvider> {
    groups: HashMap<Arc<str>, ModelGroup<P>>,
    /// Public model names in configuration order, for listings and error messages.
    names: Vec<Arc<str>>,
    settings: RouterSettings,
    /// Where cooldowns, usage and latency live (in-process or Redis).
    state: Arc<dyn SharedState>,
    /// `provider/*` patterns, most specific first.
    wildcards: Vec<Wildcard<P>>,
    /// xorshift state for the strategies' random choices.
    rng: AtomicU64,
    /// Told about failed attempts, retries and fallbacks.
    events: Option<Arc<dyn RouterEvents>>,
}

impl<P: Provider> Router<P> {
    /// Groups deployments by their public model name, with default settings.
    pub fn new(deployments: Vec<Deployment<P>>) -> Self {
        Router::with_settings(deployments, RouterSettings::default())
    }

    /// Groups deployments by their public model name, keeping configuration order. The
    /// state is in Redis when `settings.redis` says so (an unusable URL is logged and the
    /// state stays in-process: check it first with [`crate::RedisSettings::new`]).
    pub fn with_settings(deployments: Vec<Deployment<P>>, settings: RouterSettings) -> Self {
        let state = shared_state(settings.redis.as_ref()).unwrap_or_else(|error| {
            tracing::error!(error, "router state stays in-process");
            Arc::new(LocalState::new())
        });
        Router::with_state(deployments, settings, state)
    }

    /// Like [`Router::with_settings`], on a given state backend (routers sharing one share
    /// cooldowns and usage, e.g. across a configuration reload).
    pub fn with_state(
        deployments: Vec<Deployment<P>>,
        settings: RouterSettings,
        state: Arc<dyn SharedState>,
    ) -> Self {
        let mut lists: HashMap<Arc<str>, Vec<Arc<Deployment<P>>>> = HashMap::new();
        let mut names = Vec::new();
        for mut deployment in deployments {
            deployment.state = state.deployment(&deployment.id);
            let name = deployment.model_name.clone();
            lists
                .entry(name.clone())
                .or_insert_with(|| {
                    names.push(name);
                    Vec::new()
                })
                .push(Arc::new(deployment));
        }
        let groups = lists
            .into_iter()
            .map(|(name, deployments)| {
                (
                    name,
                    ModelGroup {
                        deployments: Arc::new(deployments),
                    },
                )
            })
            .collect();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Router {
            groups,
            names,
            settings,
            state,
            wildcards: Vec::new(),
            rng: AtomicU64::new(seed | 1),
            events: None,
        }
    }

    /// Reports failed attempts, retries and fallbacks to `events`.
    pub fn with_events(mut self, events: Arc<dyn RouterEvents>) -> Self {
        self.events = Some(events);
        self
    }

    /// `group` as events name it: configured groups by name, wildcard ones as `None`.
    fn event_group<'a>(&self, group: &'a str) -> Option<&'a str> {
        self.groups.contains_key(group).then_some(group)
    }

    /// Adds a wildcard group: `pattern` (`anthropic/*`, or `*`) serves any model it matches
    /// that no exact group serves, with deployments `factory` builds for that model.
    pub fn with_wildcard(mut self, pattern: &str, factory: WildcardFactory<P>) -> Self {
        self.names.push(Arc::from(pattern));
        self.wildcards.push(Wildcard::new(pattern, factory));
        // Most specific (longest prefix) first.
        self.wildcards
            .sort_by_key(|w| std::cmp::Reverse(w.pattern.len()));
        self
    }

    /// The group serving `model`: an exact group, else the most specific wildcard's.
    fn group(&self, model: &str) -> Result<Option<ModelGroup<P>>, Error> {
        if let Some(group) = self.groups.get(model) {
            return Ok(Some(ModelGroup {
                deployments: group.deployments.clone(),
            }));
        }
        let Some(wildcard) = self.wildcards.iter().find(|w| w.matches(model).is_some()) else {
            return Ok(None);
        };
        let deployments =
            wildcard.deployments(model, |d| d.state = self.state.deployment(&d.id))?;
        Ok(Some(ModelGroup { deployments }))
    }

    /// Fixes the random sequence (tests of weighted choices).
    pub fn with_seed(self, seed: u64) -> Self {
        self.rng.store(seed | 1, Ordering::Relaxed);
        self
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.settings
    }

    /// The state backend (its [`SharedState::errors`] count for metrics).
    pub fn shared_state(&self) -> &Arc<dyn SharedState> {
        &self.state
    }

    /// Public model names, in configuration order.
    pub fn model_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| n.as_ref())
    }

    /// Every deployment, group by group in configuration order.
    pub fn all_deployments(&self) -> impl Iterator<Item = &Arc<Deployment<P>>> {
        self.names
            .iter()
            .filter_map(|name| self.groups.get(name))
            .flat_map(|group| group.deployments.iter())
    }

    /// The deployments serving `model`.
    pub fn deployments(&self, model: &str) -> Option<&[Arc<Deployment<P>>]> {
        self.groups.get(model).map(|g| g.deployments.as_slice())
    }

    /// A complete chat completion from the `request.model` group.
    pub async fn chat(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<Routed<ChatCompletionResponse, P>, Error> {
        let options = options_of(&request);
        let prompt_tokens = request.estimate_prompt_tokens();
        let model = request.model.clone();
        let routed = self
            .route(
                &model,
                request,
                &options,
                false,
                prompt_tokens,
                |d, r| async move { d.provider.chat(r).await },
            )
            .await?;
        if let Some(usage) = &routed.value.usage {
            self.state
                .add_tokens(&routed.deployment.state, usage.total_tokens);
        }
        Ok(routed)
    }

    /// A streamed chat completion. An attempt counts as successful once its first chunk
    /// arrived: until then nothing was sent to the client, so failures before it are retried
    /// and fall back like any other.
    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<Routed<ChatStream, P>, Error>
    where
        P: 'static,
    {
        let options = options_of(&request);
        let prompt_tokens = request.estimate_prompt_tokens();
        let model = request.model.clone();
        let routed = self
            .route(
                &model,
                request,
                &options,
                true,
                prompt_tokens,
                |d, r| async move {
                    let stream = d.provider.chat_stream(r).await?;
                    first_token(stream).await
                },
            )
            .await?;
        // Count the stream's tokens against the deployment's minute when its usage passes.
        let deployment = routed.deployment.clone();
        let state = self.state.clone();
        let Routed {
            value,
            deployment: d,
            attempts,
            retries,
            fallbacks,
            failures,
        } = routed;
        let counted: ChatStream = Box::pin(value.inspect(move |item| {
            if let Ok(chunk) = item
                && let Some(usage) = &chunk.usage
            {
                state.add_tokens(&deployment.state, usage.total_tokens);
            }
        }));
        Ok(Routed {
            value: counted,
            deployment: d,
            attempts,
            retries,
            fallbacks,
            failures,
        })
    }

    /// Embeddings from the `request.model` group.
    pub async fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<Routed<EmbeddingsResponse, P>, Error> {
        let model = request.model.clone();
        let routed = self
            .route(
                &model,
                request,
                &RequestOptions::default(),
                false,
                0,
                |d, r| async move { d.provider.embeddings(r).await },
            )
            .await?;
        self.state
            .add_tokens(&routed.deployment.state, routed.value.usage.total_tokens);
        Ok(routed)
    }

    /// Tries `model`'s group, then its fallbacks, within the request's overall timeout.
    async fn route<R, T, F, Fut>(
        &self,
        model: &str,
        request: R,
        options: &RequestOptions,
        stream: bool,
        prompt_tokens: u64,
        call: F,
    ) -> Result<Routed<T, P>, Error>
    where
        R: Clone + Operation,
        F: Fn(Arc<Deployment<P>>, R) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        if self.group(model)?.is_none() {
            return Err(self.not_found(model));
        }
        let work = self.route_groups(model, request, options, stream, prompt_tokens, call);
        match options.timeout.or(self.settings.timeout) {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Error::upstream(
                    ErrorKind::UpstreamTimeout,
                    None,
                    format!(
                        "no answer within the request timeout of {:.1}s",
                        limit.as_secs_f64()
                    ),
                ))
            }),
        }
    }

    async fn route_groups<R, T, F, Fut>(
        &self,
        model: &str,
        request: R,
        options: &RequestOptions,
        stream: bool,
        prompt_tokens: u64,
        call: F,
    ) -> Result<Routed<T, P>, Error>
    where
        R: Clone + Operation,
        F: Fn(Arc<Deployment<P>>, R) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut failures = Vec::new();
        let mut tried_groups: Vec<String> = Vec::new();
        let mut group_name = model.to_owned();
        loop {
            tried_groups.push(group_name.clone());
            let outcome = match self.group(group_name.as_str()) {
                Ok(Some(group)) => {
                    self.try_group(
                        &group_name,
                        &group,
                        &request,
                        options,
                        stream,
                        prompt_tokens,
                        &call,
                        &mut failures,
                    )
                    .await
                }
                Ok(None) => Err(self.not_found(&group_name)),
                Err(error) => Err(error),
            };
            match outcome {
                Ok((value, deployment, retries)) => {
                    return Ok(Routed {
                        value,
                        deployment,
                        attempts: failures.len() as u32 + 1,
                        retries,
                        fallbacks: tried_groups.len() as u32 - 1,
                        failures,
                    });
                }
                Err(error) => {
                    let used = tried_groups.len() - 1;
                    match self.next_fallback(model, &error, options, &tried_groups) {
                        Some(next) if used < self.settings.max_fallbacks => {
                            tracing::warn!(from = %group_name, to = %next, error = error.kind.metric_label(), "falling back");
                            if let Some(events) = &self.events {
                                events.fell_back(
                                    self.event_group(&group_name),
                                    self.event_group(&next),
                                    error.kind.metric_label(),
                                );
                            }
                            group_name = next;
                        }
                        _ => return Err(error),
                    }
                }
            }
        }
    }

    /// Attempts in one group: each attempt on the best available deployment (untried ones
    /// first), retrying retryable failures as the retry policy allows.
    #[allow(clippy::too_many_arguments)] // one private step of `route`, called once
    async fn try_group<R, T, F, Fut>(
        &self,
        group_name: &str,
        group: &ModelGroup<P>,
        request: &R,
        options: &RequestOptions,
        stream: bool,
        prompt_tokens: u64,
        call: &F,
        failures: &mut Vec<FailedAttempt>,
    ) -> Result<(T, Arc<Deployment<P>>, u32), Error>
    where
        R: Clone + Operation,
        F: Fn(Arc<Deployment<P>>, R) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut tried: Vec<Arc<str>> = Vec::new();
        let mut retries = 0;
        let states: Vec<&DeploymentState> =
            group.deployments.iter().map(|d| d.state.as_ref()).collect();
        loop {
            let deployment = self
                .admit(group_name, group, &states, &tried, stream, prompt_tokens)
                .await?;
            tried.push(deployment.id.clone());
            let started = Instant::now();
            let in_flight = deployment.state.enter();
            let attempt = attempt_span::<R, P>(&deployment);
            let result = call(deployment.clone(), request.clone())
                .instrument(attempt.clone())
                .await;
            drop(in_flight);
            let error = match result {
                Ok(value) => {
                    self.state
                        .succeeded(&deployment.state, started.elapsed(), stream);
                    return Ok((value, deployment, retries));
                }
                Err(error) => error,
            };
            attempt.record("error.type", error.kind.metric_label());
            attempt.record("otel.status_code", "error");
            let cooling = self
                .state
                .failed(&deployment.state, error.kind, &self.settings.breaker)
                .await;
            tracing::warn!(
                deployment = %deployment.id,
                error = error.kind.metric_label(),
                cooling,
                "attempt failed"
            );
            if let Some(events) = &self.events {
                events.attempt_failed(
                    self.event_group(group_name),
                    &deployment.id,
                    error.kind.metric_label(),
                );
            }
            failures.push(FailedAttempt {
                group: Arc::from(group_name),
                deployment: deployment.id.clone(),
                error: error.kind.metric_label(),
            });
            let num_retries = options
                .num_retries
                .or(deployment.spec.max_retries)
                .unwrap_or(self.settings.num_retries);
            if retries
                >= self
                    .settings
                    .retry_policy
                    .retries_for(error.kind, num_retries)
            {
                return Err(error);
            }
            retries += 1;
            // Another deployment can take the retry at once; the same one gets a backoff.
            if !self.has_untried(group, &tried, Instant::now()) {
                match wait_before_retry(retries, error.retry_after, self.next_random_bits()) {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => return Err(error),
                }
            }
            if let Some(events) = &self.events {
                events.retried(self.event_group(group_name));
            }
        }
    }

    /// Picks a deployment and has the state backend admit and count the request. A refusal
    /// (the shared state knew better than this instance's views, which it just refreshed)
    /// means picking again.
    async fn admit(
        &self,
        group_name: &str,
        group: &ModelGroup<P>,
        states: &[&DeploymentState],
        tried: &[Arc<str>],
        stream: bool,
        prompt_tokens: u64,
    ) -> Result<Arc<Deployment<P>>, Error> {
        self.state.refresh(states).await;
        for _ in 0..=states.len() {
            let (deployment, admission, forced) = self.pick(
                group_name,
                group,
                tried,
                stream,
                prompt_tokens,
                Instant::now(),
            )?;
            let attempt = Attempt {
                group: states,
                chosen: &deployment.state,
                admission,
                forced,
                rpm: deployment.spec.rpm,
                tpm: deployment.spec.tpm,
            };
            if let Verdict::Admitted(_) = self.state.begin(attempt).await {
                return Ok(deployment);
            }
        }
        // Every pick was refused: the instances are racing for the group's last capacity.
        Err(Error::upstream(
            ErrorKind::RateLimited,
            None,
            format!("every deployment of `{group_name}` is cooling down or at its limit"),
        )
        .with_retry_after(Some(Duration::from_secs(1))))
    }

    /// The deployment for the next attempt: it fits the prompt, is not cooling down, is
    /// under its rpm/tpm/parallel limits, was not tried yet for this request if possible, is
    /// in the lowest priority tier left, and wins the strategy.
    fn pick(
        &self,
        group_name: &str,
        group: &ModelGroup<P>,
        tried: &[Arc<str>],
        stream: bool,
        prompt_tokens: u64,
        now: Instant,
    ) -> Result<(Arc<Deployment<P>>, Admission, bool), Error> {
        let fitting: Vec<&Arc<Deployment<P>>> = group
            .deployments
            .iter()
            .filter(|d| {
                d.spec
                    .max_input_tokens
                    .is_none_or(|max| prompt_tokens <= max)
            })
            .collect();
        if fitting.is_empty() {
            return Err(Error::upstream(
                ErrorKind::ContextLengthExceeded,
                None,
                format!("the prompt (about {prompt_tokens} tokens) exceeds the context window of every deployment of `{group_name}`"),
            )
            .with_code("context_length_exceeded"));
        }
        let mut available: Vec<(&Arc<Deployment<P>>, Admission)> = Vec::new();
        let mut soonest_cooling: Option<(&Arc<Deployment<P>>, Instant)> = None;
        let mut limit_reset: Option<Duration> = None;
        for deployment in fitting {
            let admission = deployment.state.admission(now);
            if let Admission::No { until } = admission {
                if soonest_cooling.is_none_or(|(_, t)| until < t) {
                    soonest_cooling = Some((deployment, until));
                }
                continue;
            }
            let usage = deployment.state.minute_usage(now);
            let over_rpm = deployment.spec.rpm.is_some_and(|rpm| usage.requests >= rpm);
            let over_tpm = deployment.spec.tpm.is_some_and(|tpm| usage.tokens >= tpm);
            let busy = deployment
                .spec
                .max_parallel_requests
                .is_some_and(|max| deployment.state.in_flight() >= max);
            if over_rpm || over_tpm || busy {
                let reset = if busy {
                    Duration::from_secs(1)
                } else {
                    usage.resets_in
                };
                limit_reset = Some(limit_reset.map_or(reset, |r| r.min(reset)));
                continue;
            }
            available.push((deployment, admission));
        }
        if available.is_empty() {
            if let Some(reset) = limit_reset {
                return Err(Error::upstream(
                    ErrorKind::RateLimited,
                    None,
                    format!("every deployment of `{group_name}` is at its rpm/tpm/parallel-request limit"),
                )
                .with_retry_after(Some(reset)));
            }
            // Every deployment is cooling down. Refusing would turn one failure of a
            // single-deployment group into seconds of errors (a known LiteLLM surprise): the
            // deployment that recovers first takes the request instead.
            if let Some((deployment, _)) = soonest_cooling {
                return Ok((deployment.clone(), Admission::Yes, true));
            }
            return Err(Error::internal(format!(
                "model group `{group_name}` has no deployments"
            )));
        }
        let untried: Vec<(&Arc<Deployment<P>>, Admission)> = available
            .iter()
            .copied()
            .filter(|(d, _)| !tried.contains(&d.id))
            .collect();
        let mut pool = if untried.is_empty() {
            available
        } else {
            untried
        };
        let tier = pool
            .iter()
            .map(|(d, _)| d.spec.order.unwrap_or(u32::MAX))
            .min()
            .unwrap_or(u32::MAX);
        pool.retain(|(d, _)| d.spec.order.unwrap_or(u32::MAX) == tier);
        let candidates: Vec<&Deployment<P>> = pool.iter().map(|(d, _)| d.as_ref()).collect();
        let index = choose(
            self.settings.strategy,
            &candidates,
            stream,
            now,
            self.next_random(),
        );
        let (deployment, admission) = pool[index.min(pool.len() - 1)];
        Ok((deployment.clone(), admission, false))
    }

    fn has_untried(&self, group: &ModelGroup<P>, tried: &[Arc<str>], now: Instant) -> bool {
        group.deployments.iter().any(|d| {
            !tried.contains(&d.id) && !matches!(d.state.admission(now), Admission::No { .. })
        })
    }

    /// The next fallback group for a failure, from the list that fits its kind.
    fn next_fallback(
        &self,
        model: &str,
        error: &Error,
        options: &RequestOptions,
        tried: &[String],
    ) -> Option<String> {
        let settings = &self.settings;
        let specific: Option<&Vec<String>> = match error.kind {
            ErrorKind::ContextLengthExceeded => settings.context_window_fallbacks.get(model),
            ErrorKind::ContentPolicy => settings.content_policy_fallbacks.get(model),
            // The request itself is at fault: another model would refuse it too.
            ErrorKind::InvalidRequest | ErrorKind::Unprocessable | ErrorKind::PayloadTooLarge => {
                return None;
            }
            _ => options
                .fallbacks
                .as_ref()
                .or_else(|| settings.fallbacks.get(model)),
        };
        let list = match specific {
            Some(list) if !list.is_empty() => list.as_slice(),
            _ => settings.default_fallbacks.as_slice(),
        };
        list.iter().find(|name| !tried.contains(name)).cloned()
    }

    fn not_found(&self, model: &str) -> Error {
        let available = self
            .names
            .iter()
            .map(|n| n.as_ref())
            .collect::<Vec<_>>()
            .join(", ");
        Error::new(
            ErrorKind::NotFound,
            ErrorOrigin::Client,
            format!("model `{model}` not found; available models: {available}"),
        )
        .with_param("model")
        .with_code("model_not_found")
    }

    fn next_random_bits(&self) -> u64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x
    }

    /// Uniform in [0, 1).
    fn next_random(&self) -> f64 {
        (self.next_random_bits() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Waits for a stream's first token: chunks before it (the role announcement, empty deltas)
/// are held back, so a stream that fails before saying anything is a failed attempt that
/// retries and falls back, and the latency recorded is time to first token.
async fn first_token(mut stream: ChatStream) -> Result<ChatStream, Error> {
    let mut held = Vec::new();
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let says_something = chunk.usage.is_some()
                    || chunk.choices.iter().any(|c| {
                        c.finish_reason.is_some()
                            || c.delta.content.as_deref().is_some_and(|t| !t.is_empty())
                            || c.delta.tool_calls.is_some()
                            || c.delta.refusal.is_some()
                            || c.delta.reasoning_content.is_some()
                            || c.delta.function_call.is_some()
                    });
                held.push(Ok(chunk));
                if says_something {
                    return Ok(Box::pin(stream::iter(held).chain(stream)));
                }
            }
            Some(Err(error)) => return Err(error),
            None if held.is_empty() => {
                return Err(Error::upstream(
                    ErrorKind::UpstreamBadResponse,
                    Some(200),
                    "the upstream sent an empty stream",
                ));
            }
            // A stream that ended cleanly without a token (an empty answer) is still an answer.
            None => return Ok(Box::pin(stream::iter(held))),
        }
    }
}

fn options_of(request: &ChatCompletionRequest) -> RequestOptions {
    RequestOptions {
        num_retries: request.num_retries,
        fallbacks: request.fallbacks.clone(),
        timeout: request
            .timeout
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64),
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
pub(crate) mod tests;
