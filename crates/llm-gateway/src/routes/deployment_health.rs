//! `GET /health`: pings every deployment on demand and reports which answer (LiteLLM's
//! `/health` shape: `healthy_endpoints`, `unhealthy_endpoints` and their counts).
//!
//! Pings go straight to each deployment's adapter, bypassing the router: a health check
//! neither uses up rpm nor trips a breaker. What the router currently thinks of a deployment
//! (cooling down or not) is reported beside the ping's result.

use axum::Json;
use axum::extract::State;
use futures_util::future::join_all;
use llm_providers::{AnyProvider, Provider};
use llm_router::{Admission, Deployment};
use llm_types::{ChatCompletionRequest, ChatMessage, EmbeddingInput, EmbeddingsRequest, Role};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use crate::app::AppState;

/// A ping that takes longer than this counts as unhealthy.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize)]
pub struct HealthReport {
    healthy_endpoints: Vec<Endpoint>,
    unhealthy_endpoints: Vec<Endpoint>,
    healthy_count: usize,
    unhealthy_count: usize,
}

#[derive(Debug, Serialize)]
struct Endpoint {
    model_name: String,
    model: String,
    model_id: String,
    latency_ms: u64,
    /// Whether the router is keeping traffic away from it right now.
    cooling_down: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub async fn deployment_health(State(app): State<Arc<AppState>>) -> Json<HealthReport> {
    let router = app.router.load_full();
    let pings = router
        .all_deployments()
        .map(|deployment| ping(deployment.clone()));
    let (healthy, unhealthy): (Vec<Endpoint>, Vec<Endpoint>) = join_all(pings)
        .await
        .into_iter()
        .partition(|e| e.error.is_none());
    Json(HealthReport {
        healthy_count: healthy.len(),
        unhealthy_count: unhealthy.len(),
        healthy_endpoints: healthy,
        unhealthy_endpoints: unhealthy,
    })
}

async fn ping(deployment: Arc<Deployment<AnyProvider>>) -> Endpoint {
    let started = Instant::now();
    let provider = &deployment.provider;
    // Embedding models cannot chat; their names say what they are.
    let call = async {
        if deployment.target_model.contains("embed") {
            let request = EmbeddingsRequest {
                model: deployment.target_model.to_string(),
                input: EmbeddingInput::Text("ping".into()),
                encoding_format: None,
                dimensions: None,
                user: None,
                extra: Default::default(),
            };
            provider.embeddings(request).await.map(drop)
        } else {
            let mut request = ChatCompletionRequest::new(
                deployment.target_model.to_string(),
                vec![ChatMessage::text(Role::User, "ping")],
            );
            request.max_tokens = Some(1);
            provider.chat(request).await.map(drop)
        }
    };
    let error = match tokio::time::timeout(PING_TIMEOUT, call).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("no answer within {}s", PING_TIMEOUT.as_secs())),
    };
    Endpoint {
        model_name: deployment.model_name.to_string(),
        model: deployment.target_model.to_string(),
        model_id: deployment.id.to_string(),
        latency_ms: started.elapsed().as_millis() as u64,
        cooling_down: matches!(
            deployment.state.admission(Instant::now()),
            Admission::No { .. }
        ),
        error,
    }
}
