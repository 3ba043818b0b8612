//! The spend journal: the request path never waits for the database.
//!
//! Each finished request appends one line (a [`SpendRecord`] as JSON) to a local append-only
//! file with a single `write(2)` under a mutex, without `fsync`: the page cache survives a
//! `kill -9` of the process, which is the promise. A background [`Shipper`] moves the
//! journaled records to SQL in batches through a [`SpendSink`], which must be idempotent by
//! `request_id`; a record is forgotten only after the sink confirmed it, so a crash can repeat
//! a batch (harmless) but never lose one.
//!
//! Layout on disk, under the configured root:
//!
//! ```text
//! <root>/<random>/lock          held with an exclusive advisory lock while the instance lives
//! <root>/<random>/000001.jsonl  segments, oldest first; the highest is being written
//! ```
//!
//! The OS drops the lock when the process dies, however it dies. At open, and now and then
//! afterwards, every directory whose lock can be taken belongs to a dead instance and is
//! adopted: its segments are shipped, then it is deleted. Instances sharing a root therefore
//! never ship each other's live journal, and a restarted instance replays what a killed one
//! left. The root must be on a local file system (advisory locks over NFS are unreliable).

mod dirs;
mod segment;
mod shipper;

pub use shipper::Shipper;

use crate::records::SpendRecord;
use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Where journaled spend goes: in production the SQL store.
pub trait SpendSink: Send + Sync + 'static {
    /// Writes a batch idempotently (a `request_id` already stored is skipped); `Ok(number
    /// newly inserted)`. `Err`: nothing is assumed written, the batch is retried later.
    fn write_batch(
        &self,
        batch: &[SpendRecord],
    ) -> impl Future<Output = Result<u64, String>> + Send;
}

/// Where the journal lives and how it ships.
#[derive(Debug, Clone)]
pub struct JournalSettings {
    /// The root shared by every instance of one deployment (e.g. `<data_dir>/journal`).
    pub root: PathBuf,
    /// How often the shipper closes the current segment and ships it.
    pub interval: Duration,
    /// Records per sink call; a backlog this large ships without waiting for `interval`.
    pub batch: usize,
    /// First wait after a sink failure; it doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl JournalSettings {
    /// The defaults: every 200 ms or 500 records, retries from 100 ms up to 5 s.
    pub fn new(root: impl Into<PathBuf>) -> JournalSettings {
        JournalSettings {
            root: root.into(),
            interval: Duration::from_millis(200),
            batch: 500,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// The append side of the journal; cheap to clone (one shared state).
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.inner.dir)
            .field("backlog", &self.backlog())
            .finish()
    }
}

/// What the shipper has confirmed, for [`Shipper::flush`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    /// Every record appended with an ordinal up to this one is confirmed by the sink.
    pub confirmed: u64,
    /// Directories of dead instances still being shipped.
    pub adopted_dirs: usize,
}

pub(crate) struct Inner {
    settings: JournalSettings,
    dir: PathBuf,
    writer: Mutex<Writer>,
    /// Records appended (or found in adopted segments) and not yet confirmed.
    backlog: AtomicU64,
    /// Wakes the shipper: a full batch waits, or a flush was asked for.
    wake: Notify,
    progress: watch::Sender<Progress>,
    queues: Mutex<Queues>,
    shipper_running: AtomicBool,
    /// Held for the life of the instance; declared last so it is released last.
    _lock: File,
}

struct Writer {
    file: File,
    seq: u64,
    /// Records in the current segment.
    count: u64,
    /// Records appended since open: the ordinal of the latest one.
    total: u64,
    /// A failed write left part of a line: the next line starts with a newline of its own,
    /// so only the broken line is lost when reading.
    torn: bool,
}

/// Segments closed and waiting, oldest first: adopted directories go before our own.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    pub adopted: VecDeque<dirs::DeadDir>,
    pub own: VecDeque<dirs::Job>,
}

impl Journal {
    /// Creates this instance's directory under `settings.root` and adopts the directories of
    /// dead instances (shipped once [`Journal::spawn_shipper`] runs).
    pub fn open(mut settings: JournalSettings) -> io::Result<Journal> {
        settings.batch = settings.batch.max(1);
        settings.retry_min = settings.retry_min.max(Duration::from_millis(1));
        settings.retry_max = settings.retry_max.max(settings.retry_min);
        let (dir, lock) = dirs::create_own(&settings.root)?;
        let file = segment::create(&dir, 1)?;
        let adopted: VecDeque<_> = dirs::adopt_dead(&settings.root, &dir).into();
        let segments: usize = adopted.iter().map(|d| d.jobs.len()).sum();
        tracing::info!(
            dir = %dir.display(),
            adopted_dirs = adopted.len(),
            adopted_segments = segments,
            "spend journal open"
        );
        let (progress, _) = watch::channel(Progress {
            confirmed: 0,
            adopted_dirs: adopted.len(),
        });
        Ok(Journal {
            inner: Arc::new(Inner {
                settings,
                dir,
                writer: Mutex::new(Writer {
                    file,
                    seq: 1,
                    count: 0,
                    total: 0,
                    torn: false,
                }),
                backlog: AtomicU64::new(0),
                wake: Notify::new(),
                progress,
                queues: Mutex::new(Queues {
                    adopted,
                    own: VecDeque::new(),
                }),
                shipper_running: AtomicBool::new(false),
                _lock: lock,
            }),
        })
    }

    /// Appends one record with one `write(2)` of the whole line. Never waits for the
    /// shipper or the sink; an error means the line is not in the journal.
    pub fn append(&self, record: &SpendRecord) -> io::Result<()> {
        // Byte 0 is a spare newline, written only after a torn line.
        let mut line = Vec::with_capacity(512);
        line.push(b'\n');
        serde_json::to_writer(&mut line, record).map_err(io::Error::other)?;
        line.push(b'\n');
        let inner = &*self.inner;
        let mut writer = lock(&inner.writer);
        let bytes = if writer.torn { &line[..] } else { &line[1..] };
        let (written, result) = write_line(&writer.file, bytes);
        if let Err(error) = result {
            if written > 0 {
                writer.torn = true;
            }
            return Err(error);
        }
        writer.torn = false;
        writer.count += 1;
        writer.total += 1;
        inner.backlog.fetch_add(1, Ordering::Relaxed);
        if writer.count == inner.settings.batch as u64 {
            inner.wake.notify_one();
        }
        Ok(())
    }

    /// Records appended (or left by a dead instance and found so far) that the sink has not
    /// confirmed yet.
    pub fn backlog(&self) -> u64 {
        self.inner.backlog.load(Ordering::Relaxed)
    }

    /// This instance's directory under the root.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Starts the background task that ships the journal to `sink` (inside a Tokio runtime).
    /// One shipper per journal: while one runs, another call returns a handle to it.
    pub fn spawn_shipper<S: SpendSink>(&self, sink: Arc<S>) -> Shipper {
        Shipper::spawn(self.inner.clone(), sink)
    }
}

/// Writes `bytes` with one `write(2)`; only a short write (disk full, a signal) makes another.
fn write_line(mut file: &File, bytes: &[u8]) -> (usize, io::Result<()>) {
    let mut written = 0;
    while written < bytes.len() {
        match file.write(&bytes[written..]) {
            Ok(0) => return (written, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => written += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return (written, Err(error)),
        }
    }
    (written, Ok(()))
}

/// A panic while holding these locks leaves consistent data (every update is one statement),
/// so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Closes the current segment (when it holds records) and queues it for shipping.
    pub(crate) fn rotate(&self) -> io::Result<()> {
        let mut writer = lock(&self.writer);
        if writer.count == 0 {
            return Ok(());
        }
        let next = writer.seq + 1;
        let file = segment::create(&self.dir, next)?;
        let closed = segment::path(&self.dir, writer.seq);
        let job = dirs::Job::new(closed, writer.count, writer.total);
        writer.file = file;
        writer.seq = next;
        writer.count = 0;
        writer.torn = false;
        // Queued before the writer is released: flush's idle check reads both under it.
        lock(&self.queues).own.push_back(job);
        Ok(())
    }

    /// When nothing is queued and the current segment is empty, everything appended so far
    /// is confirmed: publishes that.
    pub(crate) fn publish_idle(&self) {
        let writer = lock(&self.writer);
        let queues = lock(&self.queues);
        if writer.count == 0 && queues.own.is_empty() {
            let total = writer.total;
            let adopted_dirs = queues.adopted.len();
            self.progress.send_modify(|p| {
                p.confirmed = p.confirmed.max(total);
                p.adopted_dirs = adopted_dirs;
            });
        }
    }

    /// The ordinal of the latest append: the target of a flush.
    pub(crate) fn appended(&self) -> u64 {
        lock(&self.writer).total
    }

    pub(crate) fn add_backlog(&self, n: u64) {
        self.backlog.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub_backlog(&self, n: u64) {
        let _ = self
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_sub(n))
            });
    }
}

impl Drop for Inner {
    /// Everything shipped: the directory goes (no adopter will have to look at it).
    /// Otherwise it stays, and the next instance on this root replays it.
    fn drop(&mut self) {
        let writer = lock(&self.writer);
        if writer.count != 0 || !lock(&self.queues).own.is_empty() || writer.torn {
            return;
        }
        let Ok(segments) = segment::list(&self.dir) else {
            return;
        };
        for (_, path) in segments {
            let empty = std::fs::metadata(&path).is_ok_and(|meta| meta.len() == 0);
            if !empty || std::fs::remove_file(&path).is_err() {
                return;
            }
        }
        dirs::remove(&self.dir);
    }
}
