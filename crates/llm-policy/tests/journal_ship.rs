//! The spend journal's shipping, against a real directory and an in-memory sink: every
//! record arrives once, in batches; a failing sink loses nothing and never blocks appends; a
//! stopped shipper's successor carries on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod journal_support;

use journal_support::{DEADLINE, MemSink, Mode, TempRoot, ids, record};
use llm_policy::journal::{Journal, JournalSettings};
use std::time::Duration;

fn settings(root: &TempRoot, batch: usize, interval: Duration) -> JournalSettings {
    JournalSettings {
        interval,
        batch,
        retry_min: Duration::from_millis(5),
        retry_max: Duration::from_millis(40),
        ..JournalSettings::new(root.path())
    }
}

#[tokio::test]
async fn every_record_arrives_once_in_batches() {
    struct Case {
        name: &'static str,
        records: usize,
        batch: usize,
    }
    let cases = [
        Case {
            name: "one record",
            records: 1,
            batch: 500,
        },
        Case {
            name: "several full batches",
            records: 1_200,
            batch: 500,
        },
        Case {
            name: "tiny batches",
            records: 250,
            batch: 7,
        },
    ];
    for case in cases {
        let root = TempRoot::new("once");
        let journal =
            Journal::open(settings(&root, case.batch, Duration::from_millis(10))).unwrap();
        let sink = MemSink::new(Mode::Up);
        let shipper = journal.spawn_shipper(sink.clone());
        let want = ids(case.name, case.records);
        for id in &want {
            journal.append(&record(id)).unwrap();
        }
        let state = sink
            .wait_for(case.name, |s| s.ids.len() == case.records)
            .await;
        assert_eq!(state.ids, want, "{}", case.name);
        assert_eq!(
            state.rows, case.records as u64,
            "{}: shipped twice",
            case.name
        );
        assert!(
            state.batches.iter().all(|&b| b <= case.batch),
            "{}: batches {:?} over {}",
            case.name,
            state.batches,
            case.batch
        );
        assert!(shipper.flush(DEADLINE).await, "{}", case.name);
        assert_eq!(journal.backlog(), 0, "{}", case.name);
        // Everything shipped: stopping leaves nothing for a later instance to adopt.
        shipper.stop().await;
        drop(journal);
        assert!(root.instance_dirs().is_empty(), "{}", case.name);
    }
}

#[tokio::test]
async fn a_full_batch_ships_without_waiting_for_the_interval() {
    let root = TempRoot::new("full");
    let journal = Journal::open(settings(&root, 100, Duration::from_secs(3_600))).unwrap();
    let sink = MemSink::new(Mode::Up);
    let shipper = journal.spawn_shipper(sink.clone());
    for id in ids("full", 100) {
        journal.append(&record(&id)).unwrap();
    }
    sink.wait_for("a full batch", |s| s.ids.len() == 100).await;
    // Fewer than a batch waits for the interval, or for a flush.
    for id in ids("rest", 40) {
        journal.append(&record(&id)).unwrap();
    }
    assert!(shipper.flush(DEADLINE).await);
    let state = sink.state();
    assert_eq!(state.ids.len(), 140);
    assert_eq!(state.rows, 140);
    assert_eq!(journal.backlog(), 0);
}

#[tokio::test]
async fn a_failing_sink_loses_nothing_and_never_blocks_appends() {
    struct Case {
        name: &'static str,
        outage: Mode,
        /// Whether the sink stored batches it then failed to confirm (so some come twice).
        doubles: bool,
    }
    let cases = [
        Case {
            name: "sink down",
            outage: Mode::Down,
            doubles: false,
        },
        Case {
            name: "confirmations lost",
            outage: Mode::LostAck,
            doubles: true,
        },
    ];
    for case in cases {
        let root = TempRoot::new("outage");
        let journal = Journal::open(settings(&root, 50, Duration::from_millis(10))).unwrap();
        let sink = MemSink::new(case.outage);
        let shipper = journal.spawn_shipper(sink.clone());
        let before = ids("before", 300);
        for id in &before {
            journal.append(&record(id)).unwrap();
        }
        sink.wait_for(case.name, |s| s.failures >= 3).await;
        // The outage goes on: appends still succeed at once, and the backlog counts them.
        assert_eq!(journal.backlog(), 300, "{}", case.name);
        let during = ids("during", 200);
        for id in &during {
            journal.append(&record(id)).unwrap();
        }
        assert_eq!(journal.backlog(), 500, "{}", case.name);
        assert!(
            !shipper.flush(Duration::from_millis(50)).await,
            "{}: flush cannot succeed while the sink fails",
            case.name
        );
        sink.set_mode(Mode::Up);
        assert!(shipper.flush(DEADLINE).await, "{}", case.name);
        let state = sink.state();
        let want: std::collections::BTreeSet<_> = before.union(&during).cloned().collect();
        assert_eq!(state.ids, want, "{}", case.name);
        assert_eq!(journal.backlog(), 0, "{}", case.name);
        assert_eq!(
            state.rows > 500,
            case.doubles,
            "{}: {} rows",
            case.name,
            state.rows
        );
    }
}

#[tokio::test]
async fn a_stopped_shippers_successor_ships_the_rest() {
    let root = TempRoot::new("successor");
    let journal = Journal::open(settings(&root, 40, Duration::from_millis(10))).unwrap();
    let sink = MemSink::new(Mode::Hang);
    let shipper = journal.spawn_shipper(sink.clone());
    let want = ids("successor", 200);
    for id in &want {
        journal.append(&record(id)).unwrap();
    }
    sink.wait_for("a batch stored but never confirmed", |s| {
        !s.batches.is_empty()
    })
    .await;
    shipper.stop().await;
    assert_eq!(journal.backlog(), 200, "nothing was confirmed");

    sink.set_mode(Mode::Up);
    let shipper = journal.spawn_shipper(sink.clone());
    // While one runs, a second shipper is refused (it would race the first over segments).
    let second = journal.spawn_shipper(sink.clone());
    assert!(format!("{second:?}").contains("running: false"));
    assert!(shipper.flush(DEADLINE).await);
    let state = sink.state();
    assert_eq!(state.ids, want);
    assert!(state.rows > 200, "the unconfirmed batch came again");
    assert_eq!(journal.backlog(), 0);
}
