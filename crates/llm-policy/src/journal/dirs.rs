//! Instance directories under the journal root: creating this instance's own (locked before
//! anyone can see it) and finding those of dead instances (whose lock can be taken).
//!
//! A live directory always has its `lock` file held: it is prepared under a dot name, locked,
//! and only then renamed into view (the lock belongs to the open file, so it survives the
//! rename). Scanners skip dot names. So a visible directory whose lock can be taken, or which
//! has no lock file at all, belongs to no living instance.

use super::segment;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCK: &str = "lock";
const STAGING: &str = ".new-";
const STAGING_STALE: Duration = Duration::from_secs(60);

/// A segment waiting to be shipped, and how far it was confirmed.
#[derive(Debug)]
pub(crate) struct Job {
    pub path: PathBuf,
    /// Bytes already confirmed by the sink (always a line start).
    pub offset: u64,
    /// Records of this segment counted in the backlog and not yet confirmed.
    pub counted: u64,
    /// For this instance's own segments: the append count at rotation, so that confirming
    /// this segment confirms every record appended up to it. 0 for adopted segments.
    pub end_ordinal: u64,
}

impl Job {
    pub(crate) fn new(path: PathBuf, counted: u64, end_ordinal: u64) -> Job {
        Job {
            path,
            offset: 0,
            counted,
            end_ordinal,
        }
    }
}

/// The directory of a dead instance, locked by us while we ship what it left.
#[derive(Debug)]
pub(crate) struct DeadDir {
    pub path: PathBuf,
    /// Held so that no other instance adopts the directory at the same time.
    _lock: File,
    pub jobs: VecDeque<Job>,
}

/// Creates and locks this instance's directory; returns its path and the held lock.
pub(crate) fn create_own(root: &Path) -> io::Result<(PathBuf, File)> {
    fs::create_dir_all(root)?;
    let name = random_name()?;
    let staging = root.join(format!("{STAGING}{name}"));
    create_private_dir(&staging)?;
    let lock = open_lock(&staging)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(io::Error::other(format!(
                "cannot lock the new journal directory {}",
                staging.display()
            )));
        }
        Err(TryLockError::Error(error)) => return Err(error),
    }
    let own = root.join(&name);
    fs::rename(&staging, &own)?;
    Ok((own, lock))
}

/// Locks and returns every directory under `root` left by a dead instance, except `own`.
/// Never fails as a whole: a directory that cannot be read is logged and left for later.
pub(crate) fn adopt_dead(root: &Path, own: &Path) -> Vec<DeadDir> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(error) => {
            tracing::warn!(root = %root.display(), %error, "cannot scan the journal root");
            return Vec::new();
        }
    };
    let mut dead = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path == own || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(STAGING) {
            remove_stale_staging(&path);
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        match try_adopt(&path) {
            Ok(Some(found)) => dead.push(found),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(dir = %path.display(), %error, "cannot adopt a journal directory");
            }
        }
    }
    dead
}

/// `Some` when the directory's owner is dead (its lock is now ours).
fn try_adopt(dir: &Path) -> io::Result<Option<DeadDir>> {
    let lock = match open_lock(dir) {
        Ok(lock) => lock,
        // Removed meanwhile by the instance that adopted it before us.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(error)) => return Err(error),
    }
    let jobs = segment::list(dir)?
        .into_iter()
        .map(|(_, path)| Job::new(path, 0, 0))
        .collect();
    Ok(Some(DeadDir {
        path: dir.to_path_buf(),
        _lock: lock,
        jobs,
    }))
}

/// Deletes a directory whose segments are all gone. The lock file goes while still held, so
/// a concurrent scanner either fails to lock it or finds nothing left to ship.
pub(crate) fn remove(dir: &Path) {
    if let Err(error) = fs::remove_file(dir.join(LOCK))
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %dir.display(), %error, "cannot remove a journal lock file");
        return;
    }
    if let Err(error) = fs::remove_dir(dir)
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %dir.display(), %error, "cannot remove a journal directory");
    }
}

/// A directory prepared by an instance that died before renaming it into view: it holds at
/// most a lock file, never a segment. Only old ones: a young one may be an instance between
/// its `mkdir` and its lock, microseconds apart.
fn remove_stale_staging(dir: &Path) {
    let old = fs::metadata(dir)
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > STAGING_STALE));
    if old && let Ok(Some(_locked)) = try_adopt(dir) {
        remove(dir);
    }
}

fn open_lock(dir: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(dir.join(LOCK))
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// 16 hex digits from the system's random source: unique among instances on one root.
fn random_name() -> io::Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| io::Error::other("no system randomness for the journal directory name"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
