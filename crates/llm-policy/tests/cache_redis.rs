//! The Redis response cache against the real Redis on 127.0.0.1:6379 (a key prefix per
//! test): the shared behaviour table, TTL and `s-maxage` on Redis's clock, two instances
//! sharing entries and deletes, a flush that stays in its prefix, and a Redis that is down or
//! never answers (misses, quickly, counted as errors).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cache_support;

use cache_support::{
    cleanup, connection, eventually, keys, redis_available, redis_cache, shared_behaviour,
    unique_prefix,
};
use deadpool_redis::redis;
use llm_policy::cache::{CacheError, DEFAULT_REDIS_TIMEOUT, ResponseCache};
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn cache_redis_shared_behaviour() {
    if !redis_available() {
        return;
    }
    let mut prefixes = Vec::new();
    shared_behaviour(|| {
        let prefix = unique_prefix("shared");
        prefixes.push(prefix.clone());
        async move { redis_cache(&prefix, HOUR) }
    })
    .await;
    for prefix in prefixes {
        cleanup(&prefix).await;
    }
    let cache = redis_cache(&unique_prefix("ping"), HOUR);
    assert_eq!(cache.backend_name(), "redis");
    assert_eq!(cache.ping().await, Ok("redis"));
}

#[tokio::test]
async fn cache_redis_entries_expire_and_age() {
    if !redis_available() {
        return;
    }
    let prefix = unique_prefix("ttl");
    let cache = redis_cache(&prefix, Duration::from_millis(300));
    let value = b"answer".to_vec();
    // (key, ttl given to put, TTL Redis must hold the key with, in ms: low..=high)
    let cases = [
        ("explicit", Some(Duration::from_millis(200)), 1..=200),
        ("default", None, 1..=300),
        (
            "capped",
            Some(Duration::MAX),
            364 * 86_400_000..=365 * 86_400_000,
        ),
    ];
    for (key, ttl, expected) in cases {
        cache.put(key, value.clone(), ttl).await;
        let pttl: i64 = redis::cmd("PTTL")
            .arg(format!("{prefix}{key}"))
            .query_async(&mut connection().await)
            .await
            .unwrap();
        // Between the put and now the TTL may already have run down to the key's end.
        assert!(
            pttl == -2 || expected.contains(&pttl),
            "{key}: PTTL {pttl}, expected {expected:?}"
        );
    }
    for key in ["explicit", "default"] {
        assert!(
            eventually(Duration::from_secs(5), || async {
                cache.get(key, None).await.is_none()
            })
            .await,
            "{key}: still served after its TTL"
        );
    }
    // s-maxage on the stored time: fresh enough for a minute, soon too old for 20 ms, and
    // the entry stays for requests without a limit.
    assert_eq!(
        cache.get("capped", Some(Duration::from_secs(60))).await,
        Some(value.clone())
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            cache
                .get("capped", Some(Duration::from_millis(20)))
                .await
                .is_none()
        })
        .await
    );
    assert_eq!(cache.get("capped", None).await, Some(value));
    assert_eq!(cache.errors(), 0);
    cleanup(&prefix).await;
}

#[tokio::test]
async fn cache_redis_two_instances_share_entries_and_deletes() {
    if !redis_available() {
        return;
    }
    let prefix = unique_prefix("shared-instances");
    let (a, b) = (redis_cache(&prefix, HOUR), redis_cache(&prefix, HOUR));
    // (writer, reader, key): each instance hits what the other stored.
    for (writer, reader, key) in [(&a, &b, "from-a"), (&b, &a, "from-b")] {
        writer.put(key, key.as_bytes().to_vec(), None).await;
        assert_eq!(
            reader.get(key, None).await,
            Some(key.as_bytes().to_vec()),
            "{key}"
        );
    }
    // A delete on one reaches the other at once (no in-process layer in front).
    assert_eq!(b.delete(&["from-a".to_owned()]).await, 1);
    assert_eq!(a.get("from-a", None).await, None);
    assert_eq!(a.flush_all().await, 1);
    assert_eq!(b.get("from-b", None).await, None);
    assert_eq!((a.errors(), b.errors()), (0, 0));
    cleanup(&prefix).await;
}

#[tokio::test]
async fn cache_redis_flush_touches_only_its_prefix() {
    if !redis_available() {
        return;
    }
    // Prefixes that a careless pattern would confuse: one a prefix of another, glob chars.
    let root = unique_prefix("flush");
    let mine = format!("{root}mine:");
    let others = [
        format!("{root}mine-not:"),
        format!("{root}min?:"),
        format!("{root}other:"),
    ];
    let glob = format!("{root}[g]*:");
    let cache = redis_cache(&mine, HOUR);
    let globbed = redis_cache(&glob, HOUR);
    for i in 0..1200 {
        cache.put(&format!("k{i}"), vec![1], None).await;
    }
    globbed.put("k", vec![1], None).await;
    let mut connection = connection().await;
    for other in &others {
        let _: () = redis::cmd("SET")
            .arg(format!("{other}k"))
            .arg("keep")
            .arg("PX")
            .arg(600_000)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    assert_eq!(
        cache.flush_all().await,
        1200,
        "every key of the prefix, over several SCANs"
    );
    assert_eq!(keys(&mine).await, Vec::<String>::new());
    let mut left = keys(&root).await;
    left.sort();
    let mut expected: Vec<String> = others.iter().map(|o| format!("{o}k")).collect();
    expected.push(format!("{glob}k"));
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(globbed.flush_all().await, 1);
    assert_eq!(keys(&root).await.len(), others.len());
    cleanup(&root).await;
}

#[tokio::test]
async fn cache_redis_down_or_silent_gives_quick_misses() {
    // A Redis that never answers: accepts connections, reads nothing, writes nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("redis://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            sockets.push(socket);
        }
    });
    let prefix = unique_prefix("down");
    for (case, url) in [
        ("refused", "redis://127.0.0.1:1".to_owned()),
        ("silent", silent_url),
    ] {
        let cache = ResponseCache::redis(&url, &prefix, HOUR).unwrap();
        let started = Instant::now();
        cache.put("a", b"one".to_vec(), None).await;
        assert_eq!(cache.get("a", None).await, None, "{case}");
        assert_eq!(cache.get("a", Some(HOUR)).await, None, "{case}");
        assert_eq!(cache.delete(&["a".to_owned()]).await, 0, "{case}");
        assert_eq!(cache.flush_all().await, 0, "{case}");
        assert!(cache.ping().await.is_err(), "{case}");
        let elapsed = started.elapsed();
        // Six calls, each bounded by the 250 ms deadline (plus scheduling on a busy machine).
        assert!(
            elapsed < 6 * DEFAULT_REDIS_TIMEOUT + Duration::from_secs(2),
            "{case}: took {elapsed:?}"
        );
        assert_eq!(
            (cache.hits(), cache.misses(), cache.errors()),
            (0, 2, 6),
            "{case}"
        );
    }
    held.abort();
}

#[test]
fn cache_redis_configuration_errors() {
    let cases = [
        ("redis://127.0.0.1:6379", "", "prefix"),
        ("not a url", "llmgw:cache:", "Redis"),
    ];
    for (url, prefix, says) in cases {
        let CacheError::Config(message) = ResponseCache::redis(url, prefix, HOUR).unwrap_err();
        assert!(message.contains(says), "{url} / {prefix:?}: {message}");
    }
}
