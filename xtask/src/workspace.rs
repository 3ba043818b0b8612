//! Where things are: the workspace root, the cargo target directory, how to call cargo.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The workspace root: xtask's manifest dir is `<root>/xtask`, known at compile time, so
/// `cargo xtask` works from any subdirectory without asking `cargo metadata`.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `$CARGO_TARGET_DIR` (relative to the root if relative) or `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// A `cargo` command run from the root. `$CARGO` is the cargo that launched us, so a
/// toolchain override applies to the sub-commands too.
pub fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    cmd
}

/// Runs one step with inherited stdio, printing a header before and the elapsed time after.
pub fn run_step(header: &str, cmd: &mut Command) -> Result<(), String> {
    println!("==> {header}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("`{header}`: could not start: {e}"))?;
    println!("    {header}: {:.1}s", start.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{header}` failed ({status})"))
    }
}
