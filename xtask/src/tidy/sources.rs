//! Source hygiene: rules about the text of `.rs` files.
//!
//! - shipped code (`crates/`) starts every file with a `//!` module doc (after any `#![...]`
//!   attributes), because a reader opens files, not the module tree;
//! - shipped files stay under [`MAX_LINES`] lines: a longer file is two modules in one;
//! - nowhere in the workspace an ignored test (it can never fail) or a thread sleep (tests
//!   synchronise on events and tokio's paused clock, never on wall-clock time).

use std::path::Path;

use super::Violation;

/// The longest a file under `crates/` may be.
pub const MAX_LINES: usize = 800;

// The needles are assembled at compile time so this file does not trip its own check.
const IGNORE_ATTR: &str = concat!("#[", "ignore");
const THREAD_SLEEP: &str = concat!("thread", "::sleep");

/// Checks one file. `rel` names it in messages; `shipped` is true under `crates/`.
pub fn check_source(rel: &Path, text: &str, shipped: bool) -> Vec<Violation> {
    let mut out = Vec::new();
    if shipped {
        if !starts_with_module_doc(text) {
            out.push(Violation::new(
                rel,
                "does not start with a `//!` module doc saying what the module is for",
            ));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            out.push(Violation::new(
                rel,
                format!("{lines} lines (limit {MAX_LINES}): split it into modules"),
            ));
        }
    }
    for (n, line) in text.lines().enumerate() {
        // Only code counts: prose may mention what it forbids.
        let code = line.split("//").next().unwrap_or("");
        let line_no = n + 1;
        if code.contains(IGNORE_ATTR) {
            out.push(Violation::new(
                rel,
                format!(
                    "line {line_no}: `{IGNORE_ATTR}]` test: a test that never runs cannot fail; \
                     fix it or delete it"
                ),
            ));
        }
        if code.contains(THREAD_SLEEP) {
            out.push(Violation::new(
                rel,
                format!(
                    "line {line_no}: `std::{THREAD_SLEEP}` blocks a thread; wait on an event or \
                     use tokio's clock"
                ),
            ));
        }
    }
    out
}

/// True when the first thing after blank lines and inner attributes (`#![...]`, possibly over
/// several lines) is a `//!` comment.
fn starts_with_module_doc(text: &str) -> bool {
    // Unclosed brackets of the inner attribute being skipped.
    let mut depth: i64 = 0;
    for line in text.lines() {
        let trimmed = line.trim();
        if depth > 0 || trimmed.starts_with("#![") {
            depth += bracket_balance(trimmed);
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        return trimmed.starts_with("//!");
    }
    false
}

fn bracket_balance(line: &str) -> i64 {
    line.chars()
        .map(|c| match c {
            '[' | '(' => 1,
            ']' | ')' => -1,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `text`; `expected` are substrings of the reported reasons, one per violation, in any order.
    fn check(text: &str, shipped: bool, expected: &[&str]) {
        let got = check_source(Path::new("crates/x/src/lib.rs"), text, shipped);
        let mut unmatched: Vec<&str> = got.iter().map(|v| v.reason.as_str()).collect();
        // Order-insensitive: each expected substring claims one reason.
        for want in expected {
            let Some(i) = unmatched.iter().position(|r| r.contains(want)) else {
                panic!("{text:?}: no violation mentions `{want}`; got {got:#?}");
            };
            unmatched.remove(i);
        }
        assert!(unmatched.is_empty(), "{text:?}: unexpected {unmatched:#?}");
    }

    #[test]
    fn module_docs() {
        check("//! Docs.\n\nfn f() {}\n", true, &[]);
        check("\n//! Docs after a blank line.\n", true, &[]);
        check("#![forbid(unsafe_code)]\n//! Docs.\n", true, &[]);
        check(
            "#![allow(\n    clippy::print_stdout,\n    reason = \"a CLI\"\n)]\n\n//! Docs.\n",
            true,
            &[],
        );
        check(
            "/// Item docs are not module docs.\nfn f() {}\n",
            true,
            &["`//!` module doc"],
        );
        check("use std::fs;\n//! Too late.\n", true, &["`//!` module doc"]);
        check("", true, &["`//!` module doc"]);
        // Outside crates/ (tests/, xtask/) module docs are not enforced.
        check("fn f() {}\n", false, &[]);
    }

    #[test]
    fn long_files() {
        let at_limit = format!("//! Docs.\n{}", "fn f() {}\n".repeat(MAX_LINES - 1));
        check(&at_limit, true, &[]);
        let over = format!("{at_limit}fn g() {{}}\n");
        check(&over, true, &["801 lines (limit 800)"]);
        check(&over, false, &[]);
    }

    #[test]
    fn ignored_tests_and_sleeps() {
        let ignored = format!("//! Docs.\n#[test]\n{IGNORE_ATTR}]\nfn t() {{}}\n");
        check(&ignored, true, &[&format!("line 3: `{IGNORE_ATTR}]`")]);
        check(&ignored, false, &["line 3"]);
        let with_reason = format!("{IGNORE_ATTR} = \"slow\"]\nfn t() {{}}\n");
        check(&with_reason, false, &["line 1"]);

        let sleep = format!("fn f() {{\n    std::{THREAD_SLEEP}(d);\n}}\n");
        check(&sleep, false, &[&format!("line 2: `std::{THREAD_SLEEP}`")]);
        let short = format!("use std::thread;\nfn f() {{ {THREAD_SLEEP}(d) }}\n");
        check(&short, false, &["line 2"]);
        // Mentions in comments are fine.
        let prose = format!("// never {THREAD_SLEEP} or {IGNORE_ATTR}]\nfn f() {{}}\n");
        check(&prose, false, &[]);
        check("tokio::time::sleep(d).await;\n", false, &[]);
    }
}
