//! The open loop: requests start on a fixed schedule, whatever the server does.
//!
//! Each latency is measured from the request's *scheduled* start. A closed loop waits for a
//! slow response before sending the next request and so never sees the queue it caused
//! ("coordinated omission"); a schedule does.
//!
//! Measuring from the schedule makes the generator's own punctuality part of every number,
//! and tokio's timer has millisecond granularity: paced by `tokio::time::sleep_until`, requests
//! started ~1.4 ms late at the median, more than the mock's whole response time. So a
//! dedicated pacing thread (outside the runtime, so it blocks no worker) waits with
//! `thread::park_timeout`, which the kernel honours to tens of microseconds, and spawns each
//! request onto the runtime on time. How late it still was is reported as `dispatch_lag`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::{JoinError, JoinHandle};

use super::load::{RequestError, Tally, Target, Timing, send, task_failure};
use super::stats::{Percentiles, request_count, scheduled_offset};

/// Never more requests in flight than this: past it the server is far beyond saturation, and
/// the scheduled-start latencies already show it.
const MAX_IN_FLIGHT: usize = 512;

/// What an open loop measured.
#[derive(Debug, Clone, Serialize)]
pub struct OpenLoop {
    pub rate: u32,
    pub seconds: f64,
    /// Scheduled start to end of body.
    pub latency: Option<Percentiles>,
    /// Scheduled start to response headers (plain) or first `data:` event (stream).
    pub first_byte: Option<Percentiles>,
    /// How late the generator itself started requests: a floor under the latencies above.
    pub dispatch_lag: Option<Percentiles>,
    #[serde(flatten)]
    pub tally: Tally,
}

/// The outcome of one scheduled request.
struct Sample {
    /// False during the warm-up.
    counted: bool,
    lag: Duration,
    outcome: Result<Timing, RequestError>,
}

/// Starts requests at `rate` per second for `warmup + duration`; requests scheduled in the
/// warm-up are sent but not counted.
pub async fn open_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    rate: u32,
    warmup: Duration,
    duration: Duration,
) -> OpenLoop {
    let skip = request_count(rate, warmup);
    let total = skip + request_count(rate, duration);
    let (tx, mut rx) = unbounded_channel();
    let pacer = Pacer {
        runtime: Handle::current(),
        client: client.clone(),
        target: Arc::clone(target),
        rate,
        skip,
        total,
    };
    let mut results = Results::default();
    let spawned = std::thread::Builder::new()
        .name("bench-pacer".into())
        .spawn(move || pacer.run(&tx));
    if let Err(e) = spawned {
        results.tally.record::<()>(&Err(RequestError {
            kind: "pacer thread".into(),
            detail: format!("could not start the pacing thread: {e}"),
        }));
    }
    // The channel closes when the pacer is done and has dropped its sender.
    while let Some(task) = rx.recv().await {
        results.add(task.await);
    }
    OpenLoop {
        rate,
        seconds: duration.as_secs_f64(),
        latency: Percentiles::of(&mut results.total),
        first_byte: Percentiles::of(&mut results.first),
        dispatch_lag: Percentiles::of(&mut results.lag),
        tally: results.tally,
    }
}

/// The pacing thread's state.
struct Pacer {
    runtime: Handle,
    client: reqwest::Client,
    target: Arc<Target>,
    rate: u32,
    skip: u64,
    total: u64,
}

impl Pacer {
    /// Spawns every request on schedule and hands its task to `tasks`.
    fn run(self, tasks: &UnboundedSender<JoinHandle<Sample>>) {
        let gate = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let start = Instant::now();
        for i in 0..self.total {
            let due = start + scheduled_offset(i, self.rate);
            wait_until(due);
            // Blocks this thread only; past the cap, lateness shows in the latencies.
            let Ok(permit) = self.runtime.block_on(Arc::clone(&gate).acquire_owned()) else {
                return; // The semaphore is never closed.
            };
            let lag = Instant::now().saturating_duration_since(due);
            let (client, target) = (self.client.clone(), Arc::clone(&self.target));
            let counted = i >= self.skip;
            let task = self.runtime.spawn(async move {
                let origin = tokio::time::Instant::from_std(due);
                let outcome = send(&client, &target, origin).await;
                drop(permit);
                Sample {
                    counted,
                    lag,
                    outcome,
                }
            });
            if tasks.send(task).is_err() {
                return; // Nobody is collecting any more.
            }
        }
    }
}

/// Blocks the pacing thread until `due`. `park_timeout` may wake early (spuriously or on
/// `unpark`), hence the loop.
fn wait_until(due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        std::thread::park_timeout(due - now);
    }
}

#[derive(Default)]
struct Results {
    total: Vec<Duration>,
    first: Vec<Duration>,
    lag: Vec<Duration>,
    tally: Tally,
}

impl Results {
    fn add(&mut self, joined: Result<Sample, JoinError>) {
        match joined {
            Ok(sample) if sample.counted => {
                self.lag.push(sample.lag);
                if let Ok(timing) = &sample.outcome {
                    self.total.push(timing.total);
                    self.first.push(timing.first);
                }
                self.tally.record(&sample.outcome);
            }
            Ok(_) => {}
            Err(e) => self.tally.merge(task_failure(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_until_is_punctual() {
        // Not a speed assertion: only that it neither returns early nor ignores the deadline.
        let due = Instant::now() + Duration::from_millis(3);
        wait_until(due);
        assert!(Instant::now() >= due);
        wait_until(Instant::now() - Duration::from_millis(1));
    }
}
