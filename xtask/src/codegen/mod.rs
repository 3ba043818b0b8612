//! `cargo xtask codegen`: regenerates the model table of `llm-types` from LiteLLM's price file.
//!
//! Reads `<workspace>/../shared/data/model_prices_and_context_window.json` (or `--input PATH`)
//! and writes `crates/llm-types/src/catalog/models.json` (see [`table`] for the format). The
//! header records the source (LiteLLM version, read from the `README.md` beside the input, or
//! `--source LABEL`), its sha256 and the generation date. Re-running on unchanged data keeps the
//! old date, so the file only changes when the data does. `--check` fails instead of writing:
//! the committed table must be what the generator makes of the data.

mod decimal;
mod json;
mod table;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::workspace;

const INPUT: &str = "../shared/data/model_prices_and_context_window.json";
const OUTPUT: &str = "crates/llm-types/src/catalog/models.json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub input: PathBuf,
    pub output: PathBuf,
    pub source: Option<String>,
    pub check: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let root = workspace::root();
        let mut opts = Options {
            input: root.join(INPUT),
            output: root.join(OUTPUT),
            source: None,
            check: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("`{name}` needs a value"))
            };
            match arg.as_str() {
                "--input" => opts.input = PathBuf::from(value("--input")?),
                "--output" => opts.output = PathBuf::from(value("--output")?),
                "--source" => opts.source = Some(value("--source")?),
                "--check" => opts.check = true,
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        Ok(opts)
    }
}

pub fn run(opts: &Options) -> Result<(), String> {
    let existing = std::fs::read_to_string(&opts.output).ok();
    let outcome = regenerate(opts, existing.as_deref(), &today())?;
    let g = &outcome.generated;
    println!(
        "{} models, {} entries skipped (no token price, no context limit), {} float-noise prices rounded",
        g.models,
        g.skipped,
        g.rounded.len()
    );
    for r in &g.rounded {
        println!("  rounded: {r}");
    }
    if !outcome.changed {
        println!("{} is up to date", opts.output.display());
        return Ok(());
    }
    if opts.check {
        return Err(format!(
            "{} is out of date: run `cargo xtask codegen`",
            opts.output.display()
        ));
    }
    std::fs::write(&opts.output, &g.text)
        .map_err(|e| format!("cannot write {}: {e}", opts.output.display()))?;
    println!("wrote {} ({} bytes)", opts.output.display(), g.text.len());
    Ok(())
}

struct Outcome {
    generated: table::Generated,
    changed: bool,
}

/// Generates the table; dated like `existing` when that is all that would differ, else `today`.
fn regenerate(opts: &Options, existing: Option<&str>, today: &str) -> Result<Outcome, String> {
    let source = std::fs::read_to_string(&opts.input)
        .map_err(|e| format!("cannot read {}: {e}", opts.input.display()))?;
    let label = match &opts.source {
        Some(label) => label.clone(),
        None => source_label(&opts.input)?,
    };
    let mut meta = table::Meta {
        source: label,
        source_sha256: sha256_hex(source.as_bytes()),
        generated: today.to_owned(),
    };
    if let Some(date) = existing.and_then(generated_date) {
        meta.generated = date;
        let generated = table::generate(&source, &meta)?;
        if Some(generated.text.as_str()) == existing {
            return Ok(Outcome {
                generated,
                changed: false,
            });
        }
        meta.generated = today.to_owned();
    }
    Ok(Outcome {
        generated: table::generate(&source, &meta)?,
        changed: true,
    })
}

/// `LiteLLM <version> <file name>`, the version read from the data README's
/// "the LiteLLM Python package 1.108.7" line.
fn source_label(input: &Path) -> Result<String, String> {
    const MARKER: &str = "LiteLLM Python package ";
    let readme = input.with_file_name("README.md");
    let version = std::fs::read_to_string(&readme)
        .ok()
        .and_then(|text| {
            let after = &text[text.find(MARKER)? + MARKER.len()..];
            after.split_whitespace().next().map(str::to_owned)
        })
        .ok_or_else(|| {
            format!(
                "cannot find the LiteLLM version in {}: pass --source LABEL",
                readme.display()
            )
        })?;
    let file = input
        .file_name()
        .map(|f| f.to_string_lossy())
        .unwrap_or_default();
    Ok(format!("LiteLLM {version} {file}"))
}

fn generated_date(table: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(table).ok()?;
    value.get("generated")?.as_str().map(str::to_owned)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Today's UTC date as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_date(secs / 86_400)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests;
