//! Replay of the spend journal: what a dead instance left is shipped by the next one on the
//! same root (or by a running one), without doubles at a sink that deduplicates; unreadable
//! lines are skipped; live instances never take each other's journal. (A real `kill -9` is in
//! `journal_kill.rs`: a child forked from this binary would briefly share its locks.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod journal_support;

use journal_support::{DEADLINE, MemSink, Mode, TempRoot, ids, record};
use llm_policy::journal::{Journal, JournalSettings};
use std::collections::BTreeSet;
use std::time::Duration;

fn settings(root: &std::path::Path) -> JournalSettings {
    JournalSettings {
        interval: Duration::from_millis(10),
        batch: 50,
        retry_min: Duration::from_millis(5),
        retry_max: Duration::from_millis(40),
        ..JournalSettings::new(root)
    }
}

#[tokio::test]
async fn a_dead_instances_journal_is_replayed_without_doubles() {
    struct Case {
        name: &'static str,
        /// The dead instance had handed a batch to the sink, which stored it but never
        /// confirmed (the crash came between the two).
        shipped_before_death: bool,
    }
    let cases = [
        Case {
            name: "never shipped",
            shipped_before_death: false,
        },
        Case {
            name: "shipped, not confirmed",
            shipped_before_death: true,
        },
    ];
    for case in cases {
        let root = TempRoot::new("dead");
        let sink = MemSink::new(Mode::Hang);
        let want = ids(case.name, 120);
        let dead = Journal::open(settings(root.path())).unwrap();
        for id in &want {
            dead.append(&record(id)).unwrap();
        }
        if case.shipped_before_death {
            let shipper = dead.spawn_shipper(sink.clone());
            sink.wait_for(case.name, |s| !s.batches.is_empty()).await;
            shipper.stop().await;
        }
        let dead_dir = dead.dir().to_path_buf();
        drop(dead);
        assert!(
            dead_dir.exists(),
            "{}: an unshipped journal must stay",
            case.name
        );

        sink.set_mode(Mode::Up);
        let next = Journal::open(settings(root.path())).unwrap();
        let shipper = next.spawn_shipper(sink.clone());
        assert!(shipper.flush(DEADLINE).await, "{}", case.name);
        let state = sink.state();
        assert_eq!(state.ids, want, "{}", case.name);
        assert_eq!(
            state.rows > want.len() as u64,
            case.shipped_before_death,
            "{}: {} rows",
            case.name,
            state.rows
        );
        assert_eq!(next.backlog(), 0, "{}", case.name);
        assert!(
            !dead_dir.exists(),
            "{}: the adopted directory is removed",
            case.name
        );
        assert_eq!(
            root.instance_dirs(),
            BTreeSet::from([next.dir().to_path_buf()])
        );
    }
}

#[tokio::test]
async fn unreadable_lines_are_skipped_and_the_rest_delivered() {
    let line = |id: &str| format!("{}\n", serde_json::to_string(&record(id)).unwrap());
    let torn = {
        let full = line("torn");
        full[..full.len() / 2].to_owned()
    };
    // (case, segment contents, the ids that must arrive)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "torn last line",
            format!("{}{}{torn}", line("a"), line("b")),
            vec!["a", "b"],
        ),
        (
            "torn line then more (a failed write, then the next line)",
            format!("{}{torn}\n{}", line("a"), line("b")),
            vec!["a", "b"],
        ),
        (
            "garbage and blank lines",
            format!(
                "{}not json\n\n   \n{{\"request_id\":1}}\n{}",
                line("a"),
                line("b")
            ),
            vec!["a", "b"],
        ),
        ("only a torn line", torn.clone(), vec![]),
        ("empty segment", String::new(), vec![]),
    ];
    for (name, contents, want) in cases {
        let root = TempRoot::new("torn");
        // A dead instance's directory, as a crash leaves it: a lock file nobody holds.
        let dead_dir = root.path().join("0123456789abcdef");
        std::fs::create_dir(&dead_dir).unwrap();
        std::fs::write(dead_dir.join("lock"), "").unwrap();
        std::fs::write(dead_dir.join("000001.jsonl"), &contents).unwrap();
        std::fs::write(
            dead_dir.join("000002.jsonl"),
            line(&format!("{name}-after")),
        )
        .unwrap();

        let sink = MemSink::new(Mode::Up);
        let journal = Journal::open(settings(root.path())).unwrap();
        let shipper = journal.spawn_shipper(sink.clone());
        assert!(shipper.flush(DEADLINE).await, "{name}");
        let mut want: BTreeSet<String> = want.into_iter().map(str::to_owned).collect();
        want.insert(format!("{name}-after"));
        assert_eq!(sink.state().ids, want, "{name}");
        assert_eq!(journal.backlog(), 0, "{name}");
        assert!(!dead_dir.exists(), "{name}");
    }
}

#[tokio::test]
async fn live_journals_never_adopt_each_other() {
    let root = TempRoot::new("live");
    let mut live = Vec::new();
    for n in 0..3 {
        let journal = Journal::open(settings(root.path())).unwrap();
        let sink = MemSink::new(Mode::Up);
        // Every journal so far has unshipped records: nothing to adopt for the newcomer.
        let shipper = journal.spawn_shipper(sink.clone());
        assert!(shipper.flush(DEADLINE).await, "journal {n} adopted nothing");
        assert!(
            sink.state().ids.is_empty(),
            "journal {n} shipped another's records"
        );
        shipper.stop().await;
        for id in ids(&format!("live{n}"), 20) {
            journal.append(&record(&id)).unwrap();
        }
        live.push((journal, sink));
    }
    assert_eq!(root.instance_dirs().len(), 3);
    for (n, (journal, sink)) in live.iter().enumerate() {
        let shipper = journal.spawn_shipper(sink.clone());
        assert!(shipper.flush(DEADLINE).await, "journal {n}");
        assert_eq!(
            sink.state().ids,
            ids(&format!("live{n}"), 20),
            "journal {n}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_instance_that_dies_later_is_adopted_by_a_running_one() {
    let root = TempRoot::new("later");
    let survivor = Journal::open(settings(root.path())).unwrap();
    let sink = MemSink::new(Mode::Up);
    let shipper = survivor.spawn_shipper(sink.clone());
    let dead = Journal::open(settings(root.path())).unwrap();
    for id in ids("later", 30) {
        dead.append(&record(&id)).unwrap();
    }
    let dead_dir = dead.dir().to_path_buf();
    drop(dead);
    // The survivor looks for dead instances every 30 s (of the paused clock here).
    let state = sink
        .wait_within(Duration::from_secs(120), "the periodic rescan", |s| {
            s.ids.len() == 30
        })
        .await;
    assert_eq!(state.ids, ids("later", 30));
    assert!(shipper.flush(DEADLINE).await);
    assert!(!dead_dir.exists());
}
