//! A deployment: one concrete provider model behind a public model name.

use llm_providers::{AnyProvider, Provider};
use std::sync::Arc;

/// One `model_list` entry, ready to serve.
#[derive(Debug)]
pub struct Deployment<P: Provider = AnyProvider> {
    /// Stable id for logs and headers (`<model_name>#<index>` unless configured).
    pub id: Arc<str>,
    /// The public model name (the group) clients ask for.
    pub model_name: Arc<str>,
    /// `provider/model` this deployment calls.
    pub target_model: Arc<str>,
    /// Retries of a retryable failure before giving up (LiteLLM's `max_retries`).
    pub max_retries: u32,
    pub provider: P,
}
