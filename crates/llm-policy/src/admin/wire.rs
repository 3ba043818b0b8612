//! The admin API's wire conversions: LiteLLM's float dollars to exact nano-dollars and back,
//! ISO 8601 times to UNIX milliseconds and back, and duration strings. Every failure is a
//! 400 naming the field.

use llm_types::Error;
use llm_types::money::NanoDollars;

use crate::records::Limits;

/// Float dollars from the JSON to nano-dollars, exactly: the float's shortest decimal form
/// is parsed, so `0.1` is 100 000 000 nano-dollars, not a binary approximation. Negative,
/// non-finite and sub-nano amounts are refused.
pub fn dollars_in(field: &str, dollars: f64) -> Result<NanoDollars, Error> {
    if !dollars.is_finite() || dollars < 0.0 {
        return Err(Error::invalid_param(
            field,
            format!("`{field}` must be a non-negative amount of dollars"),
        ));
    }
    NanoDollars::parse_dollars(&format!("{dollars}")).ok_or_else(|| {
        Error::invalid_param(
            field,
            format!("`{field}` must be a dollar amount with at most 9 decimals"),
        )
    })
}

pub fn opt_dollars_in(field: &str, dollars: Option<f64>) -> Result<Option<NanoDollars>, Error> {
    dollars.map(|d| dollars_in(field, d)).transpose()
}

/// Nano-dollars to LiteLLM's float dollars (display only; sums stay integers).
pub fn dollars_out(amount: NanoDollars) -> f64 {
    amount.0 as f64 / 1e9
}

/// A `budget_duration`/`duration` string checked with [`crate::period::parse_duration`];
/// returns the text and the length in ms.
pub fn duration_in(field: &str, text: &str) -> Result<(String, i64), Error> {
    crate::period::parse_duration(text)
        .map(|d| {
            (
                text.trim().to_owned(),
                i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            )
        })
        .ok_or_else(|| {
            Error::invalid_param(
                field,
                format!(
                    "`{field}` must be a duration like `30s`, `15m`, `1h`, `1d`, `2w` or `1mo`"
                ),
            )
        })
}

/// `2026-11-25T03:42:00.000Z` for a UNIX millisecond time.
pub fn iso_out(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000
    )
}

pub fn opt_iso_out(ms: Option<i64>) -> Option<String> {
    ms.map(iso_out)
}

/// Whether a date had a time part: `YYYY-MM-DD` means the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Day,
    Instant,
}

/// Parses `YYYY-MM-DD` or RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`, a space for the
/// `T`, no zone meaning UTC) into UNIX ms; 400 naming `field` otherwise.
pub fn time_in(field: &str, text: &str) -> Result<(i64, Precision), Error> {
    parse_time(text.trim()).ok_or_else(|| {
        Error::invalid_param(
            field,
            format!("`{field}` must be a date (YYYY-MM-DD) or an RFC 3339 time"),
        )
    })
}

fn parse_time(text: &str) -> Option<(i64, Precision)> {
    let digits = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let date = text.get(..10)?;
    let (y, m, d) = (
        digits(date.get(..4)?)?,
        digits(date.get(5..7)?)?,
        digits(date.get(8..10)?)?,
    );
    if date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
        return None;
    }
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let day_ms = days_from_civil(y, m, d) * 86_400_000;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some((day_ms, Precision::Day));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (h, mi, s) = (
        digits(rest.get(..2)?)?,
        digits(rest.get(3..5)?)?,
        digits(rest.get(6..8)?)?,
    );
    if rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &rest[8..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        let frac = &fraction[..end];
        if frac.is_empty() {
            return None;
        }
        millis = digits(&format!("{:0<3}", &frac[..frac.len().min(3)]))?;
        rest = &fraction[end..];
    }
    let offset_ms = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (zh, zm) = zone[1..].split_once(':')?;
            sign * (digits(zh)? * 3_600_000 + digits(zm)? * 60_000)
        }
    };
    let ms = day_ms + h * 3_600_000 + mi * 60_000 + s * 1_000 + millis - offset_ms;
    Some((ms, Precision::Instant))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The spend, budget and rate limits of a key, user or team as the admin API shows them
/// (LiteLLM's flat fields, flattened into each object).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LimitsOut {
    pub spend: f64,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<String>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
}

impl LimitsOut {
    pub fn of(limits: &Limits, spend: NanoDollars, budget_reset_at: Option<i64>) -> LimitsOut {
        LimitsOut {
            spend: dollars_out(spend),
            max_budget: limits.max_budget.map(dollars_out),
            soft_budget: limits.soft_budget.map(dollars_out),
            budget_duration: limits.budget_duration.clone(),
            budget_reset_at: opt_iso_out(budget_reset_at),
            rpm_limit: limits.rpm_limit,
            tpm_limit: limits.tpm_limit,
            max_parallel_requests: limits.max_parallel_requests,
        }
    }
}

/// The budget and rate-limit members of a key, user or team request, as given.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitFields<'a> {
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub budget_duration: Option<&'a str>,
    pub rpm_limit: Option<u64>,
    pub tpm_limit: Option<u64>,
    pub max_parallel_requests: Option<u64>,
}

/// Applies the members given (an absent one leaves the stored value); a new
/// `budget_duration` starts its first period now.
pub fn apply_limits(
    fields: LimitFields<'_>,
    limits: &mut Limits,
    budget_reset_at: &mut Option<i64>,
    now_ms: i64,
) -> Result<(), Error> {
    let max_budget = opt_dollars_in("max_budget", fields.max_budget)?;
    let soft_budget = opt_dollars_in("soft_budget", fields.soft_budget)?;
    if let Some(text) = fields.budget_duration {
        let (text, ms) = duration_in("budget_duration", text)?;
        limits.budget_duration = Some(text);
        *budget_reset_at = Some(now_ms.saturating_add(ms));
    }
    let replace = |slot: &mut Option<u64>, value: Option<u64>| {
        if value.is_some() {
            *slot = value;
        }
    };
    if max_budget.is_some() {
        limits.max_budget = max_budget;
    }
    if soft_budget.is_some() {
        limits.soft_budget = soft_budget;
    }
    replace(&mut limits.rpm_limit, fields.rpm_limit);
    replace(&mut limits.tpm_limit, fields.tpm_limit);
    replace(
        &mut limits.max_parallel_requests,
        fields.max_parallel_requests,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_convert_exactly() {
        let cases = [
            (0.1, Some(100_000_000)),
            (10.0, Some(10_000_000_000)),
            (0.000_000_001, Some(1)),
            (1e-10, None),
            (-1.0, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
        ];
        for (dollars, expected) in cases {
            let got = dollars_in("max_budget", dollars).map(|n| n.0);
            match expected {
                Some(n) => assert_eq!(got, Ok(n), "{dollars}"),
                None => assert_eq!(got.unwrap_err().param.as_deref(), Some("max_budget")),
            }
        }
        assert_eq!(dollars_out(NanoDollars(2_500_000_000)), 2.5);
    }

    #[test]
    fn times_parse_and_print() {
        let cases = [
            ("1970-01-01", Some((0, Precision::Day))),
            ("2024-02-29", Some((1_709_164_800_000, Precision::Day))),
            ("2023-02-29", None),
            ("2024-13-01", None),
            ("2024-1-01", None),
            (
                "2024-02-29T12:30:15Z",
                Some((1_709_209_815_000, Precision::Instant)),
            ),
            (
                "2024-02-29T12:30:15.5+02:00",
                Some((1_709_202_615_500, Precision::Instant)),
            ),
            (
                "2024-02-29 12:30:15.123456",
                Some((1_709_209_815_123, Precision::Instant)),
            ),
            ("2024-02-29T12:30", None),
            ("yesterday", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_time(text), expected, "{text}");
        }
        assert_eq!(iso_out(1_709_209_815_123), "2024-02-29T12:30:15.123Z");
        assert_eq!(iso_out(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_out(-1), "1969-12-31T23:59:59.999Z");
    }
}
