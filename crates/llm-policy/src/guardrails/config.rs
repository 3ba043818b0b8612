//! Guardrail configuration: LiteLLM's `guardrails:` list shape, parsed by hand so that every
//! mistake is reported at once and named by its path (`guardrails[1].litellm_params.mode`).
//!
//! Each item is `{guardrail_name, litellm_params: {guardrail, mode, default_on, action, ...}}`;
//! the native config may also write the parameters flat beside `guardrail_name` (or `name`).

use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

use super::pii::Entity;

/// One configuration error: the key path at fault and what is wrong with it.
pub type ConfigError = (String, String);

/// When a guardrail runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On the request, before the upstream call; may block or rewrite it.
    PreCall,
    /// On the request, concurrently with the upstream call; may only block.
    DuringCall,
    /// On the complete response (and on streams, per chunk window).
    PostCall,
}

impl Stage {
    /// The stage as configured and as sent to webhooks.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreCall => "pre_call",
            Stage::DuringCall => "during_call",
            Stage::PostCall => "post_call",
        }
    }

    fn parse(text: &str) -> Option<Stage> {
        match text {
            "pre_call" => Some(Stage::PreCall),
            "during_call" => Some(Stage::DuringCall),
            "post_call" => Some(Stage::PostCall),
            _ => None,
        }
    }
}

/// What a detector guardrail does on a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace each match by a numbered token (`[EMAIL_1]`).
    Mask,
    /// Refuse the request (or the response) with `guardrail_blocked`.
    Block,
}

/// A configured guardrail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardrailSpec {
    /// `guardrail_name`: how keys, teams and requests select it.
    pub name: String,
    /// The stages it runs in (`mode`), never empty.
    pub modes: Vec<Stage>,
    /// Runs on every request without being selected.
    pub default_on: bool,
    pub kind: GuardrailKind,
}

impl GuardrailSpec {
    /// Whether the guardrail runs in `stage`.
    pub fn runs_in(&self, stage: Stage) -> bool {
        self.modes.contains(&stage)
    }
}

/// The built-in guardrails (`litellm_params.guardrail`) and their parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "guardrail", rename_all = "snake_case")]
pub enum GuardrailKind {
    /// `pii`: personal data and secrets.
    Pii {
        action: Action,
        entities: Vec<Entity>,
        /// Restore masked values in the response.
        unmask: bool,
    },
    /// `regex`: user patterns.
    Regex {
        action: Action,
        patterns: Vec<String>,
        unmask: bool,
    },
    /// `keywords`: whole words, case-insensitive.
    Keywords {
        action: Action,
        words: Vec<String>,
        unmask: bool,
    },
    /// `max_input_tokens`: a limit on the estimated prompt tokens.
    MaxInputTokens { limit: u64 },
    /// `webhook`: the user's HTTP service decides.
    Webhook(WebhookSpec),
}

/// A webhook guardrail's endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookSpec {
    pub url: String,
    pub timeout: Duration,
    /// On timeout, transport error, non-2xx or an unreadable answer: allow (true) or block.
    pub fail_open: bool,
    pub headers: Vec<(String, String)>,
}

/// The webhook timeout when `timeout_ms` is not set.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

const KNOWN: &str = "pii, regex, keywords, max_input_tokens, webhook";

impl GuardrailSpec {
    /// Parses the `guardrails:` list. Every error is returned, each named by its key path.
    pub fn from_litellm(value: &Value) -> Result<Vec<GuardrailSpec>, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut specs = Vec::new();
        let Some(items) = value.as_array() else {
            return Err(vec![("guardrails".into(), "must be a list".into())]);
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("guardrails[{i}]");
            let mut p = Parser {
                errors: &mut errors,
            };
            if let Some(spec) = p.item(&path, item) {
                if specs.iter().any(|s: &GuardrailSpec| s.name == spec.name) {
                    p.err(
                        format!("{path}.guardrail_name"),
                        format!("duplicate guardrail name `{}`", spec.name),
                    );
                } else {
                    specs.push(spec);
                }
            }
        }
        if errors.is_empty() {
            Ok(specs)
        } else {
            Err(errors)
        }
    }
}

struct Parser<'e> {
    errors: &'e mut Vec<ConfigError>,
}

impl Parser<'_> {
    fn err(&mut self, path: String, message: impl Into<String>) {
        self.errors.push((path, message.into()));
    }

    fn item(&mut self, path: &str, item: &Value) -> Option<GuardrailSpec> {
        let Some(obj) = item.as_object() else {
            self.err(path.to_owned(), "must be a mapping");
            return None;
        };
        let name = match obj.get("guardrail_name").or_else(|| obj.get("name")) {
            Some(Value::String(name)) if !name.is_empty() => Some(name.clone()),
            _ => {
                self.err(
                    format!("{path}.guardrail_name"),
                    "required: a non-empty string",
                );
                None
            }
        };
        let (params, ppath) = match obj.get("litellm_params") {
            Some(Value::Object(params)) => (params, format!("{path}.litellm_params")),
            Some(_) => {
                self.err(format!("{path}.litellm_params"), "must be a mapping");
                return None;
            }
            None => (obj, path.to_owned()),
        };
        let modes = self.modes(&ppath, params.get("mode"));
        let default_on = self.boolean(&ppath, params, "default_on", false);
        let kind = match params.get("guardrail") {
            Some(Value::String(kind)) => self.kind(&ppath, kind, params, modes.as_deref()),
            _ => {
                self.err(
                    format!("{ppath}.guardrail"),
                    format!("required: one of {KNOWN}"),
                );
                None
            }
        };
        Some(GuardrailSpec {
            name: name?,
            modes: modes?,
            default_on,
            kind: kind?,
        })
    }

    fn modes(&mut self, path: &str, mode: Option<&Value>) -> Option<Vec<Stage>> {
        let path = format!("{path}.mode");
        let names: Vec<&Value> = match mode {
            None => return Some(vec![Stage::PreCall]),
            Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
            Some(one @ Value::String(_)) => vec![one],
            Some(_) => {
                self.err(path, "must be a stage or a non-empty list of stages");
                return None;
            }
        };
        let mut stages = Vec::new();
        for name in names {
            match name.as_str().and_then(Stage::parse) {
                Some(stage) if !stages.contains(&stage) => stages.push(stage),
                Some(_) => {}
                None => {
                    self.err(
                        path,
                        format!("unknown stage {name}: use pre_call, during_call or post_call"),
                    );
                    return None;
                }
            }
        }
        Some(stages)
    }

    fn kind(
        &mut self,
        path: &str,
        kind: &str,
        params: &Map<String, Value>,
        modes: Option<&[Stage]>,
    ) -> Option<GuardrailKind> {
        match kind {
            "pii" => {
                let action = self.action(path, params, Action::Mask);
                let entities = self.entities(path, params.get("entities"));
                let unmask = self.boolean(path, params, "unmask", false);
                Some(GuardrailKind::Pii {
                    action: action?,
                    entities: entities?,
                    unmask,
                })
            }
            "regex" => {
                let action = self.action(path, params, Action::Block);
                let patterns = self.strings(path, params, "patterns");
                if let Some(patterns) = &patterns {
                    for (j, pattern) in patterns.iter().enumerate() {
                        if let Err(error) = regex::Regex::new(pattern) {
                            self.err(format!("{path}.patterns[{j}]"), error.to_string());
                        }
                    }
                }
                let unmask = self.boolean(path, params, "unmask", false);
                Some(GuardrailKind::Regex {
                    action: action?,
                    patterns: patterns?,
                    unmask,
                })
            }
            "keywords" => {
                let action = self.action(path, params, Action::Block);
                let words = self.strings(path, params, "words");
                let unmask = self.boolean(path, params, "unmask", false);
                Some(GuardrailKind::Keywords {
                    action: action?,
                    words: words?,
                    unmask,
                })
            }
            "max_input_tokens" => {
                if modes.is_some_and(|m| m.contains(&Stage::PostCall)) {
                    self.err(
                        format!("{path}.mode"),
                        "max_input_tokens checks the request: use pre_call or during_call",
                    );
                }
                match params.get("limit").and_then(Value::as_u64) {
                    Some(limit) if limit > 0 => Some(GuardrailKind::MaxInputTokens { limit }),
                    _ => {
                        self.err(format!("{path}.limit"), "required: a positive integer");
                        None
                    }
                }
            }
            "webhook" => self.webhook(path, params).map(GuardrailKind::Webhook),
            other => {
                self.err(
                    format!("{path}.guardrail"),
                    format!("unknown guardrail `{other}`: use one of {KNOWN}"),
                );
                None
            }
        }
    }

    fn webhook(&mut self, path: &str, params: &Map<String, Value>) -> Option<WebhookSpec> {
        let url = match params.get("url") {
            Some(Value::String(url))
                if url.starts_with("http://") || url.starts_with("https://") =>
            {
                Some(url.clone())
            }
            _ => {
                self.err(
                    format!("{path}.url"),
                    "required: an http:// or https:// URL",
                );
                None
            }
        };
        let timeout = match params.get("timeout_ms") {
            None => Some(DEFAULT_WEBHOOK_TIMEOUT),
            Some(value) => match value.as_u64() {
                Some(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                _ => {
                    self.err(format!("{path}.timeout_ms"), "must be a positive integer");
                    None
                }
            },
        };
        let fail_open = self.boolean(path, params, "fail_open", false);
        let headers = match params.get("headers") {
            None => Some(Vec::new()),
            Some(Value::Object(map)) => {
                let mut headers = Vec::new();
                for (name, value) in map {
                    match value.as_str() {
                        Some(value) => headers.push((name.clone(), value.to_owned())),
                        None => self.err(format!("{path}.headers.{name}"), "must be a string"),
                    }
                }
                Some(headers)
            }
            Some(_) => {
                self.err(format!("{path}.headers"), "must be a mapping of strings");
                None
            }
        };
        Some(WebhookSpec {
            url: url?,
            timeout: timeout?,
            fail_open,
            headers: headers?,
        })
    }

    fn action(
        &mut self,
        path: &str,
        params: &Map<String, Value>,
        default: Action,
    ) -> Option<Action> {
        match params.get("action") {
            None => Some(default),
            Some(Value::String(a)) if a == "mask" => Some(Action::Mask),
            Some(Value::String(a)) if a == "block" => Some(Action::Block),
            Some(other) => {
                self.err(
                    format!("{path}.action"),
                    format!("unknown action {other}: use mask or block"),
                );
                None
            }
        }
    }

    fn entities(&mut self, path: &str, value: Option<&Value>) -> Option<Vec<Entity>> {
        let Some(value) = value else {
            return Some(Entity::ALL.to_vec());
        };
        let Some(list) = value.as_array().filter(|l| !l.is_empty()) else {
            self.err(format!("{path}.entities"), "must be a non-empty list");
            return None;
        };
        let mut entities = Vec::new();
        let mut ok = true;
        for (j, item) in list.iter().enumerate() {
            match item.as_str().and_then(Entity::parse) {
                Some(entity) if !entities.contains(&entity) => entities.push(entity),
                Some(_) => {}
                None => {
                    ok = false;
                    self.err(
                        format!("{path}.entities[{j}]"),
                        format!(
                            "unknown entity {item}: use email, phone, credit_card, iban, ssn, \
                             ip or secret"
                        ),
                    );
                }
            }
        }
        ok.then_some(entities)
    }

    fn strings(
        &mut self,
        path: &str,
        params: &Map<String, Value>,
        key: &str,
    ) -> Option<Vec<String>> {
        let list = params.get(key).and_then(Value::as_array);
        let strings: Option<Vec<String>> = list.and_then(|l| {
            l.iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
                .collect()
        });
        match strings {
            Some(strings) if !strings.is_empty() => Some(strings),
            _ => {
                self.err(
                    format!("{path}.{key}"),
                    "required: a non-empty list of non-empty strings",
                );
                None
            }
        }
    }

    fn boolean(
        &mut self,
        path: &str,
        params: &Map<String, Value>,
        key: &str,
        default: bool,
    ) -> bool {
        match params.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.err(format!("{path}.{key}"), "must be true or false");
                default
            }
        }
    }
}
