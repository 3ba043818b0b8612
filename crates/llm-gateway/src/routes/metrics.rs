//! `GET /metrics`: the Prometheus text exposition.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::app::AppState;
use crate::metrics::Readings;

pub async fn scrape(State(app): State<Arc<AppState>>) -> Response {
    let router = app.router.load();
    let readings = Readings {
        cooling_down: cooling_down(&router),
        sinks: app.reporter.sinks().stats(),
        journal_backlog: app.policy.journal_backlog(),
        limiter_redis_errors: app.policy.redis_errors(),
        router_redis_errors: router.shared_state().errors(),
        cache_misses: app.cache.as_ref().map_or(0, |c| c.misses()),
        cache_errors: app.cache.as_ref().map_or(0, |c| c.errors()),
        guardrail_decisions: app
            .guardrails
            .counters()
            .into_iter()
            .map(|c| (c.guardrail, c.action, c.count))
            .collect(),
    };
    match app.metrics.encode_with(readings) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Deployments in cooldown per configured model group, as this instance sees them.
fn cooling_down(router: &llm_router::Router) -> Vec<(String, u64)> {
    let now = tokio::time::Instant::now();
    router
        .model_names()
        .filter_map(|group| Some((group, router.deployments(group)?)))
        .map(|(group, deployments)| {
            let cooling = deployments
                .iter()
                .filter(|d| d.state.cooling_until(now).is_some())
                .count();
            (group.to_owned(), cooling as u64)
        })
        .collect()
}
