//! The background task that ships closed segments to the sink: adopted directories first,
//! then this instance's segments in order, each in batches. A segment is deleted only after
//! every batch of it was confirmed; a failure keeps it and retries with exponential backoff,
//! so data is never dropped and appends never wait.
//!
//! The queues and confirmed offsets live in the journal's shared state, not in the task: a
//! shipper stopped mid-batch leaves them exact for the next one (or, after a crash, the files
//! alone tell the next instance what to replay).

use super::dirs::Job;
use super::segment::{self, Batch};
use super::{Inner, Progress, SpendSink, lock};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often the shipper looks for directories of instances that died while this one runs.
const RESCAN_EVERY: Duration = Duration::from_secs(30);

/// The handle of the shipping task. Dropping it stops the task; what was not confirmed
/// stays on disk for the next shipper or the next instance.
pub struct Shipper {
    inner: Arc<Inner>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shipper")
            .field("dir", &self.inner.dir)
            .field("running", &self.task.is_some())
            .finish()
    }
}

impl Shipper {
    pub(crate) fn spawn<S: SpendSink>(inner: Arc<Inner>, sink: Arc<S>) -> Shipper {
        let task = if inner.shipper_running.swap(true, Ordering::AcqRel) {
            tracing::warn!("the spend journal already has a shipper; not starting another");
            None
        } else {
            // The guard exists before the task: a task aborted before its first poll still
            // drops it.
            Some(tokio::spawn(run(Running(inner.clone()), sink)))
        };
        Shipper { inner, task }
    }

    /// Ships everything appended before this call, and everything adopted, waiting up to
    /// `timeout`. `true` when all of it was confirmed by the sink (graceful shutdown).
    pub async fn flush(&self, timeout: Duration) -> bool {
        let target = self.inner.appended();
        let mut progress = self.inner.progress.subscribe();
        self.inner.wake.notify_one();
        let done = |p: &Progress| p.confirmed >= target && p.adopted_dirs == 0;
        matches!(
            tokio::time::timeout(timeout, progress.wait_for(done)).await,
            Ok(Ok(_))
        )
    }

    /// Stops the task and waits until it is gone (its hold on the journal released).
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Shipper {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Marks the journal shipper-less again when the task ends, however it ends.
struct Running(Arc<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.shipper_running.store(false, Ordering::Release);
    }
}

async fn run<S: SpendSink>(running: Running, sink: Arc<S>) {
    let inner = &*running.0;
    let mut next_rescan = Instant::now() + RESCAN_EVERY;
    loop {
        ship_all(inner, &*sink).await;
        inner.publish_idle();
        tokio::select! {
            () = tokio::time::sleep(inner.settings.interval) => {}
            () = inner.wake.notified() => {}
        }
        if Instant::now() >= next_rescan {
            next_rescan = Instant::now() + RESCAN_EVERY;
            rescan(inner).await;
        }
        if let Err(error) = inner.rotate() {
            // The writer keeps its segment; the next tick tries again.
            tracing::warn!(%error, "cannot start a new spend journal segment");
        }
    }
}

/// Adopts the directories of instances that died since the last scan.
async fn rescan(inner: &Inner) {
    let root = inner.settings.root.clone();
    let own = inner.dir.clone();
    let Ok(found) = tokio::task::spawn_blocking(move || super::dirs::adopt_dead(&root, &own)).await
    else {
        return;
    };
    if found.is_empty() {
        return;
    }
    tracing::info!(
        dirs = found.len(),
        "adopting spend journals of stopped instances"
    );
    let mut queues = lock(&inner.queues);
    queues.adopted.extend(found);
    let adopted_dirs = queues.adopted.len();
    inner
        .progress
        .send_modify(|p| p.adopted_dirs = adopted_dirs);
}

/// Ships until both queues are empty, backing off while the sink (or the disk) fails.
async fn ship_all<S: SpendSink>(inner: &Inner, sink: &S) {
    let mut delay = inner.settings.retry_min;
    loop {
        match step(inner, sink).await {
            Step::Idle => return,
            Step::Shipped => delay = inner.settings.retry_min,
            Step::Failed => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(inner.settings.retry_max);
            }
        }
    }
}

enum Step {
    Idle,
    Shipped,
    Failed,
}

/// Which queue the front job comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Adopted,
    Own,
}

/// One batch of the oldest job, or the removal of a finished adopted directory.
async fn step<S: SpendSink>(inner: &Inner, sink: &S) -> Step {
    let front = {
        let mut queues = lock(&inner.queues);
        if let Some(dead) = queues.adopted.front() {
            match dead.jobs.front() {
                Some(job) => Some((Source::Adopted, job.path.clone(), job.offset)),
                None => {
                    let dead = queues.adopted.pop_front();
                    let adopted_dirs = queues.adopted.len();
                    drop(queues);
                    // Every segment shipped: the directory goes, then its lock is released.
                    if let Some(dead) = dead {
                        super::dirs::remove(&dead.path);
                    }
                    inner
                        .progress
                        .send_modify(|p| p.adopted_dirs = adopted_dirs);
                    return Step::Shipped;
                }
            }
        } else {
            queues
                .own
                .front()
                .map(|job| (Source::Own, job.path.clone(), job.offset))
        }
    };
    let Some((from, path, offset)) = front else {
        return Step::Idle;
    };
    let batch = match read(path.clone(), offset, inner.settings.batch).await {
        Ok(batch) => batch,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            tracing::warn!(segment = %path.display(), "spend journal segment vanished");
            finish(inner, from, &path);
            return Step::Shipped;
        }
        Err(error) => {
            tracing::warn!(segment = %path.display(), %error, "cannot read the spend journal");
            return Step::Failed;
        }
    };
    let count = batch.records.len() as u64;
    if count > 0 {
        with_job(inner, from, &path, |job| {
            if job.counted < count {
                inner.add_backlog(count - job.counted);
                job.counted = count;
            }
        });
        match sink.write_batch(&batch.records).await {
            Ok(inserted) => {
                if inserted < count {
                    tracing::debug!(
                        records = count,
                        inserted,
                        "spend records already stored (a replay)"
                    );
                }
            }
            Err(error) => {
                tracing::warn!(%error, records = count, "spend sink failed; will retry");
                return Step::Failed;
            }
        }
        with_job(inner, from, &path, |job| {
            job.offset = batch.next_offset;
            job.counted -= count;
            inner.sub_backlog(count);
        });
    }
    if batch.at_end {
        if let Err(error) = tokio::task::spawn_blocking({
            let path = path.clone();
            move || std::fs::remove_file(path)
        })
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join)))
            && error.kind() != io::ErrorKind::NotFound
        {
            // Shipped anyway: a later replay of it is harmless (the sink deduplicates).
            tracing::warn!(segment = %path.display(), %error, "cannot delete a shipped segment");
        }
        finish(inner, from, &path);
    }
    Step::Shipped
}

async fn read(path: PathBuf, offset: u64, max: usize) -> io::Result<Batch> {
    tokio::task::spawn_blocking(move || segment::read_batch(&path, offset, max))
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join)))
}

/// Runs `update` on the front job when it is still the one at `path`.
fn with_job(inner: &Inner, from: Source, path: &Path, update: impl FnOnce(&mut Job)) {
    let mut queues = lock(&inner.queues);
    let job = match from {
        Source::Adopted => queues
            .adopted
            .front_mut()
            .and_then(|dead| dead.jobs.front_mut()),
        Source::Own => queues.own.front_mut(),
    };
    if let Some(job) = job.filter(|job| job.path == path) {
        update(job);
    }
}

/// Drops the finished front job: what it still counted in the backlog was unreadable lines.
fn finish(inner: &Inner, from: Source, path: &Path) {
    let mut queues = lock(&inner.queues);
    let jobs = match from {
        Source::Adopted => match queues.adopted.front_mut() {
            Some(dead) => &mut dead.jobs,
            None => return,
        },
        Source::Own => &mut queues.own,
    };
    if jobs.front().is_none_or(|job| job.path != path) {
        return;
    }
    let Some(job) = jobs.pop_front() else {
        return;
    };
    inner.sub_backlog(job.counted);
    if from == Source::Own {
        inner
            .progress
            .send_modify(|p| p.confirmed = p.confirmed.max(job.end_ordinal));
    }
}
