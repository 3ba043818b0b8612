//! `POST /v1/embeddings`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use llm_types::{EmbeddingsRequest, Error, Usage};

use super::headers::RouteInfo;
use std::sync::Arc;

use super::chat::log_outcome;
use crate::app::AppState;
use crate::context::RequestContext;
use crate::extract::JsonBody;

pub async fn embeddings(
    State(app): State<Arc<AppState>>,
    context: RequestContext,
    JsonBody(request): JsonBody<EmbeddingsRequest>,
) -> Result<Response, Error> {
    request.validate()?;
    let model = request.model.clone();
    let outcome = app.router.load().embeddings(request).await;
    log_outcome(&context, &model, outcome.as_ref().err());
    outcome.map(|routed| {
        let usage = Usage::new(routed.value.usage.prompt_tokens, 0);
        let info = RouteInfo::of(&routed).with_cost(&routed.deployment.target_model, Some(&usage));
        info.apply(Json(routed.value).into_response())
    })
}
