//! What validation found: errors (the config is unusable) and warnings (keys we do not
//! support yet, reported by name, never silently ignored).

use std::fmt;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueLevel {
    /// The configuration cannot be used.
    Error,
    /// A key the gateway does not support (yet); it is ignored. `--strict` makes it an error.
    Unsupported,
    /// Accepted, but worth knowing (e.g. parsed and not enforced yet).
    Notice,
}

/// One finding, at a key path like `model_list[0].litellm_params.api_base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub level: IssueLevel,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            IssueLevel::Error => "error",
            IssueLevel::Unsupported => "unsupported",
            IssueLevel::Notice => "notice",
        };
        write!(f, "{level}: {}: {}", self.path, self.message)
    }
}

/// Collects issues while a configuration is validated.
#[derive(Debug, Default)]
pub struct Report {
    pub issues: Vec<ConfigIssue>,
}

impl Report {
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(IssueLevel::Error, path, message);
    }

    pub fn unsupported(&mut self, path: impl Into<String>) {
        self.push(IssueLevel::Unsupported, path, "not supported yet; ignored");
    }

    pub fn notice(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(IssueLevel::Notice, path, message);
    }

    fn push(&mut self, level: IssueLevel, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(ConfigIssue {
            level,
            path: path.into(),
            message: message.into(),
        });
    }

    /// Whether any issue makes the configuration unusable (`strict`: unsupported keys too).
    pub fn has_errors(&self, strict: bool) -> bool {
        self.issues
            .iter()
            .any(|i| i.level == IssueLevel::Error || (strict && i.level == IssueLevel::Unsupported))
    }

    /// Reports every key of `unknown` under `prefix` as unsupported, in sorted order.
    pub fn unsupported_keys<'a>(
        &mut self,
        prefix: &str,
        unknown: impl IntoIterator<Item = &'a String>,
    ) {
        let mut keys: Vec<&String> = unknown.into_iter().collect();
        keys.sort();
        for key in keys {
            self.unsupported(join(prefix, key));
        }
    }
}

/// `a.b` (or `b` at the root).
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Deserializes `value` as `T`, reporting a type error with its full key path under `prefix`.
pub fn parse_section<T: serde::de::DeserializeOwned>(
    report: &mut Report,
    prefix: &str,
    value: serde_json::Value,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let inner = error.inner().to_string();
            let path = error.path().to_string();
            let mut full = if path == "." {
                prefix.to_owned()
            } else {
                join_path(prefix, &path)
            };
            // serde reports a missing field at its parent; name the field itself.
            if let Some(field) = missing_field(&inner) {
                full = join(&full, field);
            }
            report.error(
                if full.is_empty() {
                    "(root)".to_owned()
                } else {
                    full
                },
                inner,
            );
            None
        }
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    if path.starts_with('[') || prefix.is_empty() {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// `missing field `x`` → `x`.
pub fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}
