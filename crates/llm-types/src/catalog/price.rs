//! Per-token prices as exact integers, and the cost of a call's [`Usage`].
//!
//! A price is stored in nano-dollars per million tokens (10⁻¹⁵ USD per token). Per-token prices
//! are fractions of a nano-dollar (`3.75E-8` USD is 37.5 nano-dollars), so nano-dollars per token
//! would round them; 10⁻¹⁵ holds every price of the source data exactly (the finest needs 10⁻¹²)
//! and reads like a provider's price list (`$2.50 / 1M tokens` = 2,500,000,000).

use std::fmt;

use crate::Usage;
use crate::money::NanoDollars;

/// Price units in one nano-dollar: a price is nano-dollars per this many tokens.
const PER_NANO: u128 = 1_000_000;
/// Decimal places of a price in dollars per token.
const SCALE: u32 = 15;

/// A price per token, in nano-dollars per million tokens (10⁻¹⁵ USD per token).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenPrice(pub u64);

impl TokenPrice {
    /// Nano-dollars per million tokens.
    pub const fn nanos_per_million(self) -> u64 {
        self.0
    }

    /// Parses a price in dollars per token as configs and LiteLLM write it (`0.0000025`,
    /// `2.5e-06`), exactly, without floats. `None` when negative, malformed, too large, or finer
    /// than 10⁻¹⁵ dollars (digits are never silently dropped).
    pub fn parse_per_token(s: &str) -> Option<TokenPrice> {
        let s = s.trim();
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => {
                let exp = &s[i + 1..];
                let exp: i32 = exp.strip_prefix('+').unwrap_or(exp).parse().ok()?;
                (&s[..i], exp)
            }
            None => (s, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        let significant = digits.trim_end_matches('0');
        if significant.is_empty() {
            return Some(TokenPrice(0));
        }
        let trailing = (digits.len() - significant.len()) as i64;
        // value = significant × 10^shift units
        let shift = i64::from(exp) - frac.len() as i64 + trailing + i64::from(SCALE);
        let value: u128 = significant.parse().ok()?;
        let factor = 10u128.checked_pow(u32::try_from(shift).ok()?)?;
        u64::try_from(value.checked_mul(factor)?)
            .ok()
            .map(TokenPrice)
    }

    /// The exact cost of `tokens` at this price, in units of 10⁻¹⁵ dollars (saturating).
    fn units(self, tokens: u64) -> u128 {
        u128::from(self.0).saturating_mul(u128::from(tokens))
    }
}

impl fmt::Display for TokenPrice {
    /// Dollars per token, exactly and without trailing zeros: `0.0000025`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = 10u64.pow(SCALE);
        let (whole, frac) = (self.0 / unit, self.0 % unit);
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let frac = format!("{frac:015}");
        write!(f, "{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// The per-token prices of a model; `None` where the source gives none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prices {
    pub input: Option<TokenPrice>,
    pub output: Option<TokenPrice>,
    /// Prompt tokens read from the provider's cache.
    pub cache_read: Option<TokenPrice>,
    /// Prompt tokens written to the provider's cache.
    pub cache_creation: Option<TokenPrice>,
    /// Hidden reasoning tokens, where the provider prices them apart from output.
    pub reasoning: Option<TokenPrice>,
}

impl Prices {
    /// The exact cost of `usage`, rounded once, at the end, to the nearest nano-dollar (half up).
    ///
    /// - `prompt_tokens` includes cache reads and writes (see [`Usage::with_cache`]): the rest
    ///   is billed at `input`, cache reads at `cache_read`, cache writes at `cache_creation`.
    ///   A missing cache price falls back to `input`: billing a cached token as a plain one
    ///   overstates spend a little, while billing it as free would let budgets be overrun.
    /// - `completion_tokens` includes reasoning tokens (OpenAI's convention). With a
    ///   `reasoning` price they are billed at it, the rest at `output`; without, all at `output`.
    /// - A missing `input` or `output` price counts as zero: callers that must not undercharge
    ///   check for it (or configure a price) before trusting the figure.
    /// - Counts that exceed their total (a provider reporting more cached than prompt tokens)
    ///   are clamped to it; nothing overflows (the sum saturates).
    pub fn cost(&self, usage: &Usage) -> NanoDollars {
        let zero = TokenPrice(0);
        let input = self.input.unwrap_or(zero);
        let output = self.output.unwrap_or(zero);
        let prompt = usage.prompt_tokens;
        let cached = usage.cached_tokens().min(prompt);
        let created = usage.cache_creation_tokens().min(prompt - cached);
        let uncached = prompt - cached - created;
        let completion = usage.completion_tokens;
        let reasoning = match self.reasoning {
            Some(_) => usage.reasoning_tokens().min(completion),
            None => 0,
        };
        let units = [
            input.units(uncached),
            self.cache_read.unwrap_or(input).units(cached),
            self.cache_creation.unwrap_or(input).units(created),
            output.units(completion - reasoning),
            self.reasoning.unwrap_or(output).units(reasoning),
        ]
        .into_iter()
        .fold(0u128, u128::saturating_add);
        let nanos = units.saturating_add(PER_NANO / 2) / PER_NANO;
        NanoDollars(i64::try_from(nanos).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompletionTokensDetails;

    #[test]
    fn parses_prices_exactly() {
        let cases = [
            ("0.0000025", Some(2_500_000_000)),
            ("2.5e-06", Some(2_500_000_000)),
            ("3.75E-8", Some(37_500_000)),
            ("1e-15", Some(1)),
            ("1E+0", Some(1_000_000_000_000_000)),
            ("0", Some(0)),
            ("0.0", Some(0)),
            (" 0.00001 ", Some(10_000_000_000)),
            ("1.5e-16", None),
            ("-1e-6", None),
            ("", None),
            (".", None),
            ("1e", None),
            ("abc", None),
            ("1e30", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                TokenPrice::parse_per_token(input),
                expected.map(TokenPrice),
                "{input:?}"
            );
        }
    }

    #[test]
    fn displays_dollars_per_token() {
        let cases = [
            (2_500_000_000, "0.0000025"),
            (37_500_000, "0.0000000375"),
            (1, "0.000000000000001"),
            (0, "0"),
            (1_500_000_000_000_000, "1.5"),
        ];
        for (units, text) in cases {
            assert_eq!(TokenPrice(units).to_string(), text);
            assert_eq!(TokenPrice::parse_per_token(text), Some(TokenPrice(units)));
        }
    }

    fn usage(prompt: u64, completion: u64, cached: u64, created: u64, reasoning: u64) -> Usage {
        let mut u = Usage::new(prompt, completion).with_cache(Some(cached), Some(created));
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..Default::default()
        });
        u
    }

    fn price(per_token: &str) -> Option<TokenPrice> {
        TokenPrice::parse_per_token(per_token)
    }

    #[test]
    fn costs_are_exact_and_rounded_once_half_up() {
        let full = Prices {
            input: price("1e-6"),
            output: price("2e-6"),
            cache_read: price("1e-7"),
            cache_creation: price("1.25e-6"),
            reasoning: price("3e-6"),
        };
        let sub_nano = Prices {
            input: price("3.75e-8"),  // 37.5 nano-dollars per token
            output: price("8.75e-9"), // 8.75
            ..Prices::default()
        };
        // (prices, usage(prompt, completion, cached, created, reasoning), nano-dollars)
        let cases = [
            // 10·1000 uncached + 6·2000 output + 4·3000 reasoning
            (full, usage(10, 10, 0, 0, 4), 34_000),
            // 4 uncached·1000 + 5 read·100 + 1 written·1250 + 10 output·2000
            (full, usage(10, 10, 5, 1, 0), 25_750),
            // no cache or reasoning prices: everything at input / output
            (
                Prices {
                    cache_read: None,
                    cache_creation: None,
                    reasoning: None,
                    ..full
                },
                usage(10, 10, 5, 1, 4),
                30_000,
            ),
            // 37.5 → 38 (half up), 75 stays, 112.5 → 113
            (sub_nano, usage(1, 0, 0, 0, 0), 38),
            (sub_nano, usage(2, 0, 0, 0, 0), 75),
            (sub_nano, usage(3, 0, 0, 0, 0), 113),
            // rounding happens once: 37.5 + 8.75 = 46.25 → 46, not 38 + 9
            (sub_nano, usage(1, 1, 0, 0, 0), 46),
            // 8.75 · 2 = 17.5 → 18
            (sub_nano, usage(0, 2, 0, 0, 0), 18),
            // more cached than prompt tokens: clamped, 10 read·100 + 0 output
            (full, usage(10, 0, 50, 7, 0), 1_000),
            (Prices::default(), usage(1_000, 1_000, 0, 0, 0), 0),
        ];
        for (prices, usage, nanos) in cases {
            assert_eq!(
                prices.cost(&usage),
                NanoDollars(nanos),
                "{prices:?} {usage:?}"
            );
        }
    }

    #[test]
    fn huge_counts_saturate_instead_of_overflowing() {
        let prices = Prices {
            input: Some(TokenPrice(u64::MAX)),
            output: Some(TokenPrice(u64::MAX)),
            ..Prices::default()
        };
        let usage = Usage {
            prompt_tokens: u64::MAX,
            completion_tokens: u64::MAX,
            ..Usage::default()
        };
        assert_eq!(prices.cost(&usage), NanoDollars(i64::MAX));
    }
}
