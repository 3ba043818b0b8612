//! Sending a prepared answer, with the scripted fault that corrupts it (if any).
//!
//! Bodies are prepared in full first and the fault decides how much of them goes out and how
//! the body ends: cleanly, with an error (the client sees a truncated body), or never.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::Value;
use tokio::sync::watch;

use crate::faults::Fault;
use crate::stream::Transcript;

/// The body the `garbage` fault sends instead of JSON.
const GARBAGE_JSON: &str = "this is not json {{{";
/// The frame the `garbage` fault sends instead of a chunk.
const GARBAGE_SSE: &str = "data: this is not json\n\n";

type Frame = Result<Bytes, io::Error>;

/// Resolves when the server shuts down, so hung and stalled responses end with it instead of
/// keeping connection tasks (and the test's runtime) alive.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(pub(crate) watch::Receiver<bool>);

impl Shutdown {
    pub(crate) async fn wait(mut self) {
        // An error means the sender is gone, which is a shutdown too.
        let _ = self.0.wait_for(|down| *down).await;
    }

    /// Sleeps for `delay`, cut short by shutdown.
    pub(crate) async fn pause(self, delay: Option<Duration>) {
        if let Some(delay) = delay {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.wait() => {}
            }
        }
    }
}

/// How a body ends after its frames.
enum Tail {
    /// Normally.
    End,
    /// With an error at once: the client sees an incomplete body.
    Abort,
    /// With an error only at shutdown; until then the connection stays open and silent.
    Stall(Shutdown),
}

/// A JSON answer (non-streamed chat, embeddings), corrupted as `fault` says.
pub(crate) fn json(body: &Value, fault: Fault, shutdown: &Shutdown) -> Response {
    match fault {
        Fault::Garbage => {
            ([(header::CONTENT_TYPE, "application/json")], GARBAGE_JSON).into_response()
        }
        Fault::Cut(_) | Fault::StallAfter(_) => {
            let mut bytes = body.to_string().into_bytes();
            bytes.truncate(bytes.len() / 2);
            let tail = match fault {
                Fault::Cut(_) => Tail::Abort,
                _ => Tail::Stall(shutdown.clone()),
            };
            let body = frames_body(vec![Bytes::from(bytes)], None, None, tail);
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Fault::None | Fault::Error(_) | Fault::Hang | Fault::Drip(_) => {
            axum::Json(body).into_response()
        }
    }
}

/// A streamed chat answer, corrupted as `fault` says, its first frame after `delay`.
pub(crate) fn sse(
    transcript: Transcript,
    fault: Fault,
    delay: Option<Duration>,
    shutdown: &Shutdown,
) -> Response {
    let (frames, tail) = match fault {
        Fault::Garbage => (vec![Bytes::from_static(GARBAGE_SSE.as_bytes())], Tail::End),
        Fault::Cut(k) => (transcript.prefix(k).to_vec(), Tail::Abort),
        Fault::StallAfter(k) => (transcript.prefix(k).to_vec(), Tail::Stall(shutdown.clone())),
        Fault::None | Fault::Error(_) | Fault::Hang | Fault::Drip(_) => {
            (transcript.frames, Tail::End)
        }
    };
    let drip = match fault {
        Fault::Drip(ms) => Some((Duration::from_millis(ms), shutdown.clone())),
        _ => None,
    };
    let delay = delay.map(|d| (d, shutdown.clone()));
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        frames_body(frames, delay, drip, tail),
    )
        .into_response();
    if fault == Fault::Garbage {
        // "Then the connection closes": the client must not wait for more frames.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn frames_body(
    frames: Vec<Bytes>,
    delay: Option<(Duration, Shutdown)>,
    drip: Option<(Duration, Shutdown)>,
    tail: Tail,
) -> Body {
    let pause = stream::once(async move {
        if let Some((delay, shutdown)) = delay {
            shutdown.pause(Some(delay)).await;
        }
    })
    .filter_map(|()| std::future::ready(None::<Frame>));
    let tail: BoxStream<'static, Frame> = match tail {
        Tail::End => stream::empty().boxed(),
        Tail::Abort => stream::once(async {
            // Pending once first: hyper flushes what it has buffered only when the body is
            // pending, and drops it unsent if the error comes straight after the data.
            tokio::task::yield_now().await;
            Err(cut())
        })
        .boxed(),
        Tail::Stall(shutdown) => stream::once(async move {
            shutdown.wait().await;
            Err(cut())
        })
        .boxed(),
    };
    let frames = stream::iter(frames).then(move |frame| {
        let drip = drip.clone();
        async move {
            if let Some((every, shutdown)) = drip {
                shutdown.pause(Some(every)).await;
            }
            Ok(frame)
        }
    });
    Body::from_stream(pause.chain(frames).chain(tail))
}

fn cut() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "scripted mock fault: body cut short",
    )
}
