//! The crate layering of the design brief, checked on each crate's `Cargo.toml`.
//!
//! ```text
//! llm-types  <-  llm-providers  <-  llm-router  <-  llm-gateway
//!     ^                                               |
//!     +----------------  llm-policy  <----------------+
//! ```
//!
//! Normal dependencies (`[dependencies]`, `[build-dependencies]` and their `[target.*]` forms)
//! must follow the arrows and avoid each layer's banned third-party crates. Dev-dependencies
//! may add test-only crates and third-party crates freely, but never a higher crate of ours:
//! a test that reaches upward hides a cycle the layering forbids.

use std::collections::BTreeMap;
use std::path::Path;

use super::Violation;

/// The test-only mock upstream: never a normal dependency of a shipped crate.
const MOCK: &str = "llm-mock-upstream";

/// Every crate of ours that a layer rule can name.
const OURS: &[&str] = &[
    "llm-types",
    "llm-providers",
    "llm-router",
    "llm-policy",
    "llm-gateway",
    MOCK,
];

/// What one shipped crate may depend on.
struct Layer {
    name: &'static str,
    /// Our crates it may depend on.
    allowed: &'static [&'static str],
    /// Third-party crates it must not depend on, and why.
    banned: &'static [&'static str],
    /// Banned crates that are fine as `optional = true` (behind an opt-in feature).
    optional_ok: &'static [&'static str],
    why: &'static str,
}

const LAYERS: &[Layer] = &[
    Layer {
        name: "llm-types",
        allowed: &[],
        banned: &[
            "tokio",
            "reqwest",
            "axum",
            "sqlx",
            "redis",
            "deadpool-redis",
            "hyper",
        ],
        optional_ok: &["axum"],
        why: "llm-types is plain data: no runtime, HTTP, database or Redis (axum only behind its optional feature)",
    },
    Layer {
        name: "llm-providers",
        allowed: &["llm-types"],
        banned: &["sqlx", "redis", "deadpool-redis"],
        optional_ok: &[],
        why: "llm-providers sits on llm-types only: no database, no Redis, no routing",
    },
    Layer {
        name: "llm-router",
        allowed: &["llm-types", "llm-providers"],
        banned: &["sqlx"],
        optional_ok: &[],
        why: "llm-router sits on llm-providers and llm-types: no keys, budgets or database",
    },
    Layer {
        name: "llm-policy",
        allowed: &["llm-types"],
        banned: &[],
        optional_ok: &[],
        why: "llm-policy sits on llm-types only: it never names a provider or a route",
    },
    Layer {
        name: "llm-gateway",
        allowed: &["llm-types", "llm-providers", "llm-router", "llm-policy"],
        banned: &[],
        optional_ok: &[],
        why: "llm-gateway is the top crate",
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Dev,
}

/// One dependency entry, resolved to the package it names.
struct Dep {
    package: String,
    optional: bool,
    kind: Kind,
    /// The table it was found in, for the message (`[dependencies]`, `[target.x.dependencies]`).
    section: String,
}

/// Checks one shipped crate's manifest text. `rel` names the file in messages; `renames` maps
/// `[workspace.dependencies]` keys that rename a package to that package.
pub fn check_manifest(
    rel: &Path,
    text: &str,
    renames: &BTreeMap<String, String>,
) -> Vec<Violation> {
    let table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => return vec![Violation::new(rel, format!("not valid TOML: {e}"))],
    };
    let Some(name) = table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
    else {
        return vec![Violation::new(rel, "no [package] name")];
    };
    let Some(layer) = LAYERS.iter().find(|l| l.name == name) else {
        return vec![Violation::new(
            rel,
            format!(
                "crate `{name}` is not in the layer table of xtask/src/tidy/layers.rs: \
                 decide where it sits and add it"
            ),
        )];
    };

    let mut out = Vec::new();
    for dep in deps(&table, renames) {
        let pkg = dep.package.as_str();
        let ours = OURS.contains(&pkg);
        let reason = match dep.kind {
            Kind::Normal if pkg == MOCK => Some(format!(
                "`{pkg}` in {} of a shipped crate: test-only code goes in [dev-dependencies]",
                dep.section
            )),
            Kind::Normal if ours && !layer.allowed.contains(&pkg) => Some(format!(
                "`{name}` may not depend on `{pkg}` ({}): {}",
                dep.section, layer.why
            )),
            Kind::Normal
                if layer.banned.contains(&pkg)
                    && !(dep.optional && layer.optional_ok.contains(&pkg)) =>
            {
                Some(format!(
                    "`{name}` may not depend on `{pkg}` ({}): {}",
                    dep.section, layer.why
                ))
            }
            Kind::Dev if ours && pkg != MOCK && pkg != name && !layer.allowed.contains(&pkg) => {
                Some(format!(
                    "`{name}` may not dev-depend on `{pkg}` ({}): a lower crate's tests never \
                     reach a higher crate",
                    dep.section
                ))
            }
            _ => None,
        };
        out.extend(reason.map(|r| Violation::new(rel, r)));
    }
    out
}

/// All dependency entries of a manifest, top-level and per target.
fn deps(table: &toml::Table, renames: &BTreeMap<String, String>) -> Vec<Dep> {
    let mut out = Vec::new();
    collect(table, "", renames, &mut out);
    let targets = table.get("target").and_then(toml::Value::as_table);
    for (cfg, target) in targets.into_iter().flatten() {
        if let Some(target) = target.as_table() {
            collect(target, &format!("target.{cfg}."), renames, &mut out);
        }
    }
    out
}

fn collect(
    table: &toml::Table,
    prefix: &str,
    renames: &BTreeMap<String, String>,
    out: &mut Vec<Dep>,
) {
    const SECTIONS: &[(&str, Kind)] = &[
        ("dependencies", Kind::Normal),
        ("build-dependencies", Kind::Normal),
        ("dev-dependencies", Kind::Dev),
    ];
    for &(section, kind) in SECTIONS {
        let Some(entries) = table.get(section).and_then(toml::Value::as_table) else {
            continue;
        };
        for (key, value) in entries {
            let explicit = value.get("package").and_then(toml::Value::as_str);
            let inherited = value
                .get("workspace")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            let package = match explicit {
                Some(p) => p.to_owned(),
                None if inherited => renames.get(key).unwrap_or(key).clone(),
                None => key.clone(),
            };
            let optional = value
                .get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            out.push(Dep {
                package,
                optional,
                kind,
                section: format!("[{prefix}{section}]"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `deps` (TOML dependency sections) as the manifest of crate `name`; `expected` are
    /// substrings of the reported reasons, one per violation, in any order.
    fn check(name: &str, deps: &str, expected: &[&str]) {
        let text = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n{deps}");
        let renames = BTreeMap::from([("types-renamed".to_owned(), "llm-types".to_owned())]);
        let got = check_manifest(Path::new("crates/x/Cargo.toml"), &text, &renames);
        let mut unmatched: Vec<&str> = got.iter().map(|v| v.reason.as_str()).collect();
        // Order-insensitive: each expected substring claims one reason.
        for want in expected {
            let Some(i) = unmatched.iter().position(|r| r.contains(want)) else {
                panic!("{name}: no violation mentions `{want}`; got {got:#?}");
            };
            unmatched.remove(i);
        }
        assert!(unmatched.is_empty(), "{name}: unexpected {unmatched:#?}");
    }

    #[test]
    fn good_manifests_pass() {
        check(
            "llm-types",
            "[features]\naxum = [\"dep:axum\"]\n[dependencies]\nserde = \"1\"\n\
             axum = { workspace = true, optional = true }\n\
             [dev-dependencies]\ntokio = \"1\"\n",
            &[],
        );
        check(
            "llm-providers",
            "[dependencies]\nllm-types.workspace = true\nreqwest = \"0.13\"\n\
             [dev-dependencies]\nllm-mock-upstream.workspace = true\n",
            &[],
        );
        check(
            "llm-router",
            "[dependencies]\nllm-types = { path = \"../llm-types\" }\nllm-providers.workspace = true\n\
             redis = \"0.32\"\n",
            &[],
        );
        check(
            "llm-policy",
            "[dependencies]\nllm-types.workspace = true\nsqlx = \"0.8\"\n",
            &[],
        );
        check(
            "llm-gateway",
            "[dependencies]\nllm-types.workspace = true\nllm-providers.workspace = true\n\
             llm-router.workspace = true\nllm-policy.workspace = true\n\
             [dev-dependencies]\nllm-mock-upstream.workspace = true\n",
            &[],
        );
    }

    #[test]
    fn upward_and_sideways_deps_fail() {
        check(
            "llm-types",
            "[dependencies]\nllm-providers.workspace = true\n",
            &["may not depend on `llm-providers` ([dependencies])"],
        );
        check(
            "llm-providers",
            "[dependencies]\nllm-router.workspace = true\nllm-gateway.workspace = true\n",
            &["`llm-router`", "`llm-gateway`"],
        );
        check(
            "llm-router",
            "[dependencies]\nllm-policy.workspace = true\n",
            &["may not depend on `llm-policy`"],
        );
        check(
            "llm-policy",
            "[dependencies]\nllm-providers.workspace = true\nllm-router.workspace = true\n",
            &["`llm-providers`", "`llm-router`"],
        );
    }

    #[test]
    fn banned_third_party_crates_fail() {
        check(
            "llm-types",
            "[dependencies]\ntokio = \"1\"\nreqwest = \"0.13\"\nsqlx = \"0.8\"\nredis = \"0.32\"\n\
             deadpool-redis = \"0.22\"\nhyper = \"1\"\n",
            &[
                "`tokio`",
                "`reqwest`",
                "`sqlx`",
                "`redis`",
                "`deadpool-redis`",
                "`hyper`",
            ],
        );
        check(
            "llm-types",
            "[dependencies]\naxum.workspace = true\n",
            &["`axum`"],
        );
        // `optional` is an escape hatch for axum only.
        check(
            "llm-types",
            "[dependencies]\ntokio = { version = \"1\", optional = true }\n",
            &["`tokio`"],
        );
        check(
            "llm-providers",
            "[dependencies]\nsqlx = \"0.8\"\nredis = \"0.32\"\ndeadpool-redis = \"0.22\"\n",
            &["`sqlx`", "`redis`", "`deadpool-redis`"],
        );
        check(
            "llm-router",
            "[dependencies]\nsqlx = \"0.8\"\n",
            &["`sqlx`"],
        );
    }

    #[test]
    fn target_and_build_sections_count_as_normal() {
        check(
            "llm-types",
            "[target.'cfg(unix)'.dependencies]\ntokio = \"1\"\n",
            &["([target.cfg(unix).dependencies])"],
        );
        check(
            "llm-policy",
            "[build-dependencies]\nllm-router.workspace = true\n",
            &["([build-dependencies])"],
        );
    }

    #[test]
    fn renamed_packages_are_seen_through() {
        check(
            "llm-types",
            "[dependencies]\nproviders = { package = \"llm-providers\", path = \"../p\" }\n",
            &["`llm-providers`"],
        );
        // `types-renamed` is renamed to llm-types in [workspace.dependencies] (see `check`).
        check(
            "llm-providers",
            "[dependencies]\ntypes-renamed.workspace = true\n",
            &[],
        );
        check(
            "llm-types",
            "[dependencies]\ntypes-renamed.workspace = true\n",
            &["may not depend on `llm-types`"],
        );
    }

    #[test]
    fn mock_upstream_is_dev_only() {
        check(
            "llm-gateway",
            "[dependencies]\nllm-mock-upstream.workspace = true\n",
            &["test-only code goes in [dev-dependencies]"],
        );
        check(
            "llm-providers",
            "[target.'cfg(unix)'.dependencies]\nllm-mock-upstream.workspace = true\n",
            &["`llm-mock-upstream` in [target.cfg(unix).dependencies]"],
        );
    }

    #[test]
    fn dev_deps_never_reach_upward() {
        check(
            "llm-providers",
            "[dev-dependencies]\nllm-router.workspace = true\n",
            &["may not dev-depend on `llm-router`"],
        );
        check(
            "llm-types",
            "[target.'cfg(unix)'.dev-dependencies]\nllm-gateway.workspace = true\n",
            &["may not dev-depend on `llm-gateway`"],
        );
        // Third-party crates are fine in tests, even banned ones.
        check(
            "llm-types",
            "[dev-dependencies]\ntokio = \"1\"\nreqwest = \"0.13\"\n",
            &[],
        );
    }

    #[test]
    fn unknown_crates_and_bad_manifests_are_reported() {
        check("llm-newcrate", "", &["not in the layer table"]);
        let got = check_manifest(Path::new("x"), "[package\n", &BTreeMap::new());
        assert!(got[0].reason.contains("not valid TOML"), "{got:?}");
        let got = check_manifest(Path::new("x"), "[workspace]\n", &BTreeMap::new());
        assert!(got[0].reason.contains("no [package] name"), "{got:?}");
    }
}
