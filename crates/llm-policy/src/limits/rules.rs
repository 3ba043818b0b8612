//! The decision rules shared by both backends: given what each scope holds right now, admit
//! or refuse, and the figures for the headers. The Redis script mirrors [`evaluate`] to decide
//! atomically and returns the same snapshot, from which this module builds the answer, so
//! both backends answer alike from the same numbers.

use llm_types::money::NanoDollars;

use super::{
    AdmitRequest, Backend, Budget, Denial, LimitSettings, RateHeaders, ScopeLimits, SoftCrossing,
    Ticket, TicketScope,
};

/// Length of an rpm / tpm window.
pub(crate) const WINDOW_MS: i64 = 60_000;
/// Retry-After of a refusal that waits for other requests to end.
pub(crate) const RETRY_SOON_MS: u64 = 1_000;
/// How long spend counters outlive their period (lifetime ones: their last use).
pub(crate) const SPEND_GRACE_MS: i64 = 86_400_000;

/// What one scope holds when a request is checked (before it is applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    /// Requests admitted in the current window.
    pub requests: u64,
    /// Tokens settled for the current window.
    pub tokens: u64,
    /// Parallel slots held.
    pub parallel: u64,
    /// Spend of the current period (seeded).
    pub spent: i64,
    /// Reservations of other requests.
    pub reserved: i64,
}

/// A budget scope's spend around one settle (zeros for a scope without a budget).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SettledScope {
    pub before: i64,
    pub after: i64,
}

pub(crate) fn window(now_ms: i64) -> i64 {
    now_ms.div_euclid(WINDOW_MS)
}

pub(crate) fn window_reset_ms(now_ms: i64) -> u64 {
    u64::try_from(WINDOW_MS - now_ms.rem_euclid(WINDOW_MS)).unwrap_or(0)
}

/// The TTL of the window keys: until the window ends plus a minute.
pub(crate) fn window_ttl_ms(admitted_ms: i64, now_ms: i64) -> i64 {
    ((window(admitted_ms) + 1) * WINDOW_MS + WINDOW_MS - now_ms).max(WINDOW_MS)
}

/// The period part of a spend counter's name.
pub(crate) fn period_key(period_end_ms: Option<i64>) -> String {
    period_end_ms.map_or_else(|| "life".to_owned(), |end| end.to_string())
}

/// The TTL of a spend counter: its period end plus a day, or a day for a lifetime one.
pub(crate) fn spend_ttl_ms(period_end_ms: Option<i64>, now_ms: i64) -> i64 {
    match period_end_ms {
        Some(end) => end.saturating_add(SPEND_GRACE_MS).saturating_sub(now_ms),
        None => SPEND_GRACE_MS,
    }
    .max(WINDOW_MS)
}

/// The TTL of the settled-ids set of an admit window: settles arrive at most a slot or
/// reservation TTL after the admit (later ones are not deduplicated).
pub(crate) fn settled_ttl_ms(settings: &LimitSettings, admitted_ms: i64, now_ms: i64) -> i64 {
    let hold = settings.slot_ttl.max(settings.reservation_ttl).as_millis();
    window_ttl_ms(admitted_ms, now_ms).saturating_add(i64::try_from(hold).unwrap_or(i64::MAX))
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Admits (the headers as they are once the request counts) or refuses: the first failing
/// check, scope by scope in order and, within a scope, budget, requests, tokens, parallel.
pub(crate) fn evaluate(req: &AdmitRequest<'_>, observed: &[Observed]) -> Verdict {
    for (scope, seen) in req.scopes.iter().zip(observed) {
        if let Some(denial) = refusal(scope, seen, req, observed) {
            return Verdict::Refuse(denial);
        }
    }
    Verdict::Admit(headers(req, observed, 1))
}

/// The answer of [`evaluate`].
#[derive(Debug)]
pub(crate) enum Verdict {
    Admit(RateHeaders),
    Refuse(Denial),
}

fn refusal(
    scope: &ScopeLimits,
    seen: &Observed,
    req: &AdmitRequest<'_>,
    all: &[Observed],
) -> Option<Denial> {
    if let Some(Budget {
        max: Some(max),
        period_end_ms,
        ..
    }) = scope.budget
    {
        let until_period_end =
            period_end_ms.map(|end| u64::try_from(end.saturating_sub(req.now_ms)).unwrap_or(0));
        let alone = seen.spent.saturating_add(req.reserve.0.max(0));
        let retry_after_ms = if seen.spent >= max.0 || alone > max.0 {
            Some(until_period_end)
        } else if alone.saturating_add(seen.reserved) > max.0 {
            Some(Some(RETRY_SOON_MS))
        } else {
            None
        };
        if let Some(retry_after_ms) = retry_after_ms {
            return Some(Denial::BudgetExceeded {
                scope: scope.kind,
                spent: NanoDollars(seen.spent),
                max,
                retry_after_ms,
            });
        }
    }
    let rate = |which: &'static str, limit: u64, retry_after_ms: u64| Denial::RateLimited {
        scope: scope.kind,
        which,
        limit,
        retry_after_ms,
        headers: headers(req, all, 0),
    };
    let reset = window_reset_ms(req.now_ms);
    if let Some(rpm) = scope.rpm.filter(|rpm| seen.requests >= *rpm) {
        return Some(rate("requests", rpm, reset));
    }
    if let Some(tpm) = scope.tpm.filter(|tpm| seen.tokens >= *tpm) {
        return Some(rate("tokens", tpm, reset));
    }
    if let Some(max) = scope.max_parallel.filter(|max| seen.parallel >= *max) {
        return Some(rate("parallel_requests", max, RETRY_SOON_MS));
    }
    None
}

/// The tightest scope's figures; `this_request` is 1 once the request counts, 0 on refusal.
fn headers(req: &AdmitRequest<'_>, observed: &[Observed], this_request: u64) -> RateHeaders {
    let reset = window_reset_ms(req.now_ms);
    let mut out = RateHeaders::default();
    for (scope, seen) in req.scopes.iter().zip(observed) {
        if let Some(rpm) = scope.rpm {
            let remaining = rpm.saturating_sub(seen.requests + this_request);
            if out.remaining_requests.is_none_or(|r| remaining < r) {
                out.limit_requests = Some(rpm);
                out.remaining_requests = Some(remaining);
                out.reset_requests_ms = Some(reset);
            }
        }
        if let Some(tpm) = scope.tpm {
            let remaining = tpm.saturating_sub(seen.tokens);
            if out.remaining_tokens.is_none_or(|r| remaining < r) {
                out.limit_tokens = Some(tpm);
                out.remaining_tokens = Some(remaining);
                out.reset_tokens_ms = Some(reset);
            }
        }
    }
    out
}

/// What the request holds once admitted.
pub(crate) fn ticket(req: &AdmitRequest<'_>, backend: Backend) -> Ticket {
    Ticket {
        request_id: req.request_id.to_owned(),
        admitted_ms: req.now_ms,
        scopes: req
            .scopes
            .iter()
            .map(|scope| TicketScope {
                id: scope.id.clone(),
                kind: scope.kind,
                tpm: scope.tpm.is_some(),
                parallel: scope.max_parallel.is_some(),
                budget: scope.budget,
            })
            .collect(),
        reserved: if holds_reservation(req.scopes) {
            NanoDollars(req.reserve.0.max(0))
        } else {
            NanoDollars::ZERO
        },
        backend,
    }
}

/// Whether the request reserves budget anywhere.
fn holds_reservation(scopes: &[ScopeLimits]) -> bool {
    scopes
        .iter()
        .any(|s| s.budget.is_some_and(|b| b.max.is_some()))
}

/// Whether a scope's budget takes a reservation.
pub(crate) fn reserves(scope: &ScopeLimits, reserve: NanoDollars) -> bool {
    reserve.0 > 0 && scope.budget.is_some_and(|b| b.max.is_some())
}

/// The soft budgets crossed by a settle, from each budget scope's spend before and after.
pub(crate) fn soft_crossings(ticket: &Ticket, spends: &[SettledScope]) -> Vec<SoftCrossing> {
    ticket
        .scopes
        .iter()
        .zip(spends)
        .filter_map(|(scope, spend)| {
            let soft = scope.budget?.soft?;
            (spend.before < soft.0 && spend.after >= soft.0).then(|| SoftCrossing {
                scope_id: scope.id.clone(),
                kind: scope.kind,
                spent: NanoDollars(spend.after),
                soft,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_ttls() {
        // (now, window, reset, spend ttl of a period ending at 1 h)
        let cases = [
            (0, 0, 60_000, 3_600_000 + SPEND_GRACE_MS),
            (59_999, 0, 1, 3_600_000 + SPEND_GRACE_MS - 59_999),
            (60_000, 1, 60_000, 3_600_000 + SPEND_GRACE_MS - 60_000),
            (-1, -1, 1, 3_600_000 + SPEND_GRACE_MS + 1),
        ];
        for (now, expected_window, reset, ttl) in cases {
            assert_eq!(window(now), expected_window, "{now}");
            assert_eq!(window_reset_ms(now), reset, "{now}");
            assert_eq!(spend_ttl_ms(Some(3_600_000), now), ttl, "{now}");
            assert!(window_ttl_ms(now, now) > i64::try_from(reset).unwrap_or(0));
        }
        assert_eq!(spend_ttl_ms(None, 5), SPEND_GRACE_MS);
        assert_eq!(period_key(None), "life");
        assert_eq!(period_key(Some(42)), "42");
    }
}
