//! Budget periods: LiteLLM's `budget_duration` strings (`30s`, `15m`, `1h`, `1d`, `30d`) and
//! where the current period of a budget ends.

use std::time::Duration;

/// Parses `<n><unit>` with unit `s`, `m`, `h`, `d` or `mo` (30 days, as LiteLLM counts it).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "mo" => 30 * 86_400,
        _ => return None,
    };
    n.checked_mul(seconds).map(Duration::from_secs)
}

/// The end (ms) of the period containing `now_ms`, for a budget whose recorded period ends
/// at `reset_at_ms` and lasts `duration`: `reset_at_ms` itself while it is in the future,
/// else the first `reset_at_ms + k * duration` after `now_ms`. Every instance computes the
/// same answer from the same record, without asking the database.
pub fn current_period_end(reset_at_ms: i64, duration: Duration, now_ms: i64) -> i64 {
    if now_ms < reset_at_ms {
        return reset_at_ms;
    }
    let length = i64::try_from(duration.as_millis())
        .unwrap_or(i64::MAX)
        .max(1);
    let periods_passed = (now_ms - reset_at_ms) / length + 1;
    reset_at_ms.saturating_add(periods_passed.saturating_mul(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_litellm() {
        let cases = [
            ("30s", Some(30)),
            ("15m", Some(900)),
            ("1h", Some(3_600)),
            ("1d", Some(86_400)),
            ("30d", Some(2_592_000)),
            ("2w", Some(1_209_600)),
            ("1mo", Some(2_592_000)),
            (" 7d ", Some(604_800)),
            ("0d", None),
            ("d", None),
            ("10", None),
            ("1y", None),
            ("-1d", None),
            ("", None),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                seconds.map(Duration::from_secs),
                "{text:?}"
            );
        }
    }

    #[test]
    fn period_end_rolls_forward_in_whole_periods() {
        let hour = Duration::from_secs(3_600);
        let cases = [
            // (recorded end, now, current end)
            (10_000, 5_000, 10_000),
            (10_000, 10_000, 3_610_000),
            (10_000, 3_609_999, 3_610_000),
            (10_000, 3_610_000, 7_210_000),
            (10_000, 100 * 3_600_000, 100 * 3_600_000 + 10_000),
        ];
        for (reset_at, now, expected) in cases {
            assert_eq!(
                current_period_end(reset_at, hour, now),
                expected,
                "{reset_at} {now}"
            );
        }
    }
}
