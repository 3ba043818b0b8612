//! `docs/providers.md` is checked against the code: its capability table must be exactly what
//! [`Family::capabilities`] says, so the documented matrix cannot drift from the adapters.

use llm_providers::Family;

const BEGIN: &str = "<!-- capability-matrix:begin -->";
const END: &str = "<!-- capability-matrix:end -->";

/// The table as the code defines it.
fn rendered() -> String {
    let columns: Vec<&str> = Family::ALL[0]
        .capabilities()
        .columns()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let mut table = format!("| family | prefixes | {} |\n", columns.join(" | "));
    table.push_str(&format!("|---|---|{}\n", "---|".repeat(columns.len())));
    for family in Family::ALL {
        let prefixes: Vec<String> = family.prefixes().iter().map(|p| format!("`{p}`")).collect();
        let cells: Vec<&str> = family
            .capabilities()
            .columns()
            .iter()
            .map(|(_, on)| if *on { "yes" } else { "—" })
            .collect();
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            family.name(),
            prefixes.join(", "),
            cells.join(" | ")
        ));
    }
    table
}

#[test]
fn docs_providers_md_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/providers.md");
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let documented = doc
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(table, _)| table.trim().to_owned())
        .unwrap_or_default();
    let expected = rendered();
    assert_eq!(
        documented,
        expected.trim(),
        "docs/providers.md is out of date; put this between the capability-matrix markers:\n{expected}"
    );
}
