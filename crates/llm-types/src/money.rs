//! Money as integer nano-dollars: sums never drift, comparisons are exact.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of US dollars in units of 10⁻⁹ (one nano-dollar). `i64` holds ±9.2 billion
/// dollars, far beyond any budget.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NanoDollars(pub i64);

impl NanoDollars {
    pub const ZERO: NanoDollars = NanoDollars(0);
    /// One dollar.
    pub const DOLLAR: NanoDollars = NanoDollars(1_000_000_000);

    /// `tokens` at a price per token, saturating instead of overflowing.
    pub fn per_token(price_per_token: NanoDollars, tokens: u64) -> NanoDollars {
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        NanoDollars(price_per_token.0.saturating_mul(tokens))
    }

    /// Parses a decimal dollar amount (`"0.000002"`, `"12.5"`) exactly, without floats.
    /// Digits beyond the ninth decimal are rejected rather than rounded.
    pub fn parse_dollars(s: &str) -> Option<NanoDollars> {
        let s = s.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && frac.is_empty() || frac.len() > 9 {
            return None;
        }
        if !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i64>().ok()? * 10_i64.pow(9 - frac.len() as u32)
        };
        let value = whole.checked_mul(1_000_000_000)?.checked_add(frac_value)?;
        Some(NanoDollars(if negative { -value } else { value }))
    }

    /// Saturating addition.
    pub fn saturating_add(self, other: NanoDollars) -> NanoDollars {
        NanoDollars(self.0.saturating_add(other.0))
    }
}

impl NanoDollars {
    /// Dollars as a plain decimal with nine places (`0.000002500`), for headers and JSON.
    pub fn to_decimal_string(self) -> String {
        let text = self.to_string();
        text.replacen('$', "", 1)
    }
}

impl fmt::Display for NanoDollars {
    /// Dollars with all nine decimals, e.g. `$0.000002500`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}${}.{:09}",
            abs / 1_000_000_000,
            abs % 1_000_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dollar_strings_exactly() {
        let cases = [
            ("0.000002", Some(2_000)),
            ("12.5", Some(12_500_000_000)),
            ("1", Some(1_000_000_000)),
            (".5", Some(500_000_000)),
            ("-0.25", Some(-250_000_000)),
            ("0.0000000001", None),
            ("abc", None),
            ("", None),
            ("1.2.3", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                NanoDollars::parse_dollars(input).map(|n| n.0),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn prices_tokens_and_displays() {
        let price = NanoDollars::parse_dollars("0.0000025").unwrap_or_default();
        assert_eq!(NanoDollars::per_token(price, 1000), NanoDollars(2_500_000));
        assert_eq!(NanoDollars(2_500_000).to_string(), "$0.002500000");
        assert_eq!(NanoDollars(-1).to_string(), "-$0.000000001");
        assert_eq!(NanoDollars(2_500_000).to_decimal_string(), "0.002500000");
        assert_eq!(NanoDollars(-1).to_decimal_string(), "-0.000000001");
    }
}
