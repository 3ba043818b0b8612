//! Tests of `cargo xtask codegen` against the real price file and the committed table.

use super::decimal::{self, Decimal};
use super::json::{self, Json};
use super::*;

/// The shared data is outside the repository; without it only the unit tests can run.
fn shared_input() -> Option<(Options, String)> {
    let opts = Options::parse(&[]).unwrap();
    if !opts.input.exists() {
        eprintln!(
            "SKIPPED: {} is absent, the committed table cannot be checked against it",
            opts.input.display()
        );
        return None;
    }
    let committed = std::fs::read_to_string(&opts.output).unwrap();
    Some((opts, committed))
}

#[test]
fn committed_table_is_what_the_generator_makes_of_the_shared_data() {
    let Some((opts, committed)) = shared_input() else {
        return;
    };
    let outcome = regenerate(&opts, Some(&committed), "9999-12-31").unwrap();
    assert!(
        !outcome.changed && outcome.generated.text == committed,
        "{} is out of date: run `cargo xtask codegen`",
        opts.output.display()
    );
    let header: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert!(
        header["source"]
            .as_str()
            .unwrap()
            .starts_with("LiteLLM 1.108.7 ")
    );
}

#[test]
fn every_price_in_the_table_is_the_source_price_exactly() {
    let Some((opts, committed)) = shared_input() else {
        return;
    };
    let source = json::parse(&std::fs::read_to_string(&opts.input).unwrap()).unwrap();
    let table: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let noise: Vec<&str> = table["rounded_float_noise"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let rows = table["models"].as_array().unwrap();
    let (mut exact, mut rounded) = (0, 0);
    for row in rows {
        let id = row[0].as_str().unwrap();
        let entry = source
            .get(id)
            .unwrap_or_else(|| panic!("{id} not in the source"));
        for (i, field) in table::PRICE_FIELDS.iter().enumerate() {
            let stored = row[5 + i].as_u64();
            let Some(Json::Number(text)) = entry.get(field) else {
                assert_eq!(stored, None, "{id} {field}");
                continue;
            };
            let stored = stored.unwrap_or_else(|| panic!("{id} {field} missing"));
            let src = decimal::parse(text).unwrap();
            // The stored integer read back as dollars: units of 10^-PRICE_SCALE.
            let back = decimal::parse(&format!("{stored}e-{}", table::PRICE_SCALE)).unwrap();
            if same_value(&src, &back) {
                exact += 1;
            } else {
                assert!(
                    noise.contains(&format!("{id} {field} {text}").as_str()),
                    "{id} {field}"
                );
                rounded += 1;
            }
        }
    }
    assert_eq!(rounded, noise.len());
    // Sanity bounds on the data itself, so a truncated read cannot pass.
    assert!(
        rows.len() > 3_000 && exact > 8_000,
        "{} rows, {exact} prices",
        rows.len()
    );
}

fn same_value(a: &Decimal, b: &Decimal) -> bool {
    (a.digits == 0 && b.digits == 0) || (a.digits == b.digits && a.exponent == b.exponent)
}

#[test]
fn parses_options() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let opts = Options::parse(&args(
        "--input in.json --output out.json --source S --check",
    ));
    assert_eq!(
        opts,
        Ok(Options {
            input: "in.json".into(),
            output: "out.json".into(),
            source: Some("S".into()),
            check: true,
        })
    );
    let defaults = Options::parse(&[]).unwrap();
    assert!(
        defaults
            .input
            .ends_with("model_prices_and_context_window.json")
    );
    assert!(
        defaults
            .output
            .ends_with("crates/llm-types/src/catalog/models.json")
    );
    assert!(Options::parse(&args("--input")).is_err());
    assert!(Options::parse(&args("--bogus")).is_err());
}

#[test]
fn regenerating_unchanged_data_keeps_the_date() {
    let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("prices.json");
    std::fs::write(&input, r#"{"m": {"input_cost_per_token": 1e-6}}"#).unwrap();
    std::fs::write(
        dir.join("README.md"),
        "from the LiteLLM Python package 9.8.7 (PyPI)",
    )
    .unwrap();
    let opts = Options {
        input: input.clone(),
        output: dir.join("out.json"),
        source: None,
        check: false,
    };
    let first = regenerate(&opts, None, "2026-01-01").unwrap();
    assert!(first.changed);
    assert!(
        first
            .generated
            .text
            .contains("\"source\": \"LiteLLM 9.8.7 prices.json\"")
    );
    let again = regenerate(&opts, Some(&first.generated.text), "2026-02-02").unwrap();
    assert!(!again.changed);
    assert!(
        again
            .generated
            .text
            .contains("\"generated\": \"2026-01-01\"")
    );
    std::fs::write(&input, r#"{"m": {"input_cost_per_token": 2e-6}}"#).unwrap();
    let changed = regenerate(&opts, Some(&first.generated.text), "2026-02-02").unwrap();
    assert!(changed.changed);
    assert!(
        changed
            .generated
            .text
            .contains("\"generated\": \"2026-02-02\"")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dates_from_days_since_the_epoch() {
    let cases = [
        (0, "1970-01-01"),
        (59, "1970-03-01"),
        (11_016, "2000-02-29"),
        (20_417, "2025-11-25"),
        (20_782, "2026-11-25"),
    ];
    for (days, date) in cases {
        assert_eq!(civil_date(days), date, "{days}");
    }
}
