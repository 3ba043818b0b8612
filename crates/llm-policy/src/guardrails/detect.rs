//! What every detector shares: a match ([`Found`]), the edge checks that keep a number from
//! being found inside a longer number, and [`Detector`], the one type the engine runs.
//!
//! The `regex` crate has no look-around (it guarantees linear time), so "not inside a longer
//! token" is checked on the characters around each candidate instead.

use super::config::GuardrailKind;
use super::keywords::KeywordDetector;
use super::pii::PiiDetector;
use super::regex_rule::PatternDetector;

/// One match: a byte range of the text and the label its mask token carries (`EMAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub label: &'static str,
}

/// A compiled detector guardrail.
#[derive(Debug, Clone)]
pub enum Detector {
    Pii(PiiDetector),
    Patterns(PatternDetector),
    Keywords(KeywordDetector),
}

impl Detector {
    /// The detector of a guardrail kind, or `None` for kinds that detect nothing in text.
    pub fn of(kind: &GuardrailKind) -> Result<Option<Detector>, String> {
        Ok(match kind {
            GuardrailKind::Pii { entities, .. } => Some(Detector::Pii(
                PiiDetector::new(entities).map_err(|e| e.to_string())?,
            )),
            GuardrailKind::Regex { patterns, .. } => Some(Detector::Patterns(
                PatternDetector::new(patterns).map_err(|e| e.to_string())?,
            )),
            GuardrailKind::Keywords { words, .. } => Some(Detector::Keywords(
                KeywordDetector::new(words).map_err(|e| e.to_string())?,
            )),
            GuardrailKind::MaxInputTokens { .. } | GuardrailKind::Webhook(_) => None,
        })
    }

    /// Every match in `text`, sorted by start, none overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        match self {
            Detector::Pii(d) => d.find(text),
            Detector::Patterns(d) => d.find(text),
            Detector::Keywords(d) => d.find(text),
        }
    }
}

/// Adds `candidate` unless it overlaps a match already accepted (earlier detectors win).
pub fn accept(found: &mut Vec<Found>, candidate: Found) {
    if found
        .iter()
        .all(|f| candidate.end <= f.start || candidate.start >= f.end)
    {
        found.push(candidate);
    }
}

/// Sorts accepted matches by position.
pub fn sorted(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| f.start);
    found
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when the character before `start` does not continue a word.
pub fn word_left(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !is_word(c))
}

/// True when the character at `end` does not continue a word.
pub fn word_right(text: &str, end: usize) -> bool {
    text[end..].chars().next().is_none_or(|c| !is_word(c))
}

/// Word edges on both sides.
pub fn word_bounded(text: &str, start: usize, end: usize) -> bool {
    word_left(text, start) && word_right(text, end)
}

/// Number edges: no word character next to the match, and no `digit.` / `.digit` (or `-`,
/// `/`) joining it to a longer dotted or dashed number (`1.2.3.4.5`, `2024-01-15-1234`).
pub fn number_bounded(text: &str, start: usize, end: usize, joiners: &str) -> bool {
    if !word_bounded(text, start, end) {
        return false;
    }
    let mut before = text[..start].chars().rev();
    if let (Some(sep), Some(prev)) = (before.next(), before.next())
        && joiners.contains(sep)
        && prev.is_ascii_digit()
    {
        return false;
    }
    let mut after = text[end..].chars();
    if let (Some(sep), Some(next)) = (after.next(), after.next())
        && joiners.contains(sep)
        && next.is_ascii_digit()
    {
        return false;
    }
    true
}

/// The ASCII digits of `text`, in order.
pub fn digits(text: &str) -> Vec<u8> {
    text.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}
