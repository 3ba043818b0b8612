//! The in-process limiter: the counters of this process only, behind one mutex held for a
//! few map operations per scope. Same semantics as the Redis backend (see [`super`]); expired
//! entries are swept as they are touched and, at most once a minute, everywhere.

use llm_types::money::NanoDollars;
use std::collections::HashMap;
use std::sync::Mutex;

use super::rules::{self, Observed, SettledScope, Verdict};
use super::{
    AdmitRequest, Admitted, Backend, Decision, LimitSettings, ScopeLimits, Settled, Ticket,
};

/// Rate limits and budgets of this process.
#[derive(Debug, Default)]
pub struct LocalLimiter {
    settings: LimitSettings,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    scopes: HashMap<String, ScopeState>,
    /// Spend by (scope id, period key).
    spend: HashMap<(String, String), Counter>,
    /// Settled request ids → until when they are remembered.
    settled: HashMap<String, i64>,
    next_sweep_ms: i64,
}

#[derive(Debug, Default)]
struct ScopeState {
    /// Window index → (requests admitted, tokens settled).
    windows: HashMap<i64, (u64, u64)>,
    /// Request id → slot expiry.
    parallel: HashMap<String, i64>,
    /// Request id → (amount, expiry).
    reservations: HashMap<String, (i64, i64)>,
    reserved: i64,
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    value: i64,
    expires_ms: i64,
}

impl LocalLimiter {
    pub fn new(settings: LimitSettings) -> LocalLimiter {
        LocalLimiter {
            settings,
            state: Mutex::default(),
        }
    }

    /// Checks every scope and, when all pass, counts the request everywhere.
    pub fn admit(&self, req: &AdmitRequest<'_>) -> Decision {
        let now = req.now_ms;
        let mut state = lock(&self.state);
        state.sweep_all(now);
        let observed: Vec<Observed> = req
            .scopes
            .iter()
            .map(|scope| state.observe(scope, now))
            .collect();
        match rules::evaluate(req, &observed) {
            Verdict::Refuse(denial) => Decision::Denied(denial),
            Verdict::Admit(headers) => {
                for scope in req.scopes {
                    state.apply(scope, req, &self.settings);
                }
                Decision::Admitted(Admitted {
                    ticket: rules::ticket(req, Backend::Local),
                    headers,
                })
            }
        }
    }

    /// Releases what the ticket holds and counts its tokens and cost (once per request id).
    pub fn settle(&self, ticket: &Ticket, tokens: u64, cost: NanoDollars, now_ms: i64) -> Settled {
        let mut state = lock(&self.state);
        if state
            .settled
            .get(&ticket.request_id)
            .is_some_and(|until| *until > now_ms)
        {
            return Settled {
                soft_crossed: Vec::new(),
                duplicate: true,
            };
        }
        let remember = now_ms.saturating_add(rules::settled_ttl_ms(
            &self.settings,
            ticket.admitted_ms,
            now_ms,
        ));
        state.settled.insert(ticket.request_id.clone(), remember);
        let admit_window = rules::window(ticket.admitted_ms);
        let mut spends = Vec::with_capacity(ticket.scopes.len());
        for scope in &ticket.scopes {
            let held = state.scopes.entry(scope.id.clone()).or_default();
            if scope.parallel {
                held.parallel.remove(&ticket.request_id);
            }
            if let Some((amount, _)) = held.reservations.remove(&ticket.request_id) {
                held.reserved = (held.reserved - amount).max(0);
            }
            if scope.tpm && tokens > 0 {
                let window = held.windows.entry(admit_window).or_default();
                window.1 = window.1.saturating_add(tokens);
            }
            let mut spend = SettledScope::default();
            if let Some(budget) = scope.budget {
                let counter = state.counter(&scope.id, budget.period_end_ms, budget.seed, now_ms);
                spend.before = counter.value;
                counter.value = counter.value.saturating_add(cost.0.max(0));
                spend.after = counter.value;
            }
            spends.push(spend);
        }
        Settled {
            soft_crossed: rules::soft_crossings(ticket, &spends),
            duplicate: false,
        }
    }

    /// The spend counter of a scope for a period, when this process has one (an expired
    /// one until the next sweep: it takes no clock).
    pub fn spent(&self, scope_id: &str, period_end_ms: Option<i64>) -> Option<NanoDollars> {
        let state = lock(&self.state);
        state
            .spend
            .get(&(scope_id.to_owned(), rules::period_key(period_end_ms)))
            .map(|counter| NanoDollars(counter.value))
    }
}

impl State {
    /// What a scope holds now, after sweeping its expired slots and reservations and seeding
    /// its spend counter.
    fn observe(&mut self, scope: &ScopeLimits, now: i64) -> Observed {
        let held = self.scopes.entry(scope.id.clone()).or_default();
        held.sweep(now);
        let (requests, tokens) = held
            .windows
            .get(&rules::window(now))
            .copied()
            .unwrap_or_default();
        let mut seen = Observed {
            requests,
            tokens,
            parallel: held.parallel.len() as u64,
            spent: 0,
            reserved: held.reserved,
        };
        if let Some(budget) = scope.budget {
            seen.spent = self
                .counter(&scope.id, budget.period_end_ms, budget.seed, now)
                .value;
        }
        seen
    }

    /// Counts an admitted request in one scope.
    fn apply(&mut self, scope: &ScopeLimits, req: &AdmitRequest<'_>, settings: &LimitSettings) {
        let now = req.now_ms;
        let held = self.scopes.entry(scope.id.clone()).or_default();
        if scope.rpm.is_some() {
            held.windows.entry(rules::window(now)).or_default().0 += 1;
        }
        if scope.max_parallel.is_some() {
            let expiry = now.saturating_add(rules::millis(settings.slot_ttl));
            held.parallel.insert(req.request_id.to_owned(), expiry);
        }
        if rules::reserves(scope, req.reserve) {
            let expiry = now.saturating_add(rules::millis(settings.reservation_ttl));
            let entry = (req.reserve.0, expiry);
            if let Some((old, _)) = held.reservations.insert(req.request_id.to_owned(), entry) {
                held.reserved = (held.reserved - old).max(0);
            }
            held.reserved = held.reserved.saturating_add(req.reserve.0);
        }
    }

    /// The spend counter of a scope's period: restarted from the seed when missing or
    /// expired, never below the seed, and kept alive (lifetime counters) by use.
    fn counter(
        &mut self,
        id: &str,
        period_end_ms: Option<i64>,
        seed: NanoDollars,
        now: i64,
    ) -> &mut Counter {
        let counter = self
            .spend
            .entry((id.to_owned(), rules::period_key(period_end_ms)))
            .or_insert(Counter {
                value: seed.0,
                expires_ms: i64::MIN,
            });
        if counter.expires_ms <= now {
            counter.value = seed.0;
        }
        counter.value = counter.value.max(seed.0);
        counter.expires_ms = now.saturating_add(rules::spend_ttl_ms(period_end_ms, now));
        counter
    }

    /// At most once a minute (of request time): drops what expired everywhere.
    fn sweep_all(&mut self, now: i64) {
        if now < self.next_sweep_ms {
            return;
        }
        self.next_sweep_ms = now.saturating_add(rules::WINDOW_MS);
        self.scopes.retain(|_, held| {
            held.sweep(now);
            !(held.windows.is_empty() && held.parallel.is_empty() && held.reservations.is_empty())
        });
        self.spend.retain(|_, counter| counter.expires_ms > now);
        self.settled.retain(|_, until| *until > now);
    }
}

impl ScopeState {
    fn sweep(&mut self, now: i64) {
        let current = rules::window(now);
        // The previous window still takes late token counts; older ones are never read.
        self.windows.retain(|window, _| *window >= current - 1);
        self.parallel.retain(|_, expiry| *expiry > now);
        let mut released = 0;
        self.reservations.retain(|_, (amount, expiry)| {
            let keep = *expiry > now;
            if !keep {
                released += *amount;
            }
            keep
        });
        self.reserved = (self.reserved - released).max(0);
    }
}

/// Locks a mutex, recovering from poisoning (every update leaves the maps consistent).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Budget, ScopeKind};

    fn scope(seed: i64) -> ScopeLimits {
        ScopeLimits {
            rpm: Some(10),
            max_parallel: Some(10),
            budget: Some(Budget {
                max: Some(NanoDollars(1_000)),
                soft: None,
                period_end_ms: Some(3_600_000),
                seed: NanoDollars(seed),
            }),
            ..ScopeLimits::new("key:k", ScopeKind::Key)
        }
    }

    fn admit(limiter: &LocalLimiter, id: &str, seed: i64, now_ms: i64) -> Option<Ticket> {
        let scopes = [scope(seed)];
        let req = AdmitRequest {
            request_id: id,
            scopes: &scopes,
            reserve: NanoDollars(10),
            now_ms,
        };
        match limiter.admit(&req) {
            Decision::Admitted(admitted) => Some(admitted.ticket),
            Decision::Denied(_) => None,
        }
    }

    #[test]
    fn a_higher_seed_raises_the_local_counter() {
        // Without Redis, other instances' spend only arrives through SQL: the seed.
        let limiter = LocalLimiter::default();
        // (seed of the next admit, counter after it)
        let cases = [(100, 100), (50, 100), (400, 400), (0, 400)];
        for (i, (seed, expected)) in cases.into_iter().enumerate() {
            assert!(admit(&limiter, &format!("r{i}"), seed, 1_000).is_some());
            let spent = limiter.spent("key:k", Some(3_600_000));
            assert_eq!(spent, Some(NanoDollars(expected)), "seed {seed}");
        }
    }

    #[test]
    fn expired_entries_are_swept() {
        let limiter = LocalLimiter::default();
        let ticket = admit(&limiter, "a", 0, 0);
        assert!(ticket.is_some());
        admit(&limiter, "b", 0, 1);
        if let Some(ticket) = ticket {
            limiter.settle(&ticket, 5, NanoDollars(1), 2);
        }
        // (now, scopes kept, spend counters kept, settled ids kept)
        let cases = [
            (60_000, 1, 1, 1),
            // b's slot and reservation expired, its windows are old.
            (660_000, 0, 1, 1),
            // The counter outlives its period by a day.
            (3_600_000 + 86_400_000, 0, 0, 0),
        ];
        for (now, scopes, counters, settled) in cases {
            let mut state = lock(&limiter.state);
            state.sweep_all(now);
            let kept = (state.scopes.len(), state.spend.len(), state.settled.len());
            assert_eq!(kept, (scopes, counters, settled), "at {now}");
        }
    }
}
