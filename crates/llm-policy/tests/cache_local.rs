//! The in-process response cache: the shared behaviour table, TTL expiry and `s-maxage` on
//! tokio's paused clock, and the size bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cache_support;

use cache_support::{Step, shared_behaviour};
use llm_policy::cache::{CacheControl, DEFAULT_MAX_BYTES, ResponseCache};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn cache_local_shared_behaviour() {
    shared_behaviour(|| async { ResponseCache::local(DEFAULT_MAX_BYTES, HOUR) }).await;
    let cache = ResponseCache::local(DEFAULT_MAX_BYTES, HOUR);
    assert_eq!(cache.backend_name(), "local");
    assert_eq!(cache.ping().await, Ok("local"));
}

/// A step of a timed case: wait on the paused clock, or a cache step.
enum Timed {
    Advance(Duration),
    Step(Step),
    /// A lookup with `max_age` and the value expected.
    GetYounger(&'static str, Duration, Option<&'static str>),
}

#[tokio::test(start_paused = true)]
async fn cache_local_ttl_and_max_age_on_the_paused_clock() {
    let ms = Duration::from_millis;
    let secs = Duration::from_secs;
    let s = Timed::Step;
    // (case, default TTL, steps)
    let cases: Vec<(&str, Duration, Vec<Timed>)> = vec![
        (
            "an entry lives exactly its TTL",
            HOUR,
            vec![
                s(Step::Put("a", "one", Some(secs(10)))),
                Timed::Advance(secs(10) - ms(1)),
                s(Step::Get("a", Some("one"))),
                Timed::Advance(ms(1)),
                s(Step::Get("a", None)),
            ],
        ),
        (
            "the default TTL applies when a put gives none",
            secs(5),
            vec![
                s(Step::Put("a", "one", None)),
                s(Step::Put("b", "two", Some(secs(60)))),
                Timed::Advance(secs(5)),
                s(Step::Get("a", None)),
                s(Step::Get("b", Some("two"))),
            ],
        ),
        (
            "a new put starts a new TTL",
            HOUR,
            vec![
                s(Step::Put("a", "one", Some(secs(10)))),
                Timed::Advance(secs(8)),
                s(Step::Put("a", "two", Some(secs(10)))),
                Timed::Advance(secs(8)),
                s(Step::Get("a", Some("two"))),
                Timed::Advance(secs(2)),
                s(Step::Get("a", None)),
            ],
        ),
        (
            "s-maxage: only entries at most that old",
            HOUR,
            vec![
                s(Step::Put("a", "one", None)),
                Timed::Advance(secs(30)),
                Timed::GetYounger("a", secs(30), Some("one")),
                Timed::GetYounger("a", secs(29), None),
                // Too old for one request is still fine for the next.
                s(Step::Get("a", Some("one"))),
                s(Step::Put("a", "two", None)),
                Timed::GetYounger("a", Duration::ZERO, Some("two")),
            ],
        ),
        (
            "an expired entry is not counted by a delete",
            HOUR,
            vec![
                s(Step::Put("a", "one", Some(secs(1)))),
                Timed::Advance(secs(1)),
                s(Step::Delete(&["a"], 0)),
                s(Step::Get("a", None)),
            ],
        ),
        (
            "a TTL over a year is capped, not an overflow",
            HOUR,
            vec![
                s(Step::Put("a", "one", Some(Duration::MAX))),
                Timed::Advance(secs(364 * 24 * 3600)),
                s(Step::Get("a", Some("one"))),
                Timed::Advance(secs(24 * 3600)),
                s(Step::Get("a", None)),
            ],
        ),
    ];
    for (case, default_ttl, steps) in cases {
        let cache = ResponseCache::local(DEFAULT_MAX_BYTES, default_ttl);
        for (i, step) in steps.into_iter().enumerate() {
            let what = format!("{case} / step {i}");
            match step {
                Timed::Advance(by) => tokio::time::advance(by).await,
                Timed::Step(step) => step.run(&cache, &what).await,
                Timed::GetYounger(key, max_age, expected) => {
                    let control = CacheControl {
                        max_age: Some(max_age),
                        ..CacheControl::default()
                    };
                    assert_eq!(
                        cache.lookup(key, &control).await,
                        expected.map(|v| v.as_bytes().to_vec()),
                        "{what}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn cache_local_size_bound_evicts() {
    // (bound, value size, entries put)
    let cases = [
        (64 * 1024_u64, 4 * 1024_usize, 100_usize),
        (1024 * 1024, 100 * 1024, 40),
        (16 * 1024, 1024, 1000),
    ];
    for (bound, size, count) in cases {
        let cache = ResponseCache::local(bound, HOUR);
        for i in 0..count {
            cache.put(&format!("key-{i}"), vec![b'x'; size], None).await;
        }
        let held = cache.local_size().await.unwrap();
        assert!(held <= bound, "{bound}: holds {held} bytes");
        let mut hits = 0;
        for i in 0..count {
            if let Some(value) = cache.get(&format!("key-{i}"), None).await {
                assert_eq!(value.len(), size);
                hits += 1;
            }
        }
        let fit = usize::try_from(bound).unwrap() / size;
        assert!(
            hits >= 1 && hits <= fit,
            "{bound}: {hits} of {count} entries of {size} bytes still served"
        );
    }
    // An answer larger than the whole cache is never kept.
    let cache = ResponseCache::local(1024, HOUR);
    cache.put("big", vec![0; 4096], None).await;
    assert_eq!(cache.local_size().await, Some(0));
    assert_eq!(cache.get("big", None).await, None);
}
