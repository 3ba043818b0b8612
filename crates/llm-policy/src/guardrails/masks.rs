//! Mask tokens of one request: `[EMAIL_1]`, `[CREDIT_CARD_2]`..., numbered per label, the same
//! value always getting the same token, and the way back (`unmask`) for guardrails that
//! restore the user's own values in the response.

use std::collections::HashMap;

use super::detect::Found;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    token: String,
    original: String,
    unmask: bool,
}

/// The tokens a request's guardrails handed out (token -> original value).
///
/// Its `Debug` shows only the tokens: the originals are the sensitive text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Masks {
    entries: Vec<Entry>,
    by_value: HashMap<String, usize>,
    next: HashMap<&'static str, u32>,
}

impl std::fmt::Debug for Masks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.token))
            .finish()
    }
}

impl Masks {
    /// No tokens yet.
    pub fn new() -> Masks {
        Masks::default()
    }

    /// How many distinct values were masked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was masked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tokens handed out, in order.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.token.as_str())
    }

    /// The original value behind `token`.
    pub fn original(&self, token: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.token == token)
            .map(|e| e.original.as_str())
    }

    /// The token for `value`, handing out the next number of `label` for a new value.
    /// `unmask` marks it for restoring in the response (once set, it stays set).
    pub fn token_for(&mut self, label: &'static str, value: &str, unmask: bool) -> &str {
        let index = match self.by_value.get(value) {
            Some(&i) => i,
            None => {
                let n = self.next.entry(label).or_insert(0);
                *n += 1;
                self.entries.push(Entry {
                    token: format!("[{label}_{n}]"),
                    original: value.to_owned(),
                    unmask,
                });
                let i = self.entries.len() - 1;
                self.by_value.insert(value.to_owned(), i);
                i
            }
        };
        let entry = &mut self.entries[index];
        entry.unmask |= unmask;
        &entry.token
    }

    /// `text` with every match replaced by its token. `found` is sorted and non-overlapping.
    pub fn mask(&mut self, text: &str, found: &[Found], unmask: bool) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in found {
            out.push_str(&text[at..f.start]);
            out.push_str(self.token_for(f.label, &text[f.start..f.end], unmask));
            at = f.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Whether any token is to be restored in responses.
    pub fn has_unmask(&self) -> bool {
        self.entries.iter().any(|e| e.unmask)
    }

    /// `text` with the tokens marked `unmask` replaced by their originals; `None` when there
    /// is nothing to restore (the common case allocates nothing).
    pub fn unmask(&self, text: &str) -> Option<String> {
        if !text.contains('[') {
            return None;
        }
        let mut out: Option<String> = None;
        for e in self.entries.iter().filter(|e| e.unmask) {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(&e.token) {
                out = Some(current.replace(&e.token, &e.original));
            }
        }
        out
    }

    /// The byte ranges of `text` that hold a complete token to restore (for stream windows).
    pub fn unmask_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        for e in self.entries.iter().filter(|e| e.unmask) {
            spans.extend(text.match_indices(&e.token).map(|(i, t)| (i, i + t.len())));
        }
        spans.sort_unstable();
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_token_numbered_per_label() {
        let mut masks = Masks::new();
        let cases = [
            ("EMAIL", "a@x.io", "[EMAIL_1]"),
            ("EMAIL", "b@x.io", "[EMAIL_2]"),
            ("EMAIL", "a@x.io", "[EMAIL_1]"),
            ("PHONE", "+14155552671", "[PHONE_1]"),
        ];
        for (label, value, token) in cases {
            assert_eq!(masks.token_for(label, value, true), token);
        }
        assert_eq!(
            masks.unmask("hi [EMAIL_2] and [PHONE_1]").as_deref(),
            Some("hi b@x.io and +14155552671")
        );
        assert_eq!(masks.unmask("nothing here"), None);
        assert!(!format!("{masks:?}").contains("a@x.io"));
    }
}
