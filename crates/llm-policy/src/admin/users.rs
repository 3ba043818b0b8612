//! `/user/*`: new (which also issues the user a key, as LiteLLM does), info, update,
//! delete (the user's keys go too, and the user leaves every team) and list.

use llm_types::Error;
use serde::{Deserialize, Serialize};

use super::key_types::{GenerateKeyRequest, GeneratedKey, KeyFields, KeyInfo};
use super::teams::TeamInfo;
use super::wire::{LimitFields, LimitsOut, apply_limits, duration_in, iso_out};
use super::{Admin, Outcome, not_found, page_count, random_id, store_error};
use crate::records::{Limits, TeamMember, UserRecord};
use crate::store::KeyFilter;

type Map = serde_json::Map<String, serde_json::Value>;

/// LiteLLM's user roles.
pub const USER_ROLES: [&str; 6] = [
    "proxy_admin",
    "proxy_admin_viewer",
    "internal_user",
    "internal_user_viewer",
    "team",
    "customer",
];

/// The body of `/user/new` and `/user/update` (one flat struct, so a bad field is named in
/// the 400). `None`: default on create, unchanged on update.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserFields {
    /// new: random (a UUID) when absent; update: required.
    pub user_id: Option<String>,
    /// new: teams the user joins (role `user`).
    pub teams: Option<Vec<String>>,
    /// new: issue the user a key (default true, as LiteLLM).
    pub auto_create_key: Option<bool>,
    /// new: alias and lifetime of that key.
    pub key_alias: Option<String>,
    pub duration: Option<String>,
    pub user_email: Option<String>,
    pub user_alias: Option<String>,
    pub user_role: Option<String>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
    pub metadata: Option<Map>,
}

/// `POST /user/new`.
pub type NewUserRequest = UserFields;
/// `POST /user/update` (`user_id` required).
pub type UpdateUserRequest = UserFields;

/// `POST /user/delete`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeleteUsersRequest {
    pub user_ids: Vec<String>,
}

/// `GET /user/list` query (1-based `page`, `page_size` default 25 as LiteLLM).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UserListQuery {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfo {
    pub user_id: String,
    pub user_email: Option<String>,
    pub user_alias: Option<String>,
    pub user_role: Option<String>,
    pub models: Vec<String>,
    pub metadata: Map,
    /// `spend`, `max_budget`, `soft_budget`, `budget_duration`, `budget_reset_at`,
    /// `rpm_limit`, `tpm_limit`, `max_parallel_requests`.
    #[serde(flatten)]
    pub limits: LimitsOut,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&UserRecord> for UserInfo {
    fn from(user: &UserRecord) -> Self {
        UserInfo {
            user_id: user.user_id.clone(),
            user_email: user.user_email.clone(),
            user_alias: user.user_alias.clone(),
            user_role: user.user_role.clone(),
            models: user.models.clone(),
            metadata: user.metadata.clone(),
            limits: LimitsOut::of(&user.limits, user.spend, user.budget_reset_at),
            created_at: iso_out(user.created_at),
            updated_at: iso_out(user.updated_at),
        }
    }
}

/// `POST /user/new`: the user, and the key issued to it (shown this once).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewUserResponse {
    pub key: Option<String>,
    pub token_id: Option<String>,
    pub key_alias: Option<String>,
    pub expires: Option<String>,
    pub teams: Vec<String>,
    #[serde(flatten)]
    pub user: UserInfo,
}

/// `GET /user/info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfoResponse {
    pub user_id: String,
    pub user_info: UserInfo,
    pub keys: Vec<KeyInfo>,
    pub teams: Vec<TeamInfo>,
}

/// `GET /user/list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserListResponse {
    pub users: Vec<UserInfo>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
}

/// `POST /user/delete`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedUsers {
    pub deleted_users: Vec<String>,
    pub deleted_keys: u64,
}

impl Admin<'_> {
    /// `POST /user/new`.
    pub async fn new_user(
        &self,
        request: NewUserRequest,
    ) -> Result<Outcome<NewUserResponse>, Error> {
        let user_id = match request.user_id.clone().filter(|id| !id.trim().is_empty()) {
            Some(id) => id,
            None => random_id()?,
        };
        let mut record = UserRecord {
            user_id: user_id.clone(),
            user_email: None,
            user_alias: None,
            user_role: Some("internal_user".to_owned()),
            models: vec![],
            metadata: Default::default(),
            limits: Limits::default(),
            budget_reset_at: None,
            spend: Default::default(),
            created_at: self.now_ms,
            updated_at: self.now_ms,
        };
        apply(&request, &mut record, self.now_ms)?;
        if let Some(text) = &request.duration {
            duration_in("duration", text)?;
        }
        // The key is made after the user: refuse a taken alias before anything is written.
        if let Some(alias) = request
            .key_alias
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            && self
                .store
                .key_by_alias(alias.trim())
                .await
                .map_err(store_error("key_alias"))?
                .is_some()
        {
            return Err(Error::invalid_param(
                "key_alias",
                format!("key_alias `{}` is already taken", alias.trim()),
            ));
        }
        let teams = request.teams.clone().unwrap_or_default();
        let mut joined = Vec::new();
        for team_id in &teams {
            let team = self
                .find_team(team_id)
                .await
                .map_err(|e| e.with_param("teams"))?;
            joined.push(team);
        }
        self.store
            .insert_user(&record)
            .await
            .map_err(store_error("user_id"))?;
        for mut team in joined {
            if !team.members.iter().any(|m| m.user_id == user_id) {
                team.members.push(TeamMember {
                    user_id: user_id.clone(),
                    role: "user".to_owned(),
                });
                team.updated_at = self.now_ms;
                self.store
                    .update_team(&team)
                    .await
                    .map_err(store_error("teams"))?;
            }
        }
        let key: Option<GeneratedKey> = if request.auto_create_key.unwrap_or(true) {
            let key_request = GenerateKeyRequest {
                key_alias: request.key_alias.clone(),
                duration: request.duration.clone(),
                user_id: Some(user_id.clone()),
                models: Some(record.models.clone()),
                ..KeyFields::default()
            };
            Some(self.generate_key(key_request).await?.body)
        } else {
            None
        };
        Ok(Outcome::all(NewUserResponse {
            token_id: key.as_ref().map(|k| k.token_id.clone()),
            key_alias: key.as_ref().and_then(|k| k.info.key_alias.clone()),
            expires: key.as_ref().and_then(|k| k.info.expires.clone()),
            key: key.map(|k| k.key),
            teams,
            user: UserInfo::from(&record),
        }))
    }

    /// `GET /user/info?user_id=...`: the user, its keys and its teams.
    pub async fn user_info(&self, user_id: &str) -> Result<UserInfoResponse, Error> {
        let user = self.find_user(user_id).await?;
        let (keys, _) = self
            .store
            .list_keys(&KeyFilter {
                user_id: Some(user.user_id.clone()),
                page: 1,
                size: 1000,
                ..KeyFilter::default()
            })
            .await
            .map_err(store_error("user_id"))?;
        let teams = self.teams_of(&user.user_id).await?;
        Ok(UserInfoResponse {
            user_id: user.user_id.clone(),
            user_info: UserInfo::from(&user),
            keys: keys.iter().map(KeyInfo::from).collect(),
            teams: teams.iter().map(TeamInfo::from).collect(),
        })
    }

    /// `POST /user/update`.
    pub async fn update_user(
        &self,
        request: UpdateUserRequest,
    ) -> Result<Outcome<UserInfo>, Error> {
        let Some(user_id) = request.user_id.as_deref().filter(|id| !id.is_empty()) else {
            return Err(Error::invalid_param("user_id", "`user_id` is required"));
        };
        let mut record = self.find_user(user_id).await?;
        apply(&request, &mut record, self.now_ms)?;
        record.updated_at = self.now_ms;
        if !self
            .store
            .update_user(&record)
            .await
            .map_err(store_error("user_id"))?
        {
            return Err(unknown_user(&record.user_id));
        }
        Ok(Outcome::all(UserInfo::from(&record)))
    }

    /// `POST /user/delete`: every user must exist (404, nothing deleted); their keys are
    /// deleted and they leave their teams.
    pub async fn delete_users(
        &self,
        request: DeleteUsersRequest,
    ) -> Result<Outcome<DeletedUsers>, Error> {
        if request.user_ids.is_empty() {
            return Err(Error::invalid_param("user_ids", "`user_ids` is empty"));
        }
        for id in &request.user_ids {
            self.find_user(id).await?;
        }
        for id in &request.user_ids {
            for mut team in self.teams_of(id).await? {
                team.members.retain(|m| &m.user_id != id);
                team.updated_at = self.now_ms;
                self.store
                    .update_team(&team)
                    .await
                    .map_err(store_error("user_ids"))?;
            }
        }
        let deleted = self
            .store
            .delete_users(&request.user_ids)
            .await
            .map_err(store_error("user_ids"))?;
        Ok(Outcome::all(DeletedUsers {
            deleted_users: request.user_ids,
            deleted_keys: deleted.key_hashes.len() as u64,
        }))
    }

    /// `GET /user/list`.
    pub async fn list_users(&self, query: UserListQuery) -> Result<UserListResponse, Error> {
        let page = query.page.unwrap_or(1).max(1);
        let page_size = query.page_size.unwrap_or(25);
        if !(1..=1000).contains(&page_size) {
            return Err(Error::invalid_param(
                "page_size",
                "`page_size` must be 1..=1000",
            ));
        }
        let (users, total) = self
            .store
            .list_users(page, page_size)
            .await
            .map_err(store_error("page"))?;
        Ok(UserListResponse {
            users: users.iter().map(UserInfo::from).collect(),
            total,
            page,
            page_size,
            total_pages: page_count(total, page_size),
        })
    }

    async fn find_user(&self, user_id: &str) -> Result<UserRecord, Error> {
        self.store
            .get_user(user_id)
            .await
            .map_err(store_error("user_id"))?
            .ok_or_else(|| unknown_user(user_id))
    }
}

fn unknown_user(user_id: &str) -> Error {
    not_found("user_id", format!("no user has the id `{user_id}`"))
}

fn apply(fields: &UserFields, record: &mut UserRecord, now_ms: i64) -> Result<(), Error> {
    if let Some(role) = &fields.user_role {
        if !USER_ROLES.contains(&role.as_str()) {
            return Err(Error::invalid_param(
                "user_role",
                format!("`user_role` must be one of {}", USER_ROLES.join(", ")),
            ));
        }
        record.user_role = Some(role.clone());
    }
    apply_limits(
        LimitFields {
            max_budget: fields.max_budget,
            soft_budget: fields.soft_budget,
            budget_duration: fields.budget_duration.as_deref(),
            rpm_limit: fields.rpm_limit,
            tpm_limit: fields.tpm_limit,
            max_parallel_requests: fields.max_parallel_requests,
        },
        &mut record.limits,
        &mut record.budget_reset_at,
        now_ms,
    )?;
    if fields.user_email.is_some() {
        record.user_email = fields.user_email.clone();
    }
    if fields.user_alias.is_some() {
        record.user_alias = fields.user_alias.clone();
    }
    if let Some(models) = &fields.models {
        record.models = models.clone();
    }
    if let Some(metadata) = &fields.metadata {
        record.metadata = metadata.clone();
    }
    Ok(())
}
