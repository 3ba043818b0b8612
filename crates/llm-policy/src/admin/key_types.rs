//! Request and response bodies of `/key/*`, with LiteLLM's field names. Money is float
//! dollars and times ISO 8601 on the wire; [`KeyInfo`] never carries the key itself, only
//! its hash (`token`) and preview (`key_name`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::wire::{LimitsOut, iso_out, opt_iso_out};
use crate::records::KeyRecord;

type Map = serde_json::Map<String, serde_json::Value>;

/// The body of generate, update and regenerate (one flat struct, so a bad field is named in
/// the 400). `None` (absent or `null`): not given (generate: the default; update: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct KeyFields {
    /// generate: a key chosen by the caller (`sk-...`) instead of a random one; update,
    /// regenerate: the key (`sk-...`) or its hash.
    pub key: Option<String>,
    /// regenerate: the new key chosen by the caller; random otherwise.
    pub new_key: Option<String>,
    pub key_alias: Option<String>,
    pub models: Option<Vec<String>>,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
    /// `30s`, `1h`, `30d`, ...: the key expires that long from now.
    pub duration: Option<String>,
    /// An absolute expiry (RFC 3339 or YYYY-MM-DD), instead of `duration`.
    pub expires: Option<String>,
    pub metadata: Option<Map>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub aliases: Option<BTreeMap<String, String>>,
    pub allowed_routes: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub guardrails: Option<Vec<String>>,
    pub blocked: Option<bool>,
}

/// `POST /key/generate`.
pub type GenerateKeyRequest = KeyFields;
/// `POST /key/update` (`key` required).
pub type UpdateKeyRequest = KeyFields;
/// `POST /key/regenerate` and `POST /key/{key}/regenerate` (`key` required, or in the path):
/// a new key for the same row, optionally with changed fields.
pub type RegenerateKeyRequest = KeyFields;

/// `POST /key/delete`: keys and/or aliases.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DeleteKeysRequest {
    pub keys: Option<Vec<String>>,
    pub key_aliases: Option<Vec<String>>,
}

/// `POST /key/block` and `/key/unblock`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyRef {
    pub key: String,
}

/// `GET /key/list` query.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct KeyListQuery {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub key_alias: Option<String>,
    pub page: Option<u64>,
    pub size: Option<u64>,
    /// Whole key objects instead of hashes.
    pub return_full_object: Option<bool>,
}

/// A key as the admin API shows it (LiteLLM's verification-token object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    /// The SHA-256 of the key: how it is named in listings, logs and `/key/*` requests.
    pub token: String,
    pub key_name: String,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub models: Vec<String>,
    pub aliases: BTreeMap<String, String>,
    pub allowed_routes: Vec<String>,
    pub tags: Vec<String>,
    pub guardrails: Vec<String>,
    pub metadata: Map,
    /// `spend`, `max_budget`, `soft_budget`, `budget_duration`, `budget_reset_at`,
    /// `rpm_limit`, `tpm_limit`, `max_parallel_requests`.
    #[serde(flatten)]
    pub limits: LimitsOut,
    pub expires: Option<String>,
    pub blocked: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&KeyRecord> for KeyInfo {
    fn from(key: &KeyRecord) -> Self {
        KeyInfo {
            token: key.token_hash.clone(),
            key_name: key.key_name.clone(),
            key_alias: key.key_alias.clone(),
            user_id: key.user_id.clone(),
            team_id: key.team_id.clone(),
            models: key.models.clone(),
            aliases: key.aliases.clone(),
            allowed_routes: key.allowed_routes.clone(),
            tags: key.tags.clone(),
            guardrails: key.guardrails.clone(),
            metadata: key.metadata.clone(),
            limits: LimitsOut::of(&key.limits, key.spend, key.budget_reset_at),
            expires: opt_iso_out(key.expires_at),
            blocked: key.blocked,
            created_at: iso_out(key.created_at),
            updated_at: iso_out(key.updated_at),
        }
    }
}

/// The answer to generate and regenerate: the key itself, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedKey {
    pub key: String,
    /// The key's hash, as LiteLLM names it here.
    pub token_id: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

/// `GET /key/info`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfoResponse {
    /// The key as the request named it (the caller's own key when it named none: its hash).
    pub key: String,
    pub info: KeyInfo,
}

/// `GET /key/list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyListResponse {
    /// Hashes, or [`KeyInfo`] objects with `return_full_object=true`.
    pub keys: Vec<serde_json::Value>,
    pub total_count: u64,
    pub current_page: u64,
    pub total_pages: u64,
}

/// `POST /key/delete`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedKeys {
    /// The keys and aliases as the request named them.
    pub deleted_keys: Vec<String>,
}
