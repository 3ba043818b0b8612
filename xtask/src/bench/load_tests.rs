//! Tests of the load generator against a stand-in server on an ephemeral port.

use super::*;
use crate::bench::open::open_loop;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

const SSE: &str = "data: {\"choices\":[]}\n\ndata: [DONE]\n\n";

/// A server with one route per behaviour the generator must classify; returns its base URL.
async fn stand_in() -> String {
    let app = Router::new()
        .route("/ok", post(|| async { r#"{"choices":[]}"# }))
        .route("/stream", post(|| async { SSE }))
        .route(
            "/deny",
            post(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    r#"{"error":{"message":"bad key"}}"#,
                )
            }),
        )
        .route("/empty-stream", post(|| async { "" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn target(base: &str, path: &str, stream: bool) -> Arc<Target> {
    Arc::new(Target {
        url: format!("{base}{path}"),
        auth: "Bearer sk-test".into(),
        body: Bytes::from_static(b"{}"),
        stream,
    })
}

#[test]
fn data_events_across_chunk_boundaries() {
    let cases: &[(&[&str], bool)] = &[
        (&["data: {}\n\n"], true),
        (&[": ping\n\n", "data: x"], true),
        (&["da", "ta: x"], true),
        (&["d", "a", "t", "a", ":"], true),
        (&["dat", "x", "a:"], false),
        (&["event: x\n", "id: 1\n"], false),
        (&[], false),
    ];
    for &(chunks, want) in cases {
        let mut events = DataEvents::default();
        let got = chunks.iter().any(|c| events.feed(c.as_bytes()));
        assert_eq!(got, want, "{chunks:?}");
    }
}

#[test]
fn tally_counts_errors_by_kind() {
    let mut tally = Tally::default();
    assert_eq!(tally.error_ratio(), 1.0, "nothing sent is a failure");
    let err = |kind: &str| {
        Err::<(), _>(RequestError {
            kind: kind.into(),
            detail: format!("{kind} detail"),
        })
    };
    tally.record(&Ok::<(), RequestError>(()));
    tally.record(&err("HTTP 401"));
    tally.record(&err("HTTP 401"));
    tally.record(&err("connect"));
    assert_eq!((tally.ok, tally.errors), (1, 3));
    assert_eq!(tally.error_kinds["HTTP 401"], 2);
    assert_eq!(tally.first_error.as_deref(), Some("HTTP 401 detail"));
    assert_eq!(tally.error_ratio(), 0.75);
}

#[tokio::test]
async fn send_classifies_responses() {
    let base = stand_in().await;
    let client = client(4).unwrap();
    let ok = send(&client, &target(&base, "/ok", false), Instant::now()).await;
    let timing = ok.unwrap();
    assert!(timing.first <= timing.total);

    let stream = send(&client, &target(&base, "/stream", true), Instant::now()).await;
    assert!(stream.is_ok());

    let denied = send(&client, &target(&base, "/deny", false), Instant::now()).await;
    let denied = denied.unwrap_err();
    assert_eq!(denied.kind, "HTTP 401");
    assert!(denied.detail.contains("bad key"), "{}", denied.detail);

    let empty = send(
        &client,
        &target(&base, "/empty-stream", true),
        Instant::now(),
    )
    .await;
    assert_eq!(empty.unwrap_err().kind, "stream without data event");

    // Nothing listens on port 1 of the loopback.
    let refused = send(
        &client,
        &target("http://127.0.0.1:1", "/", false),
        Instant::now(),
    )
    .await;
    assert_eq!(refused.unwrap_err().kind, "connect");
}

#[tokio::test]
async fn closed_loop_counts_completions() {
    let base = stand_in().await;
    let client = client(4).unwrap();
    let (warmup, duration) = (Duration::from_millis(50), Duration::from_millis(200));
    let ok = closed_loop(
        &client,
        &target(&base, "/stream", true),
        4,
        warmup,
        duration,
    )
    .await;
    assert!(ok.tally.ok > 0, "{ok:?}");
    assert_eq!(ok.tally.errors, 0, "{ok:?}");
    assert!(ok.throughput_rps > 0.0);

    let denied = closed_loop(&client, &target(&base, "/deny", false), 2, warmup, duration).await;
    assert_eq!(denied.tally.ok, 0);
    assert!(denied.tally.errors > 0);
    assert_eq!(
        denied.tally.error_kinds.keys().collect::<Vec<_>>(),
        ["HTTP 401"]
    );
}

#[tokio::test]
async fn open_loop_sends_exactly_the_schedule() {
    let base = stand_in().await;
    let client = client(4).unwrap();
    let (warmup, duration) = (Duration::from_millis(50), Duration::from_millis(250));
    // 200 req/s: 10 warm-up requests, then 50 counted ones.
    let run = open_loop(
        &client,
        &target(&base, "/stream", true),
        200,
        warmup,
        duration,
    )
    .await;
    assert_eq!((run.tally.ok, run.tally.errors), (50, 0), "{run:?}");
    let latency = run.latency.unwrap();
    let first = run.first_byte.unwrap();
    assert_eq!(latency.samples, 50);
    assert!(first.p50_ms <= latency.p50_ms);
    assert_eq!(run.dispatch_lag.unwrap().samples, 50);

    let denied = open_loop(
        &client,
        &target(&base, "/deny", false),
        200,
        warmup,
        duration,
    )
    .await;
    assert_eq!((denied.tally.ok, denied.tally.errors), (0, 50));
    assert_eq!(denied.latency, None);
}
