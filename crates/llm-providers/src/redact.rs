//! Removes secrets from text that came from an upstream before it reaches a client or a log.

/// Replaces anything that looks like an API key (`sk-...`, `gsk_...`, `xai-...`, `AKIA...`,
/// long bearer-like tokens) with `[REDACTED]`. Upstreams echo keys in error messages
/// ("Incorrect API key provided: sk-abc..."), and we never pass a key on.
pub fn redact_secrets(text: &str) -> String {
    text.split_inclusive(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ':' | '(' | ')')
    })
    .map(|piece| {
        let token = piece.trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ':' | '(' | ')' | '.')
        });
        if looks_like_secret(token) {
            piece.replacen(token, "[REDACTED]", 1)
        } else {
            piece.to_owned()
        }
    })
    .collect()
}

fn looks_like_secret(token: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "sk-", "sk_", "gsk_", "xai-", "pplx-", "nvapi-", "AKIA", "ASIA",
    ];
    let has_prefix = PREFIXES.iter().any(|p| token.starts_with(p)) && token.len() >= 12;
    // A long run of key-ish characters with digits and letters mixed is a token, not a word.
    let long_token = token.len() >= 32
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
        && token.chars().any(|c| c.is_ascii_digit())
        && token.chars().any(|c| c.is_ascii_alphabetic());
    has_prefix || long_token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_and_keeps_prose() {
        let cases = [
            (
                "Incorrect API key provided: sk-proj-abc123def456. You can find",
                "Incorrect API key provided: [REDACTED]. You can find",
            ),
            ("key gsk_0123456789abcdef is bad", "key [REDACTED] is bad"),
            (
                "The model `gpt-4o` does not exist",
                "The model `gpt-4o` does not exist",
            ),
            (
                "token AKIAIOSFODNN7EXAMPLE leaked",
                "token [REDACTED] leaked",
            ),
            (
                "\"Bearer abcdefghijklmnopqrstuvwxyz0123456789\"",
                "\"Bearer [REDACTED]\"",
            ),
            ("sk- is a prefix", "sk- is a prefix"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_secrets(input), expected, "{input}");
        }
    }
}
