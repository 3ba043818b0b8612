//! Exact conversion of a JSON number's decimal text to an integer count of small units.
//!
//! No floating point anywhere: the text `3.75E-8` is read as the integer 375 times 10⁻¹⁰ and
//! scaled with integer arithmetic, so a conversion is either exact or reported.
//!
//! One exception, and it is narrow: the source was written by a program that computed some
//! prices in binary floating point and printed them in full, e.g. `3.0001999999999996E-7`
//! (meant: 3.0002E-7) or `0.0000032000000000000003` (3.2/1e6). Such a value is accepted and
//! rounded to the nearest unit only when it has at least [`NOISE_MIN_DIGITS`] significant digits
//! (the length of a fully printed `f64`) *and* rounding moves it by at most one part in
//! 10¹⁵ (a few `f64` ulps): a difference no decimal price can mean. Everything else that does
//! not fit the unit is an error.

/// Significant digits from which a number looks like a fully printed `f64`.
pub const NOISE_MIN_DIGITS: usize = 16;
/// Rounding float noise may move a value by at most `value / NOISE_MAX_RELATIVE`.
const NOISE_MAX_RELATIVE: u128 = 1_000_000_000_000_000;

/// The integer value of a number in units of 10^-`scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaled {
    /// The text is exactly this many units.
    Exact(u64),
    /// The text is floating-point noise around this many units (see the module docs).
    RoundedNoise(u64),
}

impl Scaled {
    pub fn value(self) -> u64 {
        match self {
            Scaled::Exact(v) | Scaled::RoundedNoise(v) => v,
        }
    }
}

/// A non-negative decimal as `digits × 10^exponent`, `digits` without trailing zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub digits: u128,
    pub significant: usize,
    pub exponent: i64,
}

/// Reads JSON number text (`-`? int (`.` frac)? (`e` exp)?); negative numbers are errors
/// because no price or token limit is negative.
pub fn parse(text: &str) -> Result<Decimal, String> {
    let bad = || format!("`{text}` is not a non-negative decimal number");
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative"));
    }
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => {
            let exp = text[i + 1..].strip_prefix('+').unwrap_or(&text[i + 1..]);
            // Bounded so that exponent arithmetic below cannot overflow.
            let exp: i64 = exp.parse().map_err(|_| bad())?;
            if exp.abs() > 1_000 {
                return Err(format!("`{text}`: exponent out of range"));
            }
            (&text[..i], exp)
        }
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let all = format!("{int}{frac}");
    let trimmed = all.trim_start_matches('0');
    let significant_text = trimmed.trim_end_matches('0');
    let trailing_zeros = trimmed.len() - significant_text.len();
    if significant_text.len() > 38 {
        return Err(format!("`{text}` has more than 38 significant digits"));
    }
    let digits = if significant_text.is_empty() {
        0
    } else {
        significant_text.parse::<u128>().map_err(|_| bad())?
    };
    Ok(Decimal {
        digits,
        significant: significant_text.len(),
        exponent: exp - frac.len() as i64 + trailing_zeros as i64,
    })
}

/// `text` in units of 10^-`scale`, exact, or rounded float noise when `allow_noise`.
pub fn to_scaled(text: &str, scale: u32, allow_noise: bool) -> Result<Scaled, String> {
    let d = parse(text)?;
    if d.digits == 0 {
        return Ok(Scaled::Exact(0));
    }
    let shift = d.exponent + i64::from(scale);
    let too_big = || format!("`{text}` is too large for the table");
    if shift >= 0 {
        let factor = pow10(shift).ok_or_else(too_big)?;
        let units = d.digits.checked_mul(factor).ok_or_else(too_big)?;
        return u64::try_from(units)
            .map(Scaled::Exact)
            .map_err(|_| too_big());
    }
    // `digits` has no trailing zeros, so a negative shift always leaves a remainder.
    let inexact = || {
        let noise = if allow_noise {
            " and does not look like float noise"
        } else {
            ""
        };
        format!("`{text}` is not a whole number of 1e-{scale} units{noise}")
    };
    let divisor = pow10(-shift).ok_or_else(inexact)?;
    let (quotient, remainder) = (d.digits / divisor, d.digits % divisor);
    let distance = remainder.min(divisor - remainder);
    let is_noise = allow_noise
        && d.significant >= NOISE_MIN_DIGITS
        && distance
            .checked_mul(NOISE_MAX_RELATIVE)
            .is_some_and(|scaled| scaled <= d.digits);
    if !is_noise {
        return Err(inexact());
    }
    // Half up: the remainder is at least half the divisor.
    let rounded = quotient + u128::from(remainder >= divisor - remainder);
    u64::try_from(rounded)
        .map(Scaled::RoundedNoise)
        .map_err(|_| too_big())
}

fn pow10(exp: i64) -> Option<u128> {
    10u128.checked_pow(u32::try_from(exp).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_exactly_or_rounds_only_float_noise() {
        use Scaled::*;
        // (text, scale, allow_noise) → units or an error fragment
        let cases: [(&str, u32, bool, Result<Scaled, &str>); 20] = [
            ("3.75E-8", 15, true, Ok(Exact(37_500_000))),
            ("2.5e-06", 15, true, Ok(Exact(2_500_000_000))),
            ("0.0000025", 15, true, Ok(Exact(2_500_000_000))),
            ("1e-15", 15, true, Ok(Exact(1))),
            ("0.0", 15, true, Ok(Exact(0))),
            ("0", 15, false, Ok(Exact(0))),
            ("0.00971", 15, true, Ok(Exact(9_710_000_000_000))),
            ("128000", 0, false, Ok(Exact(128_000))),
            ("1.28E+5", 0, false, Ok(Exact(128_000))),
            ("2000.0", 0, false, Ok(Exact(2_000))),
            // float noise from the real file, rounded to the price it stands for
            (
                "3.0001999999999996E-7",
                15,
                true,
                Ok(RoundedNoise(300_020_000)),
            ),
            (
                "0.00007500003000000001",
                15,
                true,
                Ok(RoundedNoise(75_000_030_000)),
            ),
            (
                "0.0000032000000000000003",
                15,
                true,
                Ok(RoundedNoise(3_200_000_000)),
            ),
            (
                "9.499999999999999E-7",
                15,
                true,
                Ok(RoundedNoise(950_000_000)),
            ),
            // ... but never when noise is not allowed
            (
                "3.0001999999999996E-7",
                15,
                false,
                Err("not a whole number"),
            ),
            // a genuinely finer price is an error, not a rounding
            ("1.25e-16", 15, true, Err("not a whole number")),
            // 16 digits but a real difference (one part in 10^10): not noise
            ("1.234567890123456E-7", 15, true, Err("not a whole number")),
            ("-1e-6", 15, true, Err("negative")),
            ("1e30", 15, true, Err("too large")),
            ("12.5", 0, false, Err("not a whole number")),
        ];
        for (text, scale, noise, expected) in cases {
            match (to_scaled(text, scale, noise), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn parses_to_canonical_digits_and_exponent() {
        let cases = [
            ("3.75E-8", (375, 3, -10)),
            ("0.000120", (12, 2, -5)),
            ("1500", (15, 2, 2)),
            ("0.0", (0, 0, -1)),
        ];
        for (text, (digits, significant, exponent)) in cases {
            let d = parse(text).unwrap();
            assert_eq!(
                (d.digits, d.significant, d.exponent),
                (digits, significant, exponent)
            );
        }
        for bad in ["", ".5", "1.2.3", "abc", "1e", "1e2000"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
