//! The arithmetic of the benchmark: percentiles and the open-loop schedule.

use std::time::Duration;

use serde::Serialize;

/// Nearest-rank percentile (`p` in `0..=100`) of an ascending slice; `None` when empty.
/// Nearest rank reports a latency that was actually observed, never an interpolation.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p / 100.0 * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// When request `i` of an open loop at `rate` requests per second is due, from the loop's
/// start. Integer nanoseconds, so the schedule does not drift over long runs.
pub fn scheduled_offset(i: u64, rate: u32) -> Duration {
    Duration::from_nanos(i.saturating_mul(1_000_000_000) / u64::from(rate.max(1)))
}

/// How many requests an open loop at `rate` schedules in `span`.
pub fn request_count(rate: u32, span: Duration) -> u64 {
    let n = u128::from(rate) * span.as_nanos() / 1_000_000_000;
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A duration in fractional milliseconds, the unit of every report.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Latency percentiles of one set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Percentiles {
    pub samples: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    /// Sorts `samples` in place; `None` when there are none.
    pub fn of(samples: &mut [Duration]) -> Option<Self> {
        samples.sort_unstable();
        let at = |p| percentile(samples, p).map(ms);
        Some(Percentiles {
            samples: samples.len(),
            p50_ms: at(50.0)?,
            p90_ms: at(90.0)?,
            p99_ms: at(99.0)?,
            max_ms: at(100.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let one_to_hundred: Vec<u64> = (1..=100).collect();
        let cases: &[(&[u64], f64, Option<u64>)] = &[
            (&one_to_hundred, 50.0, Some(50)),
            (&one_to_hundred, 90.0, Some(90)),
            (&one_to_hundred, 99.0, Some(99)),
            (&one_to_hundred, 100.0, Some(100)),
            (&one_to_hundred, 0.0, Some(1)),
            (&[7], 50.0, Some(7)),
            (&[7], 99.0, Some(7)),
            (&[1, 2, 3, 4], 50.0, Some(2)),
            (&[1, 2, 3, 4], 51.0, Some(3)),
            (&[1, 2, 3, 4], 99.0, Some(4)),
            (&[], 50.0, None),
        ];
        for &(input, p, want) in cases {
            let got = percentile(&millis(input), p);
            assert_eq!(got, want.map(Duration::from_millis), "p{p} of {input:?}");
        }
    }

    #[test]
    fn percentiles_sort_their_input() {
        let mut samples = millis(&[30, 10, 20]);
        let p = Percentiles::of(&mut samples).unwrap();
        assert_eq!((p.samples, p.p50_ms, p.max_ms), (3, 20.0, 30.0));
        assert_eq!(Percentiles::of(&mut []), None);
    }

    #[test]
    fn open_loop_schedule() {
        let cases: &[(u64, u32, u64)] = &[
            (0, 500, 0),
            (1, 500, 2_000_000),
            (500, 500, 1_000_000_000),
            (1, 3, 333_333_333),
            (2, 3, 666_666_666),
            (3, 3, 1_000_000_000),
            // A zero rate is clamped rather than dividing by zero.
            (1, 0, 1_000_000_000),
        ];
        for &(i, rate, nanos) in cases {
            assert_eq!(
                scheduled_offset(i, rate),
                Duration::from_nanos(nanos),
                "i={i} rate={rate}"
            );
        }
        let offsets: Vec<Duration> = (0..1000).map(|i| scheduled_offset(i, 997)).collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "schedule is strictly increasing"
        );
    }

    #[test]
    fn request_counts() {
        assert_eq!(request_count(500, Duration::from_secs(5)), 2500);
        assert_eq!(request_count(500, Duration::from_millis(1500)), 750);
        assert_eq!(request_count(3, Duration::from_millis(500)), 1);
        assert_eq!(request_count(0, Duration::from_secs(5)), 0);
    }
}
