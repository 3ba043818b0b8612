//! The admin API, on LiteLLM's paths: `/key/*`, `/user/*`, `/team/*`, `/spend/logs`,
//! `/global/spend*` and `/model/info`. Every route needs the master key (401 otherwise, and
//! a 401 saying so when none is configured), except `GET /key/info` without `key`, which a
//! virtual key may call about itself. The operations live in `llm_policy::admin`; here are
//! HTTP, the master-key gate and telling every instance about a change.

mod cache;
mod extract;
mod keys;
mod models;
mod spend;
mod teams;
mod users;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use llm_policy::Caller;
use llm_policy::admin::{Admin, Invalidate, Outcome};
use llm_types::{Error, ErrorKind, ErrorOrigin};
use serde::Serialize;
use std::sync::Arc;

use crate::app::AppState;
use crate::auth::presented_key;

/// The hash of the virtual key that called `GET /key/info` about itself.
#[derive(Debug, Clone)]
pub(crate) struct SelfKey(pub String);

/// The admin routes, behind the master-key gate.
pub fn routes(app: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/key/generate", post(keys::generate))
        .route("/key/update", post(keys::update))
        .route("/key/delete", post(keys::delete))
        .route("/key/info", get(keys::info))
        .route("/key/list", get(keys::list))
        .route("/key/regenerate", post(keys::regenerate))
        .route("/key/{key}/regenerate", post(keys::regenerate_path))
        .route("/key/block", post(keys::block))
        .route("/key/unblock", post(keys::unblock))
        .route("/user/new", post(users::new))
        .route("/user/info", get(users::info))
        .route("/user/update", post(users::update))
        .route("/user/delete", post(users::delete))
        .route("/user/list", get(users::list))
        .route("/team/new", post(teams::new))
        .route("/team/info", get(teams::info))
        .route("/team/update", post(teams::update))
        .route("/team/delete", post(teams::delete))
        .route("/team/list", get(teams::list))
        .route("/team/member_add", post(teams::member_add))
        .route("/team/member_delete", post(teams::member_delete))
        .route("/team/block", post(teams::block))
        .route("/team/unblock", post(teams::unblock))
        .route("/spend/logs", get(spend::logs))
        .route("/global/spend", get(spend::global))
        .route("/global/spend/keys", get(spend::per_key))
        .route("/global/spend/models", get(spend::per_model))
        .route("/global/spend/teams", get(spend::per_team))
        .route("/cache/ping", get(cache::ping))
        .route("/cache/delete", post(cache::delete))
        .route("/cache/flushall", post(cache::flush_all))
        .route("/model/info", get(models::info))
        .route("/v1/model/info", get(models::info))
        .route_layer(middleware::from_fn_with_state(app, require_master))
}

/// Middleware: only the master key passes (a virtual key may read its own `/key/info`).
async fn require_master(
    State(app): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    if app.policy.master_key().is_none() {
        return unauthorized(
            "the admin API needs a master key, and none is configured: set \
             `general_settings.master_key` (or LITELLM_MASTER_KEY)",
        )
        .into_response();
    }
    let caller = match app
        .policy
        .authenticate(presented_key(request.headers()))
        .await
    {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    match caller {
        Caller::Master => next.run(request).await,
        Caller::Key(principal) if is_own_key_info(&request) => {
            request
                .extensions_mut()
                .insert(SelfKey(principal.key.token_hash.clone()));
            next.run(request).await
        }
        _ => unauthorized("this route needs the master key").into_response(),
    }
}

/// `GET /key/info` without a `key` parameter.
fn is_own_key_info(request: &Request) -> bool {
    request.uri().path() == "/key/info"
        && !request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .any(|pair| pair == "key" || pair.starts_with("key="))
}

fn unauthorized(message: &'static str) -> Error {
    Error::new(ErrorKind::Authentication, ErrorOrigin::Client, message).with_code("invalid_api_key")
}

/// The admin operations at this instant.
fn admin(app: &AppState) -> Admin<'_> {
    Admin::new(app.policy.store(), llm_types::unix_now_ms())
}

/// Answers with the body once every instance has been told to drop what the change made
/// stale (their key caches reload within a second).
async fn publish<T: Serialize>(app: &AppState, outcome: Outcome<T>) -> Result<Json<T>, Error> {
    if outcome.invalidate != Invalidate::Nothing {
        app.policy.publish_change().await?;
    }
    Ok(Json(outcome.body))
}
