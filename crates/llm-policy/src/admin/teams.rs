//! `/team/*`: new, info, update, delete (the team's keys go too), list, member_add,
//! member_delete, block and unblock. Members live in the team's row.

use llm_types::Error;
use serde::{Deserialize, Serialize};

use super::key_types::KeyInfo;
use super::wire::{LimitFields, LimitsOut, apply_limits, iso_out};
use super::{Admin, Outcome, not_found, random_id, store_error};
use crate::records::{Limits, TeamMember, TeamRecord};
use crate::store::KeyFilter;

type Map = serde_json::Map<String, serde_json::Value>;

/// The body of `/team/new` and `/team/update` (one flat struct, so a bad field is named in
/// the 400). `None`: default on create, unchanged on update.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TeamFields {
    /// new: random (a UUID) when absent; update: required.
    pub team_id: Option<String>,
    /// new: the first members.
    pub members_with_roles: Option<Vec<MemberIn>>,
    pub team_alias: Option<String>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
    pub metadata: Option<Map>,
    pub guardrails: Option<Vec<String>>,
    pub blocked: Option<bool>,
}

/// A member as requests name it (`{"role": "admin", "user_id": "..."}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemberIn {
    pub user_id: Option<String>,
    /// `admin` or `user` (default `user`).
    pub role: Option<String>,
}

/// One member or a list of them (LiteLLM accepts both in `member_add`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(MemberIn),
    Many(Vec<MemberIn>),
}

/// `POST /team/new`.
pub type NewTeamRequest = TeamFields;
/// `POST /team/update` (`team_id` required).
pub type UpdateTeamRequest = TeamFields;

/// `POST /team/delete`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeleteTeamsRequest {
    pub team_ids: Vec<String>,
}

/// `POST /team/member_add`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemberAddRequest {
    pub team_id: String,
    pub member: OneOrMany,
}

/// `POST /team/member_delete`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemberDeleteRequest {
    pub team_id: String,
    pub user_id: String,
}

/// `POST /team/block`, `/team/unblock`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamRef {
    pub team_id: String,
}

/// `GET /team/list` query.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TeamListQuery {
    /// Only the teams this user is a member of.
    pub user_id: Option<String>,
}

/// A member as responses show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberOut {
    pub user_id: String,
    pub role: String,
}

/// A team as the admin API shows it (LiteLLM's team object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamInfo {
    pub team_id: String,
    pub team_alias: Option<String>,
    pub models: Vec<String>,
    pub members_with_roles: Vec<MemberOut>,
    /// User ids of the `admin` members.
    pub admins: Vec<String>,
    /// User ids of every member.
    pub members: Vec<String>,
    pub guardrails: Vec<String>,
    pub metadata: Map,
    /// `spend`, `max_budget`, `soft_budget`, `budget_duration`, `budget_reset_at`,
    /// `rpm_limit`, `tpm_limit`, `max_parallel_requests`.
    #[serde(flatten)]
    pub limits: LimitsOut,
    pub blocked: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&TeamRecord> for TeamInfo {
    fn from(team: &TeamRecord) -> Self {
        TeamInfo {
            team_id: team.team_id.clone(),
            team_alias: team.team_alias.clone(),
            models: team.models.clone(),
            members_with_roles: team
                .members
                .iter()
                .map(|m| MemberOut {
                    user_id: m.user_id.clone(),
                    role: m.role.clone(),
                })
                .collect(),
            admins: team
                .members
                .iter()
                .filter(|m| m.role == "admin")
                .map(|m| m.user_id.clone())
                .collect(),
            members: team.members.iter().map(|m| m.user_id.clone()).collect(),
            guardrails: team.guardrails.clone(),
            metadata: team.metadata.clone(),
            limits: LimitsOut::of(&team.limits, team.spend, team.budget_reset_at),
            blocked: team.blocked,
            created_at: iso_out(team.created_at),
            updated_at: iso_out(team.updated_at),
        }
    }
}

/// `GET /team/info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamInfoResponse {
    pub team_id: String,
    pub team_info: TeamInfo,
    pub keys: Vec<KeyInfo>,
}

/// `POST /team/update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdatedTeam {
    pub team_id: String,
    pub data: TeamInfo,
}

/// `POST /team/delete`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedTeams {
    pub deleted_teams: Vec<String>,
    pub deleted_keys: u64,
}

impl Admin<'_> {
    /// `POST /team/new`.
    pub async fn new_team(&self, request: NewTeamRequest) -> Result<Outcome<TeamInfo>, Error> {
        let team_id = match request.team_id.clone().filter(|id| !id.trim().is_empty()) {
            Some(id) => id,
            None => random_id()?,
        };
        let mut record = TeamRecord {
            team_id,
            team_alias: None,
            models: vec![],
            members: vec![],
            guardrails: vec![],
            metadata: Default::default(),
            limits: Limits::default(),
            budget_reset_at: None,
            spend: Default::default(),
            blocked: false,
            created_at: self.now_ms,
            updated_at: self.now_ms,
        };
        apply(&request, &mut record, self.now_ms)?;
        for member in request.members_with_roles.clone().unwrap_or_default() {
            add_member(&mut record, member, "members_with_roles")?;
        }
        self.store
            .insert_team(&record)
            .await
            .map_err(store_error("team_id"))?;
        Ok(Outcome::all(TeamInfo::from(&record)))
    }

    /// `GET /team/info?team_id=...`: the team and its keys.
    pub async fn team_info(&self, team_id: &str) -> Result<TeamInfoResponse, Error> {
        let team = self.find_team(team_id).await?;
        let (keys, _) = self
            .store
            .list_keys(&KeyFilter {
                team_id: Some(team.team_id.clone()),
                page: 1,
                size: 1000,
                ..KeyFilter::default()
            })
            .await
            .map_err(store_error("team_id"))?;
        Ok(TeamInfoResponse {
            team_id: team.team_id.clone(),
            team_info: TeamInfo::from(&team),
            keys: keys.iter().map(KeyInfo::from).collect(),
        })
    }

    /// `POST /team/update`.
    pub async fn update_team(
        &self,
        request: UpdateTeamRequest,
    ) -> Result<Outcome<UpdatedTeam>, Error> {
        let Some(team_id) = request.team_id.as_deref().filter(|id| !id.is_empty()) else {
            return Err(Error::invalid_param("team_id", "`team_id` is required"));
        };
        let mut team = self.find_team(team_id).await?;
        apply(&request, &mut team, self.now_ms)?;
        let data = self.save_team(team).await?;
        Ok(Outcome::all(UpdatedTeam {
            team_id: data.team_id.clone(),
            data,
        }))
    }

    /// `POST /team/delete`: every team must exist (404, nothing deleted); their keys are
    /// deleted with them.
    pub async fn delete_teams(
        &self,
        request: DeleteTeamsRequest,
    ) -> Result<Outcome<DeletedTeams>, Error> {
        if request.team_ids.is_empty() {
            return Err(Error::invalid_param("team_ids", "`team_ids` is empty"));
        }
        for id in &request.team_ids {
            self.find_team(id).await?;
        }
        let deleted = self
            .store
            .delete_teams(&request.team_ids)
            .await
            .map_err(store_error("team_ids"))?;
        Ok(Outcome::all(DeletedTeams {
            deleted_teams: request.team_ids,
            deleted_keys: deleted.key_hashes.len() as u64,
        }))
    }

    /// `GET /team/list`.
    pub async fn list_teams(&self, query: TeamListQuery) -> Result<Vec<TeamInfo>, Error> {
        let teams = match &query.user_id {
            Some(user_id) => self.teams_of(user_id).await?,
            None => self
                .store
                .list_teams()
                .await
                .map_err(store_error("team_id"))?,
        };
        Ok(teams.iter().map(TeamInfo::from).collect())
    }

    /// `POST /team/member_add`: a user already in the team is a 400.
    pub async fn add_team_members(
        &self,
        request: MemberAddRequest,
    ) -> Result<Outcome<TeamInfo>, Error> {
        let mut team = self.find_team(&request.team_id).await?;
        let members = match request.member {
            OneOrMany::One(member) => vec![member],
            OneOrMany::Many(members) => members,
        };
        for member in members {
            add_member(&mut team, member, "member")?;
        }
        Ok(Outcome::all(self.save_team(team).await?))
    }

    /// `POST /team/member_delete`: a user not in the team is a 400.
    pub async fn delete_team_member(
        &self,
        request: MemberDeleteRequest,
    ) -> Result<Outcome<TeamInfo>, Error> {
        let mut team = self.find_team(&request.team_id).await?;
        let before = team.members.len();
        team.members.retain(|m| m.user_id != request.user_id);
        if team.members.len() == before {
            return Err(Error::invalid_param(
                "user_id",
                format!(
                    "user `{}` is not a member of team `{}`",
                    request.user_id, team.team_id
                ),
            ));
        }
        Ok(Outcome::all(self.save_team(team).await?))
    }

    /// `POST /team/block` and `/team/unblock`: every key of a blocked team is refused.
    pub async fn set_team_blocked(
        &self,
        team_id: &str,
        blocked: bool,
    ) -> Result<Outcome<TeamInfo>, Error> {
        let mut team = self.find_team(team_id).await?;
        team.blocked = blocked;
        Ok(Outcome::all(self.save_team(team).await?))
    }

    pub(super) async fn find_team(&self, team_id: &str) -> Result<TeamRecord, Error> {
        self.store
            .get_team(team_id)
            .await
            .map_err(store_error("team_id"))?
            .ok_or_else(|| not_found("team_id", format!("no team has the id `{team_id}`")))
    }

    /// The teams `user_id` is a member of.
    pub(super) async fn teams_of(&self, user_id: &str) -> Result<Vec<TeamRecord>, Error> {
        let teams = self
            .store
            .list_teams()
            .await
            .map_err(store_error("team_id"))?;
        Ok(teams
            .into_iter()
            .filter(|t| t.members.iter().any(|m| m.user_id == user_id))
            .collect())
    }

    async fn save_team(&self, mut team: TeamRecord) -> Result<TeamInfo, Error> {
        team.updated_at = self.now_ms;
        if !self
            .store
            .update_team(&team)
            .await
            .map_err(store_error("team_id"))?
        {
            return Err(not_found(
                "team_id",
                format!("no team has the id `{}`", team.team_id),
            ));
        }
        Ok(TeamInfo::from(&team))
    }
}

fn add_member(team: &mut TeamRecord, member: MemberIn, field: &str) -> Result<(), Error> {
    let Some(user_id) = member.user_id.filter(|id| !id.is_empty()) else {
        return Err(Error::invalid_param(
            format!("{field}.user_id"),
            "a member needs a `user_id`",
        ));
    };
    let role = member.role.unwrap_or_else(|| "user".to_owned());
    if role != "admin" && role != "user" {
        return Err(Error::invalid_param(
            format!("{field}.role"),
            "a member's `role` is `admin` or `user`",
        ));
    }
    if team.members.iter().any(|m| m.user_id == user_id) {
        return Err(Error::invalid_param(
            format!("{field}.user_id"),
            format!(
                "user `{user_id}` is already a member of team `{}`",
                team.team_id
            ),
        ));
    }
    team.members.push(TeamMember { user_id, role });
    Ok(())
}

fn apply(fields: &TeamFields, team: &mut TeamRecord, now_ms: i64) -> Result<(), Error> {
    apply_limits(
        LimitFields {
            max_budget: fields.max_budget,
            soft_budget: fields.soft_budget,
            budget_duration: fields.budget_duration.as_deref(),
            rpm_limit: fields.rpm_limit,
            tpm_limit: fields.tpm_limit,
            max_parallel_requests: fields.max_parallel_requests,
        },
        &mut team.limits,
        &mut team.budget_reset_at,
        now_ms,
    )?;
    if fields.team_alias.is_some() {
        team.team_alias = fields.team_alias.clone();
    }
    if let Some(models) = &fields.models {
        team.models = models.clone();
    }
    if let Some(metadata) = &fields.metadata {
        team.metadata = metadata.clone();
    }
    if let Some(guardrails) = &fields.guardrails {
        team.guardrails = guardrails.clone();
    }
    if let Some(blocked) = fields.blocked {
        team.blocked = blocked;
    }
    Ok(())
}
