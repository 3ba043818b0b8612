//! From LiteLLM's price file to the project's model table (`catalog/models.json`).
//!
//! Only the fields the gateway uses survive: provider, mode, context limits, five per-token
//! prices and five capability flags. Prices become integer nano-dollars per million tokens
//! (10⁻¹⁵ USD per token), converted from the decimal text, never through `f64`.
//!
//! The output is JSON with one model per line, sorted by id: a refresh shows up in review as a
//! line diff, and `llm-types` can binary-search it. Strings are written unescaped (ids that would
//! need escaping are rejected) so `llm-types` borrows them from the embedded text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::decimal::{self, Scaled};
use super::json::{self, Json};

/// Prices are stored in units of 10^-`PRICE_SCALE` USD per token. 15 holds every price in
/// LiteLLM 1.108.7 exactly (the finest need 12 decimals) with three digits of headroom, and
/// reads as "nano-dollars per million tokens", the unit providers quote in.
pub const PRICE_SCALE: u32 = 15;

/// Source fields, in the order of the table's price columns.
pub const PRICE_FIELDS: [&str; 5] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "output_cost_per_reasoning_token",
];

/// Capability flags: source field and the letter that marks it in a row's flag string.
pub const FLAGS: [(&str, char); 5] = [
    ("supports_function_calling", 't'),
    ("supports_vision", 'v'),
    ("supports_response_schema", 's'),
    ("supports_prompt_caching", 'c'),
    ("supports_reasoning", 'r'),
];

/// The table's columns, in row order; `llm-types` checks it reads the same list.
pub const COLUMNS: [&str; 11] = [
    "id",
    "provider",
    "mode",
    "max_input_tokens",
    "max_output_tokens",
    "input",
    "output",
    "cache_read",
    "cache_creation",
    "reasoning",
    "flags",
];

/// The documentation entry at the top of LiteLLM's file, not a model.
const SAMPLE_SPEC: &str = "sample_spec";

/// Where the data came from, recorded in the header.
#[derive(Debug, Clone)]
pub struct Meta {
    /// e.g. `LiteLLM 1.108.7 model_prices_and_context_window.json`.
    pub source: String,
    pub source_sha256: String,
    /// `YYYY-MM-DD`.
    pub generated: String,
}

/// A generated table and what the codegen did to get it.
#[derive(Debug)]
pub struct Generated {
    pub text: String,
    pub models: usize,
    pub skipped: usize,
    /// `id field value` of every price rounded as float noise.
    pub rounded: Vec<String>,
}

#[derive(Debug)]
struct Row {
    provider: Option<String>,
    mode: Option<String>,
    max_input: Option<u64>,
    max_output: Option<u64>,
    prices: [Option<u64>; 5],
    flags: String,
}

/// Converts the source text. Every problem in the file is collected and reported at once.
pub fn generate(source: &str, meta: &Meta) -> Result<Generated, String> {
    let Json::Object(entries) = json::parse(source)? else {
        return Err("the price file is not a JSON object".into());
    };
    let mut rows = BTreeMap::new();
    let mut errors = Vec::new();
    let mut rounded = Vec::new();
    let mut skipped = 0;
    for (id, entry) in &entries {
        if id == SAMPLE_SPEC {
            skipped += 1;
            continue;
        }
        match row(id, entry, &mut rounded) {
            // Repeated ids: the last wins, as in LiteLLM (Python's json keeps the last).
            Ok(Some(row)) => {
                rows.insert(id.clone(), row);
            }
            Ok(None) => skipped += 1,
            Err(e) => errors.push(format!("`{id}`: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "{} entries cannot be converted exactly:\n  {}",
            errors.len(),
            errors.join("\n  ")
        ));
    }
    let text = render(meta, &rows, &rounded);
    Ok(Generated {
        text,
        models: rows.len(),
        skipped,
        rounded,
    })
}

/// One entry, or `None` when it has neither a token price nor a context limit.
fn row(id: &str, entry: &Json, rounded: &mut Vec<String>) -> Result<Option<Row>, String> {
    if !matches!(entry, Json::Object(_)) {
        return Err("not an object".into());
    }
    plain_string(id)?;
    let mut prices = [None; 5];
    for (slot, field) in prices.iter_mut().zip(PRICE_FIELDS) {
        let Some(text) = number(entry, field)? else {
            continue;
        };
        let scaled =
            decimal::to_scaled(text, PRICE_SCALE, true).map_err(|e| format!("{field}: {e}"))?;
        if let Scaled::RoundedNoise(_) = scaled {
            rounded.push(format!("{id} {field} {text}"));
        }
        *slot = Some(scaled.value());
    }
    let max_input = limit(entry, "max_input_tokens")?;
    let max_output = limit(entry, "max_output_tokens")?;
    if prices.iter().all(Option::is_none) && max_input.is_none() && max_output.is_none() {
        return Ok(None);
    }
    let mut flags = String::new();
    for (field, letter) in FLAGS {
        match entry.get(field) {
            Some(Json::Bool(true)) => flags.push(letter),
            None | Some(Json::Bool(false) | Json::Null) => {}
            Some(other) => return Err(format!("{field} is not a boolean: {other:?}")),
        }
    }
    Ok(Some(Row {
        provider: text(entry, "litellm_provider")?,
        mode: text(entry, "mode")?,
        max_input,
        max_output,
        prices,
        flags,
    }))
}

fn number<'a>(entry: &'a Json, field: &str) -> Result<Option<&'a str>, String> {
    match entry.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(text)) => Ok(Some(text)),
        Some(other) => Err(format!("{field} is not a number: {other:?}")),
    }
}

fn limit(entry: &Json, field: &str) -> Result<Option<u64>, String> {
    number(entry, field)?
        .map(|text| {
            decimal::to_scaled(text, 0, false)
                .map(Scaled::value)
                .map_err(|e| format!("{field}: {e}"))
        })
        .transpose()
}

fn text(entry: &Json, field: &str) -> Result<Option<String>, String> {
    match entry.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => plain_string(s).map(|()| Some(s.clone())),
        Some(other) => Err(format!("{field} is not a string: {other:?}")),
    }
}

/// Strings must not need JSON escapes, so `llm-types` can borrow them from the embedded text.
fn plain_string(s: &str) -> Result<(), String> {
    if s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(format!(
            "{s:?} contains a character that would need escaping"
        ));
    }
    Ok(())
}

fn render(meta: &Meta, rows: &BTreeMap<String, Row>, rounded: &[String]) -> String {
    let q = |s: &str| format!("\"{s}\"");
    let opt_str = |s: &Option<String>| s.as_deref().map_or("null".to_owned(), q);
    let opt_num = |n: Option<u64>| n.map_or("null".to_owned(), |n| n.to_string());
    let list = |items: &mut dyn Iterator<Item = String>, indent: &str| {
        let items: Vec<String> = items.map(|i| format!("{indent}{i}")).collect();
        if items.is_empty() {
            "[]".to_owned()
        } else {
            format!("[\n{}\n  ]", items.join(",\n"))
        }
    };
    let mut out = String::new();
    // `write!` to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(out, "{{");
    let _ = writeln!(
        out,
        "  \"generated_by\": \"cargo xtask codegen (do not edit: re-run it on a newer price file)\","
    );
    let _ = writeln!(out, "  \"source\": {},", q(&meta.source));
    let _ = writeln!(out, "  \"source_sha256\": {},", q(&meta.source_sha256));
    let _ = writeln!(out, "  \"generated\": {},", q(&meta.generated));
    let _ = writeln!(
        out,
        "  \"price_unit\": \"nano-dollars per million tokens (1e-{PRICE_SCALE} USD per token)\","
    );
    let flags = FLAGS
        .iter()
        .map(|(field, letter)| format!("\"{letter}\": \"{field}\""));
    let _ = writeln!(
        out,
        "  \"flags\": {{{}}},",
        flags.collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        out,
        "  \"rounded_float_noise\": {},",
        list(&mut rounded.iter().map(|r| q(r)), "    ")
    );
    let columns = COLUMNS.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    let _ = writeln!(out, "  \"columns\": [{columns}],");
    let mut models = rows.iter().map(|(id, r)| {
        let mut cells = vec![
            q(id),
            opt_str(&r.provider),
            opt_str(&r.mode),
            opt_num(r.max_input),
            opt_num(r.max_output),
        ];
        cells.extend(r.prices.iter().map(|p| opt_num(*p)));
        cells.push(q(&r.flags));
        format!("[{}]", cells.join(","))
    });
    let _ = writeln!(out, "  \"models\": {}", list(&mut models, "    "));
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            source: "LiteLLM 0.0.0 test.json".into(),
            source_sha256: "00".into(),
            generated: "2026-01-02".into(),
        }
    }

    #[test]
    fn converts_entries_to_sorted_rows() {
        let source = r#"{
            "sample_spec": {"input_cost_per_token": 0.0, "max_input_tokens": "doc"},
            "zeta": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 128000,
                     "max_output_tokens": 16384, "input_cost_per_token": 2.5e-06,
                     "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
                     "supports_function_calling": true, "supports_vision": false,
                     "supports_reasoning": true, "input_cost_per_token_batches": 1.25e-06},
            "alpha/image": {"litellm_provider": "fal", "mode": "image_generation",
                            "output_cost_per_image": 0.04},
            "alpha/noisy": {"input_cost_per_token": 3.0001999999999996E-7,
                            "supports_prompt_caching": null},
            "zeta": {"litellm_provider": "openai", "max_input_tokens": 8191}
        }"#;
        let g = generate(source, &meta()).unwrap();
        assert_eq!((g.models, g.skipped), (2, 2));
        assert_eq!(
            g.rounded,
            ["alpha/noisy input_cost_per_token 3.0001999999999996E-7"]
        );
        let rows: Vec<&str> = g.text.lines().filter(|l| l.starts_with("    [")).collect();
        assert_eq!(
            rows,
            [
                r#"    ["alpha/noisy",null,null,null,null,300020000,null,null,null,null,""],"#,
                // the repeated id: the last entry wins
                r#"    ["zeta","openai",null,8191,null,null,null,null,null,null,""]"#,
            ]
        );
        let header: serde_json::Value = serde_json::from_str(&g.text).unwrap();
        assert_eq!(header["generated"], "2026-01-02");
        assert_eq!(
            header["columns"].as_array().map(Vec::len),
            Some(COLUMNS.len())
        );
    }

    #[test]
    fn keeps_prices_flags_and_limits() {
        let source = r#"{"gpt": {"litellm_provider": "openai", "mode": "chat",
            "max_input_tokens": 128000, "max_output_tokens": 16384,
            "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-06, "cache_creation_input_token_cost": 3.75E-6,
            "output_cost_per_reasoning_token": 0.00001, "supports_function_calling": true,
            "supports_vision": true, "supports_response_schema": true,
            "supports_prompt_caching": true, "supports_reasoning": true}}"#;
        let g = generate(source, &meta()).unwrap();
        let expected = r#"    ["gpt","openai","chat",128000,16384,2500000000,10000000000,1250000000,3750000000,10000000000,"tvscr"]"#;
        assert!(g.text.contains(expected), "{}", g.text);
    }

    #[test]
    fn reports_every_entry_that_cannot_be_converted() {
        let source = r#"{
            "fine": {"input_cost_per_token": 1e-6},
            "too-fine": {"input_cost_per_token": 1.5e-16},
            "negative": {"output_cost_per_token": -1e-6},
            "string-price": {"input_cost_per_token": "1e-6"},
            "half-token": {"max_input_tokens": 1000.5},
            "bad-flag": {"max_input_tokens": 10, "supports_vision": "yes"},
            "quo\"te": {"max_input_tokens": 10}
        }"#;
        let err = generate(source, &meta()).unwrap_err();
        assert!(
            err.starts_with("6 entries cannot be converted exactly"),
            "{err}"
        );
        for id in [
            "too-fine",
            "negative",
            "string-price",
            "half-token",
            "bad-flag",
            "quo\"te",
        ] {
            assert!(err.contains(&format!("`{id}`")), "{id} missing from {err}");
        }
        assert!(!err.contains("`fine`"));
        assert!(generate("[]", &meta()).is_err());
    }
}
