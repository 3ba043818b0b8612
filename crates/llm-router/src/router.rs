//! The [`Router`]: model name → group of deployments → an answer, with retries.

use llm_providers::{AnyProvider, ChatStream, Provider};
use llm_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingsRequest, EmbeddingsResponse, Error,
    ErrorKind, ErrorOrigin,
};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::deployment::Deployment;
use crate::retry::backoff;

/// An answer and how it was obtained.
#[derive(Debug)]
pub struct Routed<T, P: Provider = AnyProvider> {
    pub value: T,
    /// The deployment that answered.
    pub deployment: Arc<Deployment<P>>,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

struct ModelGroup<P: Provider> {
    deployments: Vec<Arc<Deployment<P>>>,
    next: AtomicUsize,
}

/// Model groups built from a configuration; cheap to share behind an `Arc`.
pub struct Router<P: Provider = AnyProvider> {
    groups: HashMap<Arc<str>, ModelGroup<P>>,
    /// Public model names in configuration order, for listings and error messages.
    names: Vec<Arc<str>>,
}

impl<P: Provider> Router<P> {
    /// Groups deployments by their public model name, keeping configuration order.
    pub fn new(deployments: Vec<Deployment<P>>) -> Self {
        let mut groups: HashMap<Arc<str>, ModelGroup<P>> = HashMap::new();
        let mut names = Vec::new();
        for deployment in deployments {
            let name = deployment.model_name.clone();
            let group = groups.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                ModelGroup {
                    deployments: Vec::new(),
                    next: AtomicUsize::new(0),
                }
            });
            group.deployments.push(Arc::new(deployment));
        }
        Router { groups, names }
    }

    /// Public model names, in configuration order.
    pub fn model_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| n.as_ref())
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
        let group = self.group(&request.model)?;
        attempt_in_turn(
            group,
            request,
            |d, r| async move { d.provider.chat(r).await },
        )
        .await
    }

    /// A streamed chat completion. Retries happen only before the stream started, so nothing
    /// was shown to the client yet.
    pub async fn chat_stream(
        &self,
        request: ChatCompletionRequest,
    ) -> Result<Routed<ChatStream, P>, Error> {
        let group = self.group(&request.model)?;
        attempt_in_turn(group, request, |d, r| async move {
            d.provider.chat_stream(r).await
        })
        .await
    }

    /// Embeddings from the `request.model` group.
    pub async fn embeddings(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<Routed<EmbeddingsResponse, P>, Error> {
        let group = self.group(&request.model)?;
        attempt_in_turn(group, request, |d, r| async move {
            d.provider.embeddings(r).await
        })
        .await
    }

    fn group(&self, model: &str) -> Result<&ModelGroup<P>, Error> {
        self.groups.get(model).ok_or_else(|| {
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
        })
    }
}

/// Tries the group's deployments in round-robin turn until one answers, a failure is not
/// retryable, or the retries of the deployment that failed are used up.
///
/// The request is cloned only while another attempt is still possible, so the common case
/// (no retries configured) moves it through without a copy.
async fn attempt_in_turn<P, R, T, F, Fut>(
    group: &ModelGroup<P>,
    request: R,
    mut call: F,
) -> Result<Routed<T, P>, Error>
where
    P: Provider,
    R: Clone,
    F: FnMut(Arc<Deployment<P>>, R) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let start = group.next.fetch_add(1, Ordering::Relaxed);
    let mut attempts: u32 = 0;
    let mut request = Some(request);
    loop {
        let deployment = &group.deployments[(start + attempts as usize) % group.deployments.len()];
        attempts += 1;
        let this_attempt = match (attempts <= deployment.max_retries, request.take()) {
            (true, Some(r)) => {
                request = Some(r.clone());
                r
            }
            (false, Some(r)) => r,
            (_, None) => return Err(Error::internal("retry without a request (router bug)")),
        };
        match call(deployment.clone(), this_attempt).await {
            Ok(value) => {
                return Ok(Routed {
                    value,
                    deployment: deployment.clone(),
                    attempts,
                });
            }
            Err(error) if error.is_retryable() && attempts <= deployment.max_retries => {
                tracing::warn!(
                    deployment = %deployment.id,
                    error = error.kind.metric_label(),
                    attempt = attempts,
                    "retrying after a retryable upstream failure"
                );
                let wait = backoff(
                    attempts,
                    error.retry_after,
                    start as u64 ^ (u64::from(attempts) * 0x9e37),
                );
                tokio::time::sleep(wait).await;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
