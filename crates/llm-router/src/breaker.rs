//! The circuit breaker of one deployment, a small state machine.
//!
//! Closed: requests pass; failures are remembered for one minute. More than `allowed_fails`
//! failures within the minute (LiteLLM semantics), or one 429/401/403, open it for
//! `cooldown_time`. After the cooldown it is half-open: exactly one probe request passes; its
//! success closes the breaker, its failure opens it again.
//!
//! Failures that are the request's own fault (invalid request, context length, content
//! policy) say nothing about the deployment and are not counted.

use llm_types::ErrorKind;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// LiteLLM's `allowed_fails` and `cooldown_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    pub allowed_fails: u32,
    pub cooldown: Duration,
}

impl Default for BreakerPolicy {
    /// LiteLLM's defaults: 3 allowed fails, 5 s cooldown.
    fn default() -> Self {
        BreakerPolicy {
            allowed_fails: 3,
            cooldown: Duration::from_secs(5),
        }
    }
}

/// Whether a request may go to the deployment now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Yes,
    /// Half-open: this request is the one probe.
    Probe,
    /// Cooling down (or a probe is already out) until `until`.
    No {
        until: Instant,
    },
}

/// A breaker's state as the shared state reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedBreaker {
    Closed,
    /// Cooling down for `left` more.
    Open {
        left: Duration,
    },
    /// After the cooldown, until a probe answers; `probing` while one is out.
    HalfOpen {
        probing: bool,
    },
}

#[derive(Debug, Default)]
pub struct Breaker {
    failures: VecDeque<Instant>,
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Closed,
    Open {
        until: Instant,
    },
    /// After the cooldown; `probing` while the probe request is out.
    HalfOpen {
        probing: bool,
        since: Instant,
    },
}

impl Breaker {
    pub fn admission(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed => Admission::Yes,
            State::Open { until } if now < until => Admission::No { until },
            State::Open { until } => {
                self.state = State::HalfOpen {
                    probing: false,
                    since: until,
                };
                Admission::Probe
            }
            State::HalfOpen { probing: false, .. } => Admission::Probe,
            // A probe that never reports (cancelled) must not block forever: after one more
            // cooldown-length wait another probe may go.
            State::HalfOpen {
                probing: true,
                since,
            } => Admission::No {
                until: since + FAILURE_WINDOW,
            },
        }
    }

    pub fn probe_started(&mut self) {
        if let State::HalfOpen { since, .. } = self.state {
            self.state = State::HalfOpen {
                probing: true,
                since,
            };
        }
    }

    /// A success closes the breaker, except a running cooldown: an answer to a request sent
    /// before the deployment cooled down says nothing about it now (a 429 cooldown would
    /// otherwise end with the next slow answer still in flight).
    pub fn succeeded(&mut self, now: Instant) {
        self.failures.clear();
        if !matches!(self.state, State::Open { until } if now < until) {
            self.state = State::Closed;
        }
    }

    /// Takes the breaker's state from the shared state (a view kept up to date by Redis).
    /// Local failure history is kept: it decides again if Redis goes away.
    pub fn mirror(&mut self, now: Instant, shared: SharedBreaker) {
        self.state = match shared {
            SharedBreaker::Closed => State::Closed,
            SharedBreaker::Open { left } => State::Open { until: now + left },
            SharedBreaker::HalfOpen { probing } => State::HalfOpen {
                probing,
                since: now,
            },
        };
    }

    /// Records a failure; returns whether the breaker is (now) open.
    pub fn failed(&mut self, now: Instant, kind: ErrorKind, policy: &BreakerPolicy) -> bool {
        if !counts_against_deployment(kind) {
            return matches!(self.state, State::Open { .. });
        }
        let open = match self.state {
            State::HalfOpen { .. } => true,
            _ if matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Authentication | ErrorKind::PermissionDenied
            ) =>
            {
                true
            }
            _ => {
                self.failures.push_back(now);
                while self
                    .failures
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW)
                {
                    self.failures.pop_front();
                }
                self.failures.len() > policy.allowed_fails as usize
            }
        };
        if open {
            self.state = State::Open {
                until: now + policy.cooldown,
            };
            self.failures.clear();
        }
        open
    }
}

/// Whether a failure of this kind says the deployment is unwell.
pub fn counts_against_deployment(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::InvalidRequest
            | ErrorKind::ContextLengthExceeded
            | ErrorKind::ContentPolicy
            | ErrorKind::PayloadTooLarge
            | ErrorKind::Unprocessable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cooldown_entry_exit_and_probe() {
        let policy = BreakerPolicy {
            allowed_fails: 1,
            cooldown: Duration::from_secs(5),
        };
        let mut breaker = Breaker::default();
        let t0 = Instant::now();
        // One failure is allowed; the second within the minute opens it.
        assert!(!breaker.failed(t0, ErrorKind::UpstreamServerError, &policy));
        assert_eq!(breaker.admission(t0), Admission::Yes);
        assert!(breaker.failed(
            t0 + Duration::from_secs(1),
            ErrorKind::UpstreamTimeout,
            &policy
        ));
        let until = t0 + Duration::from_secs(6);
        assert_eq!(
            breaker.admission(t0 + Duration::from_secs(2)),
            Admission::No { until }
        );
        // After the cooldown, exactly one probe.
        assert_eq!(breaker.admission(until), Admission::Probe);
        breaker.probe_started();
        assert!(matches!(breaker.admission(until), Admission::No { .. }));
        // The probe fails: open again for a full cooldown.
        assert!(breaker.failed(until, ErrorKind::UpstreamServerError, &policy));
        assert_eq!(
            breaker.admission(until + Duration::from_secs(4)),
            Admission::No {
                until: until + Duration::from_secs(5)
            }
        );
        // The next probe succeeds: closed.
        assert_eq!(
            breaker.admission(until + Duration::from_secs(5)),
            Admission::Probe
        );
        breaker.probe_started();
        breaker.succeeded(until + Duration::from_secs(5));
        assert_eq!(
            breaker.admission(until + Duration::from_secs(5)),
            Admission::Yes
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_ends_half_open_but_not_a_running_cooldown() {
        let policy = BreakerPolicy {
            allowed_fails: 0,
            cooldown: Duration::from_secs(5),
        };
        let t0 = Instant::now();
        let until = t0 + Duration::from_secs(5);
        // (seconds after the failure when a success arrives, admission right after it)
        let cases = [
            (1, Admission::No { until }),
            (5, Admission::Yes),
            (30, Admission::Yes),
        ];
        for (at, admission) in cases {
            let mut breaker = Breaker::default();
            assert!(breaker.failed(t0, ErrorKind::RateLimited, &policy));
            let now = t0 + Duration::from_secs(at);
            breaker.succeeded(now);
            assert_eq!(breaker.admission(now), admission, "success at {at}s");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_state_sets_the_breaker() {
        let now = Instant::now();
        let left = Duration::from_secs(3);
        // (shared state, admission)
        let cases = [
            (SharedBreaker::Closed, Admission::Yes),
            (
                SharedBreaker::Open { left },
                Admission::No { until: now + left },
            ),
            (SharedBreaker::HalfOpen { probing: false }, Admission::Probe),
            (
                SharedBreaker::HalfOpen { probing: true },
                Admission::No {
                    until: now + FAILURE_WINDOW,
                },
            ),
        ];
        for (shared, admission) in cases {
            let mut breaker = Breaker::default();
            breaker.mirror(now, shared);
            assert_eq!(breaker.admission(now), admission, "{shared:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn what_opens_the_breaker() {
        let policy = BreakerPolicy {
            allowed_fails: 2,
            cooldown: Duration::from_secs(5),
        };
        let t0 = Instant::now();
        // (failures, opens)
        let cases: Vec<(Vec<(u64, ErrorKind)>, bool)> = vec![
            (vec![(0, ErrorKind::RateLimited)], true),
            (vec![(0, ErrorKind::Authentication)], true),
            (vec![(0, ErrorKind::InvalidRequest); 5], false),
            (vec![(0, ErrorKind::ContextLengthExceeded); 5], false),
            (vec![(0, ErrorKind::UpstreamServerError); 2], false),
            (vec![(0, ErrorKind::UpstreamServerError); 3], true),
            // Failures older than a minute are forgotten.
            (
                vec![
                    (0, ErrorKind::UpstreamServerError),
                    (0, ErrorKind::UpstreamServerError),
                    (61, ErrorKind::UpstreamServerError),
                ],
                false,
            ),
        ];
        for (failures, opens) in cases {
            let mut breaker = Breaker::default();
            let mut open = false;
            for (at, kind) in &failures {
                open = breaker.failed(t0 + Duration::from_secs(*at), *kind, &policy);
            }
            assert_eq!(open, opens, "{failures:?}");
        }
    }
}
