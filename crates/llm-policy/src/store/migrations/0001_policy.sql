-- Keys, users, teams and the spend log. One portable dialect for SQLite and PostgreSQL:
-- money is BIGINT nano-dollars, times BIGINT UNIX milliseconds, booleans BIGINT 0/1, lists
-- and maps JSON text.

CREATE TABLE llm_teams (
    team_id TEXT PRIMARY KEY,
    team_alias TEXT,
    models TEXT NOT NULL DEFAULT '[]',
    members TEXT NOT NULL DEFAULT '[]',
    guardrails TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    max_budget BIGINT,
    soft_budget BIGINT,
    budget_duration TEXT,
    budget_reset_at BIGINT,
    spend BIGINT NOT NULL DEFAULT 0,
    rpm_limit BIGINT,
    tpm_limit BIGINT,
    max_parallel_requests BIGINT,
    blocked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE llm_users (
    user_id TEXT PRIMARY KEY,
    user_email TEXT,
    user_alias TEXT,
    user_role TEXT,
    models TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    max_budget BIGINT,
    soft_budget BIGINT,
    budget_duration TEXT,
    budget_reset_at BIGINT,
    spend BIGINT NOT NULL DEFAULT 0,
    rpm_limit BIGINT,
    tpm_limit BIGINT,
    max_parallel_requests BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE llm_keys (
    token_hash TEXT PRIMARY KEY,
    key_name TEXT NOT NULL,
    key_alias TEXT,
    user_id TEXT,
    team_id TEXT,
    models TEXT NOT NULL DEFAULT '[]',
    aliases TEXT NOT NULL DEFAULT '{}',
    allowed_routes TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    guardrails TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    max_budget BIGINT,
    soft_budget BIGINT,
    budget_duration TEXT,
    budget_reset_at BIGINT,
    spend BIGINT NOT NULL DEFAULT 0,
    rpm_limit BIGINT,
    tpm_limit BIGINT,
    max_parallel_requests BIGINT,
    expires_at BIGINT,
    blocked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX llm_keys_alias ON llm_keys (key_alias);
CREATE INDEX llm_keys_user ON llm_keys (user_id);
CREATE INDEX llm_keys_team ON llm_keys (team_id);

CREATE TABLE llm_spend_logs (
    request_id TEXT PRIMARY KEY,
    key_hash TEXT,
    key_alias TEXT,
    user_id TEXT,
    team_id TEXT,
    model_group TEXT NOT NULL,
    deployment TEXT,
    provider TEXT,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    cost BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    status BIGINT NOT NULL,
    cache_hit BIGINT NOT NULL,
    estimated BIGINT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL
);
CREATE INDEX llm_spend_logs_end ON llm_spend_logs (end_ms);
CREATE INDEX llm_spend_logs_key ON llm_spend_logs (key_hash, end_ms);
CREATE INDEX llm_spend_logs_user ON llm_spend_logs (user_id, end_ms);
CREATE INDEX llm_spend_logs_team ON llm_spend_logs (team_id, end_ms);

-- A counter bumped by every change to a key, user or team: each instance polls it (one row,
-- off the request path) and drops its key cache when it moves, so a revocation reaches every
-- instance within a second even without Redis.
CREATE TABLE llm_policy_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO llm_policy_version (id, version) VALUES (1, 0);
