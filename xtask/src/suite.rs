//! `cargo xtask test`: the whole test suite, the one command of the README and of CI.
//!
//! Steps run in order and stop at the first failure: fmt, clippy, a debug build of every
//! binary (the e2e tests start them), `cargo test`, then the Python end-to-end suite in a venv
//! that is provisioned once and reused while `requirements.txt` is unchanged.
//!
//! `--no-lint` skips fmt and clippy, `--no-e2e` the Python suite, and `--e2e-only` everything
//! but the build and the Python suite.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::workspace::{self, run_step};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Skip `cargo fmt` and `cargo clippy`.
    pub no_lint: bool,
    /// Skip the Python end-to-end suite.
    pub no_e2e: bool,
    /// Only build the binaries and run the Python suite (iterating on e2e tests).
    pub e2e_only: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut opts = Options::default();
        for arg in args {
            match arg.as_str() {
                "--no-lint" => opts.no_lint = true,
                "--no-e2e" => opts.no_e2e = true,
                "--e2e-only" => opts.e2e_only = true,
                other => {
                    return Err(format!(
                        "unknown option `{other}`; usage: cargo xtask test \
                         [--no-lint] [--no-e2e] [--e2e-only]"
                    ));
                }
            }
        }
        if opts.e2e_only && opts.no_e2e {
            return Err("--e2e-only and --no-e2e exclude each other".into());
        }
        Ok(opts)
    }
}

pub fn run(opts: &Options) -> Result<(), String> {
    let root = workspace::root();
    let cargo_step = |args: &[&str]| -> Result<(), String> {
        run_step(
            &format!("cargo {}", args.join(" ")),
            workspace::cargo(&root).args(args),
        )
    };
    if !opts.no_lint && !opts.e2e_only {
        cargo_step(&["fmt", "--all", "--", "--check"])?;
        cargo_step(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])?;
    }
    cargo_step(&["build", "--workspace", "--bins", "--locked"])?;
    if !opts.e2e_only {
        cargo_step(&["test", "--workspace", "--locked"])?;
    }
    if !opts.no_e2e {
        e2e(&root)?;
    }
    // No trailing line of ours: the last step's own summary (pytest's "N passed") closes the run.
    Ok(())
}

/// The Python end-to-end suite against the debug binaries built above.
fn e2e(root: &Path) -> Result<(), String> {
    let suite = root.join("tests/e2e");
    if !has_python_tests(&suite) {
        println!("==> e2e: tests/e2e has no test files yet; skipping");
        return Ok(());
    }
    let target = workspace::target_dir(root);
    let venv = venv_dir(&target);
    ensure_venv(&venv, &suite.join("requirements.txt"))?;

    let debug = target.join("debug");
    // `..` is resolved by hand: canonicalize would fail if shared/ is absent, and the tests
    // report a missing directory better than we can.
    let shared = root.parent().unwrap_or(root).join("shared/conformance");
    run_step(
        "pytest tests/e2e",
        Command::new(venv.join("bin/python"))
            .args(["-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider"])
            .current_dir(root)
            .env("LLM_GATEWAY_BIN", debug.join("llm-gateway"))
            .env("MOCK_UPSTREAM_BIN", debug.join("mock-upstream"))
            .env("CONFORMANCE_DIR", shared),
    )
    // pytest exits 5 when it collected nothing: a failure too, since test files exist.
}

/// `$LLMGW_TEST_VENV` or `<target>/e2e-venv`: under target/ so `cargo clean` resets it.
fn venv_dir(target: &Path) -> PathBuf {
    match std::env::var_os("LLMGW_TEST_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target.join("e2e-venv"),
    }
}

/// Creates the venv if needed and installs the requirements unless the stamp in the venv
/// holds the sha256 of the current requirements file.
fn ensure_venv(venv: &Path, requirements: &Path) -> Result<(), String> {
    let reqs = std::fs::read(requirements).map_err(|e| {
        format!(
            "{}: {e} (the e2e suite lists its Python packages there)",
            requirements.display()
        )
    })?;
    let python = venv.join("bin/python");
    if !python.is_file() {
        run_step(
            &format!("python3 -m venv {}", venv.display()),
            Command::new("python3").arg("-m").arg("venv").arg(venv),
        )?;
    }
    let stamp = venv.join("requirements.sha256");
    let digest = sha256_hex(&reqs);
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == digest) {
        println!("==> e2e venv {} is up to date", venv.display());
        return Ok(());
    }
    run_step(
        "pip install -r tests/e2e/requirements.txt",
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements),
    )?;
    std::fs::write(&stamp, format!("{digest}\n")).map_err(|e| format!("{}: {e}", stamp.display()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True if `dir` holds a pytest file (`test_*.py` or `*_test.py`) at any depth.
fn has_python_tests(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            !name.starts_with('.') && name != "__pycache__" && has_python_tests(&path)
        } else {
            name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options() {
        assert_eq!(Options::parse(&[]).unwrap(), Options::default());
        let opts = Options::parse(&args(&["--no-e2e", "--no-lint"])).unwrap();
        assert!(opts.no_e2e && opts.no_lint);
        assert!(Options::parse(&args(&["--e2e-only"])).unwrap().e2e_only);
        assert!(Options::parse(&args(&["--e2e-only", "--no-e2e"])).is_err());
        assert!(Options::parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn finds_python_tests() {
        let dir = std::env::temp_dir().join(format!("xtask-suite-{}", std::process::id()));
        let nested = dir.join("chat");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(dir.join("conftest.py"), "").unwrap();
        assert!(!has_python_tests(&dir));
        std::fs::write(nested.join("test_chat.py"), "").unwrap();
        assert!(has_python_tests(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!has_python_tests(&dir));
    }
}
