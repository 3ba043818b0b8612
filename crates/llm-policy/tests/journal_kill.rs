//! The spend journal survives `kill -9`: a child process (this test binary, re-executed)
//! appends and is killed with SIGKILL; a new journal on the same root ships every record.
//!
//! Alone in its binary on purpose: between `fork` and `exec` a child holds copies of the
//! parent's open files, journal locks included, which would make a concurrent test's dead
//! journal look alive for a moment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod journal_support;

use journal_support::{DEADLINE, MemSink, Mode, TempRoot, ids, record};
use llm_policy::journal::{Journal, JournalSettings};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ROOT: &str = "LLMGW_JOURNAL_TEST_CHILD_ROOT";
const CHILD_RECORDS: usize = 1_000;
const CHILD_READY: &str = "JOURNAL-CHILD-READY";

fn settings(root: &std::path::Path) -> JournalSettings {
    JournalSettings {
        interval: Duration::from_millis(10),
        batch: 50,
        ..JournalSettings::new(root)
    }
}

/// Not a test on its own: the process [`a_killed_process_is_replayed`] starts and kills.
#[test]
fn child_process_writer() {
    let Ok(root) = std::env::var(CHILD_ROOT) else {
        return;
    };
    let journal = Journal::open(settings(root.as_ref())).unwrap();
    for id in ids("killed", CHILD_RECORDS) {
        journal.append(&record(&id)).unwrap();
    }
    let mut out = std::io::stdout();
    out.write_all(format!("\n{CHILD_READY}\n").as_bytes())
        .unwrap();
    out.flush().unwrap();
    // Alive, journal open and lock held, until the parent kills it.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    panic!("the parent should have killed this process");
}

#[tokio::test]
async fn a_killed_process_is_replayed() {
    let root = TempRoot::new("killed");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ROOT, root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == CHILD_READY);
    assert!(ready, "the child exited before writing its journal");
    // SIGKILL: no destructor, no flush, nothing runs in the child after this.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }
    #[cfg(not(unix))]
    assert!(!status.success());

    let sink = MemSink::new(Mode::Up);
    let journal = Journal::open(settings(root.path())).unwrap();
    let shipper = journal.spawn_shipper(sink.clone());
    assert!(shipper.flush(DEADLINE).await);
    let state = sink.state();
    assert_eq!(state.ids, ids("killed", CHILD_RECORDS));
    assert_eq!(state.rows, CHILD_RECORDS as u64);
    assert_eq!(
        root.instance_dirs(),
        BTreeSet::from([journal.dir().to_path_buf()])
    );
}
