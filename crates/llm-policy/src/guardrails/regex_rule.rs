//! The `regex` guardrail: the user's patterns, each a deny rule. Matches are labelled
//! `REDACTED` when masked (the pattern itself is configuration, not something to echo).

use regex::Regex;

use super::detect::{Found, accept, sorted};

/// The compiled patterns of one `regex` guardrail.
#[derive(Debug, Clone)]
pub struct PatternDetector {
    patterns: Vec<Regex>,
}

impl PatternDetector {
    /// Compiles the patterns (already validated when parsed from configuration).
    pub fn new(patterns: &[String]) -> Result<PatternDetector, regex::Error> {
        let patterns = patterns
            .iter()
            .map(|p| Regex::new(p))
            .collect::<Result<_, _>>()?;
        Ok(PatternDetector { patterns })
    }

    /// Every non-empty match of every pattern, earlier patterns winning overlaps.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        for re in &self.patterns {
            for m in re.find_iter(text).filter(|m| !m.is_empty()) {
                let (start, end) = (m.start(), m.end());
                accept(
                    &mut found,
                    Found {
                        start,
                        end,
                        label: "REDACTED",
                    },
                );
            }
        }
        sorted(found)
    }
}
