//! The records the policy stores: virtual keys, users, teams and spend rows. Money is always
//! integer nano-dollars, times are UNIX milliseconds, lists and maps are JSON in SQL.

use llm_types::money::NanoDollars;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Budget and rate limits shared by keys, users and teams (LiteLLM's field names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_budget: Option<NanoDollars>,
    /// Crossing it raises an alert event; it never refuses a request.
    pub soft_budget: Option<NanoDollars>,
    /// `30s`, `1h`, `1d`, `30d`, ... (see [`crate::period`]); `None`: the budget never resets.
    pub budget_duration: Option<String>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
}

/// A virtual key. The key itself is never stored: only its SHA-256 (`token_hash`) and a
/// preview that shows its last four characters (`key_name`, `sk-...abcd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub token_hash: String,
    pub key_name: String,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// Model groups the key may call; empty: every model (its team's list still applies).
    pub models: Vec<String>,
    /// Model names rewritten before routing (`{"my-gpt": "gpt-4o"}`).
    pub aliases: BTreeMap<String, String>,
    pub allowed_routes: Vec<String>,
    pub tags: Vec<String>,
    pub guardrails: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub limits: Limits,
    /// End of the current budget period (ms); `None` without `budget_duration`.
    pub budget_reset_at: Option<i64>,
    /// Spend in the current budget period, as rolled up from the spend log.
    pub spend: NanoDollars,
    pub expires_at: Option<i64>,
    pub blocked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user (`/user/new`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    pub user_email: Option<String>,
    pub user_alias: Option<String>,
    pub user_role: Option<String>,
    pub models: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub limits: Limits,
    pub budget_reset_at: Option<i64>,
    pub spend: NanoDollars,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user_id: String,
    /// `admin` or `user` (LiteLLM's roles).
    pub role: String,
}

/// A team (`/team/new`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRecord {
    pub team_id: String,
    pub team_alias: Option<String>,
    pub models: Vec<String>,
    pub members: Vec<TeamMember>,
    pub guardrails: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub limits: Limits,
    pub budget_reset_at: Option<i64>,
    pub spend: NanoDollars,
    pub blocked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One request's line in the spend log, keyed by the gateway's own request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRecord {
    pub request_id: String,
    pub key_hash: Option<String>,
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The public model name the client asked for.
    pub model_group: String,
    /// The deployment that answered (its id), when one did.
    pub deployment: Option<String>,
    pub provider: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub cost: NanoDollars,
    pub latency_ms: u64,
    /// The HTTP status the client got.
    pub status: u16,
    pub cache_hit: bool,
    /// Usage was estimated (a stream the client abandoned before the usage arrived).
    pub estimated: bool,
    pub start_ms: i64,
    pub end_ms: i64,
}
