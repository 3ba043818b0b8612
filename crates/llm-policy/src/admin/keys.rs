//! `/key/*`: generate, update, delete, info, list, regenerate, block and unblock. A key's
//! `models` must lie within its team's when the team restricts them (403
//! `model_not_allowed`, as the request path answers such a call); its team must exist.

use llm_types::{Error, ErrorKind, ErrorOrigin};

use super::key_types::*;
use super::wire::{LimitFields, apply_limits, duration_in, time_in};
use super::{Admin, Outcome, key_hash_of, not_found, page_count, store_error};
use crate::keys::{generate_key, hash_key, key_preview};
use crate::records::{KeyRecord, Limits};
use crate::store::KeyFilter;

impl Admin<'_> {
    /// `POST /key/generate`.
    pub async fn generate_key(
        &self,
        request: GenerateKeyRequest,
    ) -> Result<Outcome<GeneratedKey>, Error> {
        let key = new_key_text("key", request.key.clone())?;
        let mut record = KeyRecord {
            token_hash: hash_key(&key),
            key_name: key_preview(&key),
            key_alias: None,
            user_id: None,
            team_id: None,
            models: vec![],
            aliases: Default::default(),
            allowed_routes: vec![],
            tags: vec![],
            guardrails: vec![],
            metadata: Default::default(),
            limits: Limits::default(),
            budget_reset_at: None,
            spend: Default::default(),
            expires_at: None,
            blocked: false,
            created_at: self.now_ms,
            updated_at: self.now_ms,
        };
        apply(&request, &mut record, self.now_ms)?;
        self.check_team(&record).await?;
        let field = if record.key_alias.is_some() {
            "key_alias"
        } else {
            "key"
        };
        self.store
            .insert_key(&record)
            .await
            .map_err(store_error(field))?;
        let hash = record.token_hash.clone();
        Ok(Outcome::keys(generated(key, &record), vec![hash]))
    }

    /// `POST /key/update`: the given fields change, the others stay.
    pub async fn update_key(&self, request: UpdateKeyRequest) -> Result<Outcome<KeyInfo>, Error> {
        let mut record = self
            .find_key(request.key.as_deref().unwrap_or_default())
            .await?;
        apply(&request, &mut record, self.now_ms)?;
        record.updated_at = self.now_ms;
        self.check_team(&record).await?;
        self.save(&record).await?;
        let hash = record.token_hash.clone();
        Ok(Outcome::keys(KeyInfo::from(&record), vec![hash]))
    }

    /// `POST /key/block` and `/key/unblock`.
    pub async fn set_key_blocked(
        &self,
        key: &str,
        blocked: bool,
    ) -> Result<Outcome<KeyInfo>, Error> {
        let mut record = self.find_key(key).await?;
        record.blocked = blocked;
        record.updated_at = self.now_ms;
        self.save(&record).await?;
        let hash = record.token_hash.clone();
        Ok(Outcome::keys(KeyInfo::from(&record), vec![hash]))
    }

    /// `POST /key/delete`: every named key must exist (404 naming the first that does not,
    /// nothing deleted); then all are deleted in one transaction.
    pub async fn delete_keys(
        &self,
        request: DeleteKeysRequest,
    ) -> Result<Outcome<DeletedKeys>, Error> {
        let keys = request.keys.unwrap_or_default();
        let aliases = request.key_aliases.unwrap_or_default();
        if keys.is_empty() && aliases.is_empty() {
            return Err(Error::invalid_param(
                "keys",
                "give `keys` (keys or their hashes) or `key_aliases` to delete",
            ));
        }
        let mut hashes = Vec::new();
        for key in &keys {
            hashes.push(self.find_key(key).await?.token_hash);
        }
        for alias in &aliases {
            let record = self
                .store
                .key_by_alias(alias)
                .await
                .map_err(store_error("key_aliases"))?
                .ok_or_else(|| {
                    not_found("key_aliases", format!("no key has the alias `{alias}`"))
                })?;
            hashes.push(record.token_hash);
        }
        hashes.sort();
        hashes.dedup();
        self.store
            .delete_keys(&hashes)
            .await
            .map_err(store_error("keys"))?;
        let deleted_keys = keys.into_iter().chain(aliases).collect();
        Ok(Outcome::keys(DeletedKeys { deleted_keys }, hashes))
    }

    /// `GET /key/info?key=...`.
    pub async fn key_info(&self, key: &str) -> Result<KeyInfoResponse, Error> {
        let record = self.find_key(key).await?;
        Ok(KeyInfoResponse {
            key: key.to_owned(),
            info: KeyInfo::from(&record),
        })
    }

    /// `GET /key/list`: 1-based pages of `size` (default 10, as LiteLLM).
    pub async fn list_keys(&self, query: KeyListQuery) -> Result<KeyListResponse, Error> {
        let page = query.page.unwrap_or(1).max(1);
        let size = query.size.unwrap_or(10);
        if !(1..=1000).contains(&size) {
            return Err(Error::invalid_param("size", "`size` must be 1..=1000"));
        }
        let filter = KeyFilter {
            user_id: query.user_id,
            team_id: query.team_id,
            key_alias: query.key_alias,
            page,
            size,
        };
        let (records, total) = self
            .store
            .list_keys(&filter)
            .await
            .map_err(store_error("key"))?;
        let full = query.return_full_object.unwrap_or(false);
        let keys = records
            .iter()
            .map(|record| {
                if full {
                    serde_json::to_value(KeyInfo::from(record)).unwrap_or_default()
                } else {
                    serde_json::Value::String(record.token_hash.clone())
                }
            })
            .collect();
        Ok(KeyListResponse {
            keys,
            total_count: total,
            current_page: page,
            total_pages: page_count(total, size),
        })
    }

    /// `POST /key/regenerate`: a new key replaces the old one (which stops working at
    /// once); alias, limits and spend carry over, given fields change.
    pub async fn regenerate_key(
        &self,
        request: RegenerateKeyRequest,
    ) -> Result<Outcome<GeneratedKey>, Error> {
        let old_key = request.key.as_deref().ok_or_else(|| {
            Error::invalid_param("key", "`key` (the key to regenerate) is required")
        })?;
        let mut record = self.find_key(old_key).await?;
        let old_hash = record.token_hash.clone();
        apply(&request, &mut record, self.now_ms)?;
        self.check_team(&record).await?;
        let key = new_key_text("new_key", request.new_key.clone())?;
        record.token_hash = hash_key(&key);
        record.key_name = key_preview(&key);
        record.updated_at = self.now_ms;
        let replaced = self
            .store
            .replace_key(&old_hash, &record)
            .await
            .map_err(store_error("new_key"))?;
        if !replaced {
            return Err(not_found("key", "no such key".to_owned()));
        }
        // The stored spend is the old row's (kept by the store); show it.
        if let Ok(Some(stored)) = self.store.get_key(&record.token_hash).await {
            record = stored;
        }
        let new_hash = record.token_hash.clone();
        Ok(Outcome::keys(
            generated(key, &record),
            vec![old_hash, new_hash],
        ))
    }

    /// The key named by `key` (raw or hash), or 404.
    pub(super) async fn find_key(&self, key: &str) -> Result<KeyRecord, Error> {
        if key.trim().is_empty() {
            return Err(Error::invalid_param("key", "`key` is required"));
        }
        self.store
            .get_key(&key_hash_of(key))
            .await
            .map_err(store_error("key"))?
            .ok_or_else(|| not_found("key", "no such key".to_owned()))
    }

    async fn save(&self, record: &KeyRecord) -> Result<(), Error> {
        let updated = self
            .store
            .update_key(record)
            .await
            .map_err(store_error("key_alias"))?;
        if updated {
            Ok(())
        } else {
            Err(not_found("key", "no such key".to_owned()))
        }
    }

    /// The key's team must exist, and a team that restricts models bounds the key's.
    async fn check_team(&self, record: &KeyRecord) -> Result<(), Error> {
        let Some(team_id) = &record.team_id else {
            return Ok(());
        };
        let team = self
            .store
            .get_team(team_id)
            .await
            .map_err(store_error("team_id"))?
            .ok_or_else(|| not_found("team_id", format!("no team has the id `{team_id}`")))?;
        let unrestricted = team.models.is_empty()
            || team
                .models
                .iter()
                .any(|m| m == "all-proxy-models" || m == "*");
        if unrestricted {
            return Ok(());
        }
        if let Some(model) = record.models.iter().find(|m| !team.models.contains(m)) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                ErrorOrigin::Client,
                format!("model `{model}` is not among the models of team `{team_id}`"),
            )
            .with_param("models")
            .with_code("model_not_allowed"));
        }
        Ok(())
    }
}

/// The caller's chosen key (must start with `sk-` and be long enough to guess at no
/// better than chance) or a new random one.
fn new_key_text(field: &str, chosen: Option<String>) -> Result<String, Error> {
    match chosen {
        Some(key) if !key.starts_with("sk-") || key.len() < 8 => Err(Error::invalid_param(
            field,
            format!("`{field}` must start with `sk-` and have at least 8 characters"),
        )),
        Some(key) => Ok(key),
        None => generate_key().map_err(|_| Error::internal("the system random generator failed")),
    }
}

fn generated(key: String, record: &KeyRecord) -> GeneratedKey {
    GeneratedKey {
        key,
        token_id: record.token_hash.clone(),
        info: KeyInfo::from(record),
    }
}

/// Validates the given fields and writes them into `record`.
pub(super) fn apply(fields: &KeyFields, record: &mut KeyRecord, now_ms: i64) -> Result<(), Error> {
    if fields.duration.is_some() && fields.expires.is_some() {
        return Err(Error::invalid_param(
            "expires",
            "give `duration` or `expires`, not both",
        ));
    }
    if let Some(text) = &fields.duration {
        let (_, ms) = duration_in("duration", text)?;
        record.expires_at = Some(now_ms.saturating_add(ms));
    }
    if let Some(text) = &fields.expires {
        record.expires_at = Some(time_in("expires", text)?.0);
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
    if let Some(alias) = &fields.key_alias {
        let alias = alias.trim();
        record.key_alias = (!alias.is_empty()).then(|| alias.to_owned());
    }
    if let Some(models) = &fields.models {
        record.models = models.clone();
    }
    if let Some(metadata) = &fields.metadata {
        record.metadata = metadata.clone();
    }
    if let Some(user_id) = &fields.user_id {
        record.user_id = (!user_id.is_empty()).then(|| user_id.clone());
    }
    if let Some(team_id) = &fields.team_id {
        record.team_id = (!team_id.is_empty()).then(|| team_id.clone());
    }
    if let Some(aliases) = &fields.aliases {
        record.aliases = aliases.clone();
    }
    if let Some(routes) = &fields.allowed_routes {
        record.allowed_routes = routes.clone();
    }
    if let Some(tags) = &fields.tags {
        record.tags = tags.clone();
    }
    if let Some(guardrails) = &fields.guardrails {
        record.guardrails = guardrails.clone();
    }
    if let Some(blocked) = fields.blocked {
        record.blocked = blocked;
    }
    Ok(())
}
