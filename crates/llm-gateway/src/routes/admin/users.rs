//! `/user/*` handlers.

use axum::extract::State;
use axum::response::Json;
use llm_policy::admin::{
    DeleteUsersRequest, DeletedUsers, NewUserRequest, NewUserResponse, UpdateUserRequest, UserInfo,
    UserInfoResponse, UserListQuery, UserListResponse,
};
use llm_types::Error;
use serde::Deserialize;
use std::sync::Arc;

use super::extract::{AdminJson, AdminQuery};
use super::{admin, publish};
use crate::app::AppState;

pub async fn new(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<NewUserRequest>,
) -> Result<Json<NewUserResponse>, Error> {
    let outcome = admin(&app).new_user(request).await?;
    publish(&app, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InfoQuery {
    user_id: Option<String>,
}

pub async fn info(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<InfoQuery>,
) -> Result<Json<UserInfoResponse>, Error> {
    let user_id = query
        .user_id
        .ok_or_else(|| Error::invalid_param("user_id", "`user_id` is required"))?;
    Ok(Json(admin(&app).user_info(&user_id).await?))
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<UpdateUserRequest>,
) -> Result<Json<UserInfo>, Error> {
    let outcome = admin(&app).update_user(request).await?;
    publish(&app, outcome).await
}

pub async fn delete(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<DeleteUsersRequest>,
) -> Result<Json<DeletedUsers>, Error> {
    let outcome = admin(&app).delete_users(request).await?;
    publish(&app, outcome).await
}

pub async fn list(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<UserListQuery>,
) -> Result<Json<UserListResponse>, Error> {
    Ok(Json(admin(&app).list_users(query).await?))
}
