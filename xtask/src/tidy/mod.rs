//! `cargo xtask tidy`: rules of the design brief that would decay if they lived only in prose.
//!
//! Two families: the crate layering (read from every `crates/*/Cargo.toml`, see [`layers`]) and
//! source hygiene (module docs, file length, no ignored tests, no thread sleeps, see
//! [`sources`]). `cargo test` runs this on the real workspace (test below), so a broken arrow
//! fails the build, not a review.

mod layers;
mod sources;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One broken rule: the file it is in, relative to the workspace root, and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: PathBuf,
    pub reason: String,
}

impl Violation {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        Violation {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What a tidy pass looked at and what it found. The counts let the workspace test check that
/// it did not pass by looking at nothing.
#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<Violation>,
    pub manifests: usize,
    pub sources: usize,
}

/// Runs every check on the workspace at `root` and prints each violation.
pub fn run(root: &Path) -> Result<(), String> {
    let report = check_workspace(root)?;
    for v in &report.violations {
        println!("{v}");
    }
    if report.violations.is_empty() {
        println!(
            "tidy: ok ({} crate manifests, {} Rust files)",
            report.manifests, report.sources
        );
        Ok(())
    } else {
        Err(format!("{} violation(s)", report.violations.len()))
    }
}

/// Every check on the workspace at `root`; `Err` only when the tree cannot be read.
pub fn check_workspace(root: &Path) -> Result<Report, String> {
    let mut report = Report::default();
    let renames = workspace_renames(root)?;

    let crates_dir = root.join("crates");
    for dir in read_dir_sorted(&crates_dir)? {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = read(&manifest)?;
        let rel = relative(root, &manifest);
        report
            .violations
            .extend(layers::check_manifest(&rel, &text, &renames));
        report.manifests += 1;
    }

    let mut files = Vec::new();
    collect_rs_files(root, &mut files)?;
    for file in files {
        let text = read(&file)?;
        let rel = relative(root, &file);
        let shipped = rel.starts_with("crates");
        report
            .violations
            .extend(sources::check_source(&rel, &text, shipped));
        report.sources += 1;
    }
    Ok(report)
}

/// `[workspace.dependencies]` entries that rename a package (`foo = { package = "bar" }`), so a
/// member's `foo.workspace = true` is judged as `bar`.
fn workspace_renames(root: &Path) -> Result<BTreeMap<String, String>, String> {
    let path = root.join("Cargo.toml");
    let table: toml::Table = read(&path)?
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let deps = table
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table);
    let mut renames = BTreeMap::new();
    for (key, value) in deps.into_iter().flatten() {
        if let Some(package) = value.get("package").and_then(toml::Value::as_str) {
            renames.insert(key.clone(), package.to_owned());
        }
    }
    Ok(renames)
}

/// Every `.rs` file under `dir`, skipping build output and hidden directories (`.git`, venvs).
fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for path in read_dir_sorted(dir)? {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            collect_rs_files(&path, out)?;
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real workspace obeys every rule. This is the test that makes `cargo test` enforce
    /// the layering; the unit tests in `layers` and `sources` show it can fail.
    #[test]
    fn workspace_is_tidy() {
        let report = check_workspace(&crate::workspace::root()).unwrap();
        let listing: Vec<String> = report.violations.iter().map(|v| v.to_string()).collect();
        assert!(
            listing.is_empty(),
            "tidy violations:\n{}",
            listing.join("\n")
        );
        // Guards against a vacuous pass, e.g. a wrong root.
        assert!(report.manifests >= 5, "only {} manifests", report.manifests);
        assert!(report.sources >= 5, "only {} sources", report.sources);
    }
}
