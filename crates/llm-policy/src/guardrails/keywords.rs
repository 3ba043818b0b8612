//! The `keywords` guardrail: whole words or phrases, case-insensitive, compiled into one
//! regex. A word is matched only where it stands alone (`class` does not match `classic`).

use regex::Regex;

use super::detect::{Found, word_bounded};

/// The compiled word list of one `keywords` guardrail.
#[derive(Debug, Clone)]
pub struct KeywordDetector {
    re: Regex,
}

impl KeywordDetector {
    /// One alternation of the escaped words, longest first so a phrase wins over its words.
    pub fn new(words: &[String]) -> Result<KeywordDetector, regex::Error> {
        let mut words: Vec<&String> = words.iter().filter(|w| !w.trim().is_empty()).collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let alternation = words
            .iter()
            .map(|w| regex::escape(w.trim()))
            .collect::<Vec<_>>()
            .join("|");
        let pattern = if alternation.is_empty() {
            // Matches nothing: `[^\s\S]` is the empty class.
            r"[^\s\S]".to_owned()
        } else {
            format!("(?i)(?:{alternation})")
        };
        Ok(KeywordDetector {
            re: Regex::new(&pattern)?,
        })
    }

    /// Every standalone occurrence of a word.
    pub fn find(&self, text: &str) -> Vec<Found> {
        self.re
            .find_iter(text)
            .filter(|m| word_bounded(text, m.start(), m.end()))
            .map(|m| Found {
                start: m.start(),
                end: m.end(),
                label: "REDACTED",
            })
            .collect()
    }
}
