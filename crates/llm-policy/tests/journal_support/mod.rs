//! Shared by the journal tests: temporary roots, spend records, and an in-memory sink that
//! deduplicates by request id (as the SQL store does) and can be told to fail or to hang.

#![allow(dead_code)]

use llm_policy::journal::SpendSink;
use llm_policy::records::SpendRecord;
use llm_types::money::NanoDollars;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// How long any wait in these tests may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A fresh directory under the system's temp dir, removed (best effort) on drop.
pub struct TempRoot(PathBuf);

impl TempRoot {
    pub fn new(name: &str) -> TempRoot {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "llmgw-journal-{name}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempRoot(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The instance directories under the root (dot names excluded).
    pub fn instance_dirs(&self) -> BTreeSet<PathBuf> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                path.is_dir()
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect()
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A spend record with every field set, distinguished by its id.
pub fn record(id: &str) -> SpendRecord {
    SpendRecord {
        request_id: id.to_owned(),
        key_hash: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()),
        key_alias: Some("ci".into()),
        user_id: Some("user-1".into()),
        team_id: None,
        model_group: "gpt-4o".into(),
        deployment: Some("gpt-4o-eu".into()),
        provider: Some("openai".into()),
        prompt_tokens: 12,
        completion_tokens: 34,
        cached_tokens: 5,
        cost: NanoDollars(1_234_567),
        latency_ms: 89,
        status: 200,
        cache_hit: false,
        estimated: false,
        start_ms: 1_764_000_000_000,
        end_ms: 1_764_000_000_089,
    }
}

/// `count` ids `<prefix>-<n>`.
pub fn ids(prefix: &str, count: usize) -> BTreeSet<String> {
    (0..count).map(|n| format!("{prefix}-{n}")).collect()
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stores the batch (skipping known ids) and confirms.
    Up,
    /// Stores nothing and fails.
    Down,
    /// Stores the batch, then fails: the confirmation was lost, the batch will come again.
    LostAck,
    /// Stores the batch, then never answers: a crash between the write and its confirmation.
    Hang,
}

#[derive(Debug, Clone, Default)]
pub struct SinkState {
    /// The size of every batch received, failed or not.
    pub batches: Vec<usize>,
    /// Distinct request ids stored.
    pub ids: BTreeSet<String>,
    /// Rows received by calls that stored them, duplicates included.
    pub rows: u64,
    pub failures: u64,
}

pub struct MemSink {
    mode: Mutex<Mode>,
    state: watch::Sender<SinkState>,
}

impl MemSink {
    pub fn new(mode: Mode) -> Arc<MemSink> {
        Arc::new(MemSink {
            mode: Mutex::new(mode),
            state: watch::channel(SinkState::default()).0,
        })
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn state(&self) -> SinkState {
        self.state.borrow().clone()
    }

    /// Waits until `done` holds for the sink's state, failing the test after [`DEADLINE`].
    pub async fn wait_for(&self, what: &str, done: impl Fn(&SinkState) -> bool) -> SinkState {
        self.wait_within(DEADLINE, what, done).await
    }

    /// [`MemSink::wait_for`] with another deadline (for tests on a paused clock).
    pub async fn wait_within(
        &self,
        deadline: Duration,
        what: &str,
        done: impl Fn(&SinkState) -> bool,
    ) -> SinkState {
        let mut state = self.state.subscribe();
        match tokio::time::timeout(deadline, state.wait_for(|s| done(s))).await {
            Ok(Ok(state)) => state.clone(),
            _ => panic!(
                "timed out waiting for {what}; sink: {:?}",
                summary(&self.state())
            ),
        }
    }
}

fn summary(state: &SinkState) -> (usize, u64, u64, usize) {
    (
        state.ids.len(),
        state.rows,
        state.failures,
        state.batches.len(),
    )
}

impl SpendSink for MemSink {
    async fn write_batch(&self, batch: &[SpendRecord]) -> Result<u64, String> {
        let mode = *self.mode.lock().unwrap();
        let mut inserted = 0;
        self.state.send_modify(|state| {
            state.batches.push(batch.len());
            if mode == Mode::Down {
                state.failures += 1;
                return;
            }
            state.rows += batch.len() as u64;
            for record in batch {
                if state.ids.insert(record.request_id.clone()) {
                    inserted += 1;
                }
            }
            if mode == Mode::LostAck {
                state.failures += 1;
            }
        });
        match mode {
            Mode::Up => Ok(inserted),
            Mode::Down => Err("sink down".into()),
            Mode::LostAck => Err("connection reset before the commit was confirmed".into()),
            Mode::Hang => std::future::pending().await,
        }
    }
}
