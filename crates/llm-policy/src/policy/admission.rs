//! Admission and settlement of one request: the scopes a caller is limited by (key, user,
//! team, global), the limiter's decision turned into OpenAI-shaped refusals, and after the
//! answer the spend journal line plus the limiter's settle.

use llm_types::money::NanoDollars;
use llm_types::{Error, ErrorKind, ErrorOrigin};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::{Caller, Policy};
use crate::limits::{AdmitRequest, Budget, Decision, Denial, ScopeKind, ScopeLimits, Ticket};
use crate::period::{current_period_end, parse_duration};
use crate::records::{Limits, SpendRecord};
use crate::store::Store;

pub use crate::limits::RateHeaders;

/// An admitted request. Hand it back to [`Policy::settle`] exactly once.
#[derive(Debug)]
pub struct Admission {
    ticket: Option<Ticket>,
    pub headers: RateHeaders,
    request_id: String,
    key_hash: Option<String>,
    key_alias: Option<String>,
    user_id: Option<String>,
    team_id: Option<String>,
    started_ms: i64,
}

impl Admission {
    /// The budget reserved for this request (what an abandoned request is at least billed).
    pub fn reserved(&self) -> NanoDollars {
        self.ticket
            .as_ref()
            .map_or(NanoDollars::ZERO, Ticket::reserved)
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Who is calling, for request logs: the key's stored hash (never the key), its alias,
    /// its user and its team.
    pub fn caller(&self) -> CallerLabels<'_> {
        CallerLabels {
            key_hash: self.key_hash.as_deref(),
            key_alias: self.key_alias.as_deref(),
            user_id: self.user_id.as_deref(),
            team_id: self.team_id.as_deref(),
        }
    }
}

/// Who made an admitted request (all `None` for the master key or an open gateway).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallerLabels<'a> {
    pub key_hash: Option<&'a str>,
    pub key_alias: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub team_id: Option<&'a str>,
}

/// A refusal, with the rate-limit figures to send beside it.
#[derive(Debug)]
pub struct Refused {
    pub error: Error,
    pub headers: RateHeaders,
}

/// How a request ended, for its spend row.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub model_group: String,
    pub deployment: Option<String>,
    pub provider: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub cost: NanoDollars,
    /// The HTTP status the client got (499: it went away).
    pub status: u16,
    pub cache_hit: bool,
    pub estimated: bool,
}

impl Policy {
    /// Admits a request of `caller`, reserving `reserve` of every budget until it settles.
    pub async fn admit(
        &self,
        caller: &Caller,
        request_id: &str,
        reserve: NanoDollars,
    ) -> Result<Admission, Refused> {
        let now_ms = llm_types::unix_now_ms();
        let mut scopes = Vec::with_capacity(4);
        let mut admission = Admission {
            ticket: None,
            headers: RateHeaders::default(),
            request_id: request_id.to_owned(),
            key_hash: None,
            key_alias: None,
            user_id: None,
            team_id: None,
            started_ms: now_ms,
        };
        if let Caller::Key(principal) = caller {
            let key = &principal.key;
            admission.key_hash = Some(key.token_hash.clone());
            admission.key_alias = key.key_alias.clone();
            admission.user_id = key.user_id.clone();
            admission.team_id = key.team_id.clone();
            let anchor = key.budget_reset_at.unwrap_or(key.created_at);
            scopes.extend(scope(
                format!("key:{}", key.token_hash),
                ScopeKind::Key,
                &key.limits,
                (anchor, key.budget_reset_at, key.spend),
                now_ms,
            ));
            if let Some(user) = &principal.user {
                let anchor = user.budget_reset_at.unwrap_or(user.created_at);
                scopes.extend(scope(
                    format!("user:{}", user.user_id),
                    ScopeKind::User,
                    &user.limits,
                    (anchor, user.budget_reset_at, user.spend),
                    now_ms,
                ));
            }
            if let Some(team) = &principal.team {
                let anchor = team.budget_reset_at.unwrap_or(team.created_at);
                scopes.extend(scope(
                    format!("team:{}", team.team_id),
                    ScopeKind::Team,
                    &team.limits,
                    (anchor, team.budget_reset_at, team.spend),
                    now_ms,
                ));
            }
        }
        scopes.extend(self.global.scope(now_ms));
        if scopes.is_empty() {
            return Ok(admission);
        }
        let decision = self
            .limiter
            .admit(AdmitRequest {
                request_id,
                scopes: &scopes,
                reserve,
                now_ms,
            })
            .await;
        match decision {
            Decision::Admitted(admitted) => {
                admission.headers = admitted.headers;
                admission.ticket = Some(admitted.ticket);
                Ok(admission)
            }
            Decision::Denied(denial) => Err(refusal(denial)),
        }
    }

    /// Settles a request: one line in the spend journal (before the response completes, so a
    /// crash after it cannot lose the spend) and the limiter's settle in the background.
    pub fn settle(&self, admission: Admission, outcome: Outcome) {
        let end_ms = llm_types::unix_now_ms();
        let tokens = outcome.prompt_tokens + outcome.completion_tokens;
        if let Some(journal) = &self.journal {
            let record = SpendRecord {
                request_id: admission.request_id,
                key_hash: admission.key_hash,
                key_alias: admission.key_alias,
                user_id: admission.user_id,
                team_id: admission.team_id,
                model_group: outcome.model_group,
                deployment: outcome.deployment,
                provider: outcome.provider,
                prompt_tokens: outcome.prompt_tokens,
                completion_tokens: outcome.completion_tokens,
                cached_tokens: outcome.cached_tokens,
                cost: outcome.cost,
                latency_ms: u64::try_from(end_ms - admission.started_ms).unwrap_or(0),
                status: outcome.status,
                cache_hit: outcome.cache_hit,
                estimated: outcome.estimated,
                start_ms: admission.started_ms,
                end_ms,
            };
            if let Err(error) = journal.append(&record) {
                // The limiter below still counts the spend; only the log row is missing.
                tracing::error!(%error, request_id = %record.request_id, "spend journal write failed");
            }
        }
        if let Some(ticket) = admission.ticket {
            let limiter = self.limiter.clone();
            let cost = outcome.cost;
            tokio::spawn(async move {
                let settled = limiter.settle(ticket, tokens, cost, end_ms).await;
                for crossing in settled.soft_crossed {
                    tracing::warn!(
                        scope = crossing.kind.as_str(),
                        scope_id = %redacted_scope(&crossing.scope_id),
                        spent = %crossing.spent.to_decimal_string(),
                        soft_budget = %crossing.soft.to_decimal_string(),
                        "soft budget crossed"
                    );
                }
            });
        }
    }
}

/// Scope ids of keys carry the key's hash; logs get a short prefix of it only.
fn redacted_scope(id: &str) -> String {
    match id.strip_prefix("key:") {
        Some(hash) => format!("key:{}…", &hash[..hash.len().min(8)]),
        None => id.to_owned(),
    }
}

/// The limits of one key, user or team, or `None` when it has none.
/// `period` is (anchor of the budget periods, recorded end of the current one, spend SQL
/// recorded for that period).
fn scope(
    id: String,
    kind: ScopeKind,
    limits: &Limits,
    period: (i64, Option<i64>, NanoDollars),
    now_ms: i64,
) -> Option<ScopeLimits> {
    let (anchor, recorded_end, recorded_spend) = period;
    let budget = (limits.max_budget.is_some() || limits.soft_budget.is_some()).then(|| {
        let duration = limits.budget_duration.as_deref().and_then(parse_duration);
        let period_end_ms = duration.map(|d| current_period_end(anchor, d, now_ms));
        // SQL's figure counts only if it belongs to the current period.
        let seed = if duration.is_none() || recorded_end == period_end_ms {
            recorded_spend
        } else {
            NanoDollars::ZERO
        };
        Budget {
            max: limits.max_budget,
            soft: limits.soft_budget,
            period_end_ms,
            seed,
        }
    });
    let scope = ScopeLimits {
        rpm: limits.rpm_limit,
        tpm: limits.tpm_limit,
        max_parallel: limits.max_parallel_requests,
        budget,
        ..ScopeLimits::new(id, kind)
    };
    let limited = scope.rpm.is_some()
        || scope.tpm.is_some()
        || scope.max_parallel.is_some()
        || scope.budget.is_some();
    limited.then_some(scope)
}

fn refusal(denial: Denial) -> Refused {
    match denial {
        Denial::RateLimited {
            scope,
            which,
            limit,
            retry_after_ms,
            headers,
        } => {
            let per = if which == "parallel_requests" {
                "at once"
            } else {
                "per minute"
            };
            let error = Error::new(
                ErrorKind::RateLimited,
                ErrorOrigin::Client,
                format!(
                    "rate limit exceeded for this {}: {limit} {} {per}",
                    scope.as_str(),
                    which.replace('_', " ")
                ),
            )
            .with_code("rate_limit_exceeded")
            .with_retry_after(Some(Duration::from_millis(retry_after_ms.max(1))));
            Refused { error, headers }
        }
        Denial::BudgetExceeded {
            scope,
            spent,
            max,
            retry_after_ms,
        } => {
            let error = Error::new(
                ErrorKind::RateLimited,
                ErrorOrigin::Client,
                format!(
                    "budget exceeded for this {}: spent ${} of ${}",
                    scope.as_str(),
                    spent.to_decimal_string(),
                    max.to_decimal_string()
                ),
            )
            .with_code("budget_exceeded")
            .with_retry_after(retry_after_ms.map(Duration::from_millis));
            Refused {
                error,
                headers: RateHeaders::default(),
            }
        }
        Denial::Unavailable => Refused {
            error: Error::new(
                ErrorKind::UpstreamUnavailable,
                ErrorOrigin::Internal,
                "rate limits cannot be checked (Redis is unreachable and the gateway is fail-closed)",
            )
            .with_code("rate_limiter_unavailable"),
            headers: RateHeaders::default(),
        },
    }
}

/// The gateway-wide budget (`litellm_settings.max_budget`): periods aligned to the UNIX
/// epoch so every instance agrees without a record, seeded from the spend log.
#[derive(Debug, Clone)]
pub(super) struct GlobalBudget {
    max: Option<NanoDollars>,
    duration: Option<Duration>,
    seed: Arc<AtomicI64>,
}

impl GlobalBudget {
    pub(super) fn new(max: Option<NanoDollars>, duration: Option<Duration>) -> GlobalBudget {
        GlobalBudget {
            max,
            duration,
            seed: Arc::new(AtomicI64::new(0)),
        }
    }

    pub(super) fn max(&self) -> Option<NanoDollars> {
        self.max
    }

    fn period_end(&self, now_ms: i64) -> Option<i64> {
        self.duration.map(|d| current_period_end(0, d, now_ms))
    }

    fn scope(&self, now_ms: i64) -> Option<ScopeLimits> {
        let max = self.max?;
        Some(ScopeLimits {
            budget: Some(Budget {
                max: Some(max),
                soft: None,
                period_end_ms: self.period_end(now_ms),
                seed: NanoDollars(self.seed.load(Ordering::Relaxed)),
            }),
            ..ScopeLimits::new("global", ScopeKind::Global)
        })
    }

    /// Reads the current period's spend from the log (the seed of a fresh counter).
    pub(super) async fn refresh_seed(&self, store: &Store, now_ms: i64) {
        if self.max.is_none() {
            return;
        }
        let start = match (self.period_end(now_ms), self.duration) {
            (Some(end), Some(d)) => end - i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            _ => 0,
        };
        match store.global_spend(Some(start), None).await {
            Ok(spent) => self.seed.store(spent.0, Ordering::Relaxed),
            Err(error) => tracing::warn!(%error, "could not read the global spend"),
        }
    }
}
