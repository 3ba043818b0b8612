//! Segment files (`000001.jsonl`, ...): one [`SpendRecord`] as JSON per line, read back in
//! batches from a byte offset. A line that does not parse (torn by a crash, or garbage) is
//! logged and skipped: one bad line never holds back the rest of the journal.

use crate::records::SpendRecord;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const SUFFIX: &str = ".jsonl";

/// The file name of segment `seq`; zero-padded so a directory listing reads in order, but
/// [`list`] sorts by number, so a seventh digit is harmless.
pub(crate) fn path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:06}{SUFFIX}"))
}

fn parse_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(SUFFIX)?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Creates segment `seq` for appending. `create_new`: a segment is never reopened for
/// writing, so an existing file means a bug, not something to append to.
pub(crate) fn create(dir: &Path, seq: u64) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Spend rows name keys (by hash), users and teams: not for other local users.
        options.mode(0o600);
    }
    options.open(path(dir, seq))
}

/// The segments in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(seq) = entry.file_name().to_str().and_then(parse_name) {
            segments.push((seq, entry.path()));
        }
    }
    segments.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(segments)
}

/// Records read from a segment, and where the next read starts.
#[derive(Debug)]
pub(crate) struct Batch {
    pub records: Vec<SpendRecord>,
    pub next_offset: u64,
    /// Nothing follows `next_offset`: once this batch is confirmed the segment is done.
    pub at_end: bool,
}

/// Reads up to `max` records from `path`, starting at byte `offset` (always a line start).
pub(crate) fn read_batch(path: &Path, offset: u64, max: usize) -> io::Result<Batch> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut line = Vec::new();
    let mut position = offset;
    while records.len() < max {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(Batch {
                records,
                next_offset: position,
                at_end: true,
            });
        }
        let start = position;
        position += read as u64;
        let Some(body) = line.strip_suffix(b"\n") else {
            // No newline: the last line, cut short by a crash in the middle of its write.
            tracing::warn!(
                segment = %path.display(),
                offset = start,
                bytes = read,
                "skipping a torn last line in the spend journal"
            );
            return Ok(Batch {
                records,
                next_offset: position,
                at_end: true,
            });
        };
        if body.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<SpendRecord>(body) {
            Ok(record) => records.push(record),
            // The error names a line and column, never the content (it may name a key hash).
            Err(error) => tracing::warn!(
                segment = %path.display(),
                offset = start,
                %error,
                "skipping an unreadable line in the spend journal"
            ),
        }
    }
    // Full batch: whether anything follows is learnt by the next read.
    Ok(Batch {
        records,
        next_offset: position,
        at_end: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cases: &[(&str, Option<u64>)] = &[
            ("000001.jsonl", Some(1)),
            ("1234567.jsonl", Some(1_234_567)),
            ("lock", None),
            (".jsonl", None),
            ("00a001.jsonl", None),
            ("000001.jsonl.tmp", None),
        ];
        for (name, want) in cases {
            assert_eq!(parse_name(name), *want, "{name}");
        }
        assert_eq!(path(Path::new("d"), 7), Path::new("d").join("000007.jsonl"));
    }
}
