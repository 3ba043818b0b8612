//! Backoff between retries.

use std::time::Duration;

/// Longest wait between two attempts: past this a client is better served by an error.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The longest `Retry-After` a request is held for: past it the client gets the 429 with the
/// header at once (it can wait better than an open connection can), or a fallback serves it.
pub const MAX_HELD_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The wait before retrying on the same deployment, or `None` when the upstream asked for a
/// longer pause than a request is held for.
pub fn wait_before_retry(
    attempt: u32,
    retry_after: Option<Duration>,
    jitter_seed: u64,
) -> Option<Duration> {
    match retry_after {
        Some(wait) if wait > MAX_HELD_RETRY_AFTER => None,
        _ => Some(backoff(attempt, retry_after, jitter_seed)),
    }
}

/// The wait before retry number `attempt` (1-based): the upstream's `Retry-After` when it gave
/// one, else exponential from 100 ms with up to 25% jitter, capped at 10 s.
pub fn backoff(attempt: u32, retry_after: Option<Duration>, jitter_seed: u64) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_BACKOFF);
    }
    let base = Duration::from_millis(100).saturating_mul(1 << attempt.saturating_sub(1).min(10));
    let jitter_permille = jitter_seed % 250;
    let jittered = base + base * jitter_permille as u32 / 1000;
    jittered.min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_retry_after_is_not_held() {
        let s = Duration::from_secs;
        assert_eq!(wait_before_retry(1, Some(s(3)), 0), Some(s(3)));
        assert_eq!(wait_before_retry(1, Some(s(7)), 0), None);
        assert_eq!(
            wait_before_retry(2, None, 0),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn backoff_schedule() {
        let ms = Duration::from_millis;
        let cases = [
            (1, None, 0, ms(100)),
            (2, None, 0, ms(200)),
            (3, None, 0, ms(400)),
            (3, None, 249, Duration::from_micros(499_600)),
            (20, None, 0, MAX_BACKOFF),
            (1, Some(ms(7000)), 0, ms(7000)),
            (1, Some(Duration::from_secs(60)), 0, MAX_BACKOFF),
        ];
        for (attempt, retry_after, seed, expected) in cases {
            assert_eq!(
                backoff(attempt, retry_after, seed),
                expected,
                "attempt {attempt}"
            );
        }
    }
}
