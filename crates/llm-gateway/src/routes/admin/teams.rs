//! `/team/*` handlers.

use axum::extract::State;
use axum::response::Json;
use llm_policy::admin::{
    DeleteTeamsRequest, DeletedTeams, MemberAddRequest, MemberDeleteRequest, NewTeamRequest,
    TeamInfo, TeamInfoResponse, TeamListQuery, TeamRef, UpdateTeamRequest, UpdatedTeam,
};
use llm_types::Error;
use serde::Deserialize;
use std::sync::Arc;

use super::extract::{AdminJson, AdminQuery};
use super::{admin, publish};
use crate::app::AppState;

pub async fn new(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<NewTeamRequest>,
) -> Result<Json<TeamInfo>, Error> {
    let outcome = admin(&app).new_team(request).await?;
    publish(&app, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InfoQuery {
    team_id: Option<String>,
}

pub async fn info(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<InfoQuery>,
) -> Result<Json<TeamInfoResponse>, Error> {
    let team_id = query
        .team_id
        .ok_or_else(|| Error::invalid_param("team_id", "`team_id` is required"))?;
    Ok(Json(admin(&app).team_info(&team_id).await?))
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<UpdateTeamRequest>,
) -> Result<Json<UpdatedTeam>, Error> {
    let outcome = admin(&app).update_team(request).await?;
    publish(&app, outcome).await
}

pub async fn delete(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<DeleteTeamsRequest>,
) -> Result<Json<DeletedTeams>, Error> {
    let outcome = admin(&app).delete_teams(request).await?;
    publish(&app, outcome).await
}

pub async fn list(
    State(app): State<Arc<AppState>>,
    AdminQuery(query): AdminQuery<TeamListQuery>,
) -> Result<Json<Vec<TeamInfo>>, Error> {
    Ok(Json(admin(&app).list_teams(query).await?))
}

pub async fn member_add(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<MemberAddRequest>,
) -> Result<Json<TeamInfo>, Error> {
    let outcome = admin(&app).add_team_members(request).await?;
    publish(&app, outcome).await
}

pub async fn member_delete(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<MemberDeleteRequest>,
) -> Result<Json<TeamInfo>, Error> {
    let outcome = admin(&app).delete_team_member(request).await?;
    publish(&app, outcome).await
}

pub async fn block(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<TeamRef>,
) -> Result<Json<TeamInfo>, Error> {
    let outcome = admin(&app).set_team_blocked(&request.team_id, true).await?;
    publish(&app, outcome).await
}

pub async fn unblock(
    State(app): State<Arc<AppState>>,
    AdminJson(request): AdminJson<TeamRef>,
) -> Result<Json<TeamInfo>, Error> {
    let outcome = admin(&app)
        .set_team_blocked(&request.team_id, false)
        .await?;
    publish(&app, outcome).await
}
