//! Decision counters per guardrail and action, lock-free on the request path, read by the
//! gateway's metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a guardrail decided (the metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Looked and let it through unchanged.
    Allow,
    /// Replaced matches by tokens.
    Mask,
    /// Refused the request or the response.
    Block,
    /// A webhook rewrote the messages or the content.
    Modify,
    /// A webhook failed (timeout, transport, status, unreadable); counted besides the
    /// allow or block that `fail_open` turned it into.
    Error,
}

impl Decision {
    const ALL: [Decision; 5] = [
        Decision::Allow,
        Decision::Mask,
        Decision::Block,
        Decision::Modify,
        Decision::Error,
    ];

    /// The label in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Mask => "mask",
            Decision::Block => "block",
            Decision::Modify => "modify",
            Decision::Error => "error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One counter row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailCount {
    pub guardrail: String,
    pub action: &'static str,
    pub count: u64,
}

/// The counters of every configured guardrail.
#[derive(Debug, Default)]
pub struct Counters {
    rows: Vec<[AtomicU64; 5]>,
}

impl Counters {
    /// Zeroed counters for `n` guardrails.
    pub fn new(n: usize) -> Counters {
        Counters {
            rows: (0..n).map(|_| Default::default()).collect(),
        }
    }

    /// Counts one decision of guardrail `index`.
    pub fn add(&self, index: usize, decision: Decision) {
        if let Some(row) = self.rows.get(index) {
            row[decision.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every counter, by guardrail (in `names` order) then action; zeros included so that a
    /// metrics series exists from the start.
    pub fn snapshot(&self, names: &[&str]) -> Vec<GuardrailCount> {
        let mut out = Vec::new();
        for (row, name) in self.rows.iter().zip(names) {
            for d in Decision::ALL {
                out.push(GuardrailCount {
                    guardrail: (*name).to_owned(),
                    action: d.as_str(),
                    count: row[d.index()].load(Ordering::Relaxed),
                });
            }
        }
        out
    }
}
