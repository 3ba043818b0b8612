//! `/key/*` handlers.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Json;
use llm_policy::admin::{
    DeleteKeysRequest, DeletedKeys, GenerateKeyRequest, GeneratedKey, KeyInfo, KeyInfoResponse,
    KeyListQuery, KeyListResponse, KeyRef, RegenerateKeyRequest, UpdateKeyRequest,
};
use llm_types::Error;
use serde::Deserialize;
use std::sync::Arc;

use super::extract::{AdminJson, AdminQuery};
use super::{SelfKey, admin, publish};
use crate::app::AppState;

pub async fn generate(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<GenerateKeyRequest>,
) -> Result<Json<GeneratedKey>, Error> {
    let outcome = admin(&app).generate_key(request).await?;
    publish(&app, outcome).await
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<UpdateKeyRequest>,
) -> Result<Json<KeyInfo>, Error> {
    let outcome = admin(&app).update_key(request).await?;
    publish(&app, outcome).await
}

pub async fn delete(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<DeleteKeysRequest>,
) -> Result<Json<DeletedKeys>, Error> {
    let outcome = admin(&app).delete_keys(request).await?;
    publish(&app, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InfoQuery {
    key: Option<String>,
}

/// `GET /key/info?key=...` (master key), or without `key` a virtual key's own info.
pub async fn info(
    State(app): State<Arc<AppState>>,
    own: Option<Extension<SelfKey>>,
    AdminQuery(query): AdminQuery<InfoQuery>,
) -> Result<Json<KeyInfoResponse>, Error> {
    let key = match (query.key, own) {
        (Some(key), _) => key,
        (None, Some(Extension(SelfKey(hash)))) => hash,
        (None, None) => return Err(Error::invalid_param("key", "`key` is required")),
    };
    Ok(Json(admin(&app).key_info(&key).await?))
}

pub async fn list(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<KeyListQuery>,
) -> Result<Json<KeyListResponse>, Error> {
    Ok(Json(admin(&app).list_keys(query).await?))
}

pub async fn regenerate(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<RegenerateKeyRequest>,
) -> Result<Json<GeneratedKey>, Error> {
    let outcome = admin(&app).regenerate_key(request).await?;
    publish(&app, outcome).await
}

/// `POST /key/{key}/regenerate`: the path names the key.
pub async fn regenerate_path(
    State(app): State<Arc<AppState>>,
    Path(key): Path<String>,
    AdminJson(mut request): AdminJson<RegenerateKeyRequest>,
) -> Result<Json<GeneratedKey>, Error> {
    request.key = Some(key);
    let outcome = admin(&app).regenerate_key(request).await?;
    publish(&app, outcome).await
}

pub async fn block(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<KeyRef>,
) -> Result<Json<KeyInfo>, Error> {
    let outcome = admin(&app).set_key_blocked(&request.key, true).await?;
    publish(&app, outcome).await
}

pub async fn unblock(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<KeyRef>,
) -> Result<Json<KeyInfo>, Error> {
    let outcome = admin(&app).set_key_blocked(&request.key, false).await?;
    publish(&app, outcome).await
}
