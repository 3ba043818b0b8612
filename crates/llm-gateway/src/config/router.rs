//! Router settings in both formats: LiteLLM's `router_settings` (and the router keys it also
//! accepts in `litellm_settings`) and the native `router:` section.

use llm_router::{BreakerPolicy, RedisSettings, RetryPolicy, RouterSettings, Strategy};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::issues::{Report, join};
use super::validated::seconds;

/// Fallbacks in configuration order: group → groups to try.
type FallbackList = Vec<(String, Vec<String>)>;

/// Router keys as both formats write them. Unknown keys are collected (LiteLLM: reported as
/// unsupported; native: errors).
#[derive(Debug, Default, Deserialize)]
pub struct RawRouter {
    pub routing_strategy: Option<String>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub num_retries: Option<u32>,
    #[serde(default)]
    pub retry_policy: BTreeMap<String, u32>,
    #[serde(default, deserialize_with = "fallback_map")]
    pub fallbacks: Option<FallbackList>,
    #[serde(default, deserialize_with = "fallback_map")]
    pub context_window_fallbacks: Option<FallbackList>,
    #[serde(default, deserialize_with = "fallback_map")]
    pub content_policy_fallbacks: Option<FallbackList>,
    pub default_fallbacks: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub max_fallbacks: Option<usize>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub allowed_fails: Option<u32>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub cooldown_time: Option<f64>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub timeout: Option<f64>,
    /// Shared state: `redis_url`, or LiteLLM's `redis_host` / `redis_port` / `redis_password`.
    pub redis_url: Option<String>,
    pub redis_host: Option<String>,
    #[serde(default, deserialize_with = "super::litellm::number_like")]
    pub redis_port: Option<u16>,
    pub redis_password: Option<String>,
    /// Prefix of the shared keys (default `llmgw:router:`).
    pub redis_key_prefix: Option<String>,
    /// Redis URLs given outside this section, by precedence: (key path, URL).
    #[serde(skip)]
    pub outer_redis: Vec<(String, String)>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

impl RawRouter {
    /// Fills what `self` leaves unset from `other` (router_settings over litellm_settings).
    pub fn or(mut self, other: RawRouter) -> RawRouter {
        self.routing_strategy = self.routing_strategy.or(other.routing_strategy);
        self.num_retries = self.num_retries.or(other.num_retries);
        if self.retry_policy.is_empty() {
            self.retry_policy = other.retry_policy;
        }
        self.fallbacks = self.fallbacks.or(other.fallbacks);
        self.context_window_fallbacks = self
            .context_window_fallbacks
            .or(other.context_window_fallbacks);
        self.content_policy_fallbacks = self
            .content_policy_fallbacks
            .or(other.content_policy_fallbacks);
        self.default_fallbacks = self.default_fallbacks.or(other.default_fallbacks);
        self.max_fallbacks = self.max_fallbacks.or(other.max_fallbacks);
        self.allowed_fails = self.allowed_fails.or(other.allowed_fails);
        self.cooldown_time = self.cooldown_time.or(other.cooldown_time);
        self.timeout = self.timeout.or(other.timeout);
        // The Redis keys come as a set: never mix a host from one section with a port from
        // the other.
        if self.redis_url.is_none()
            && self.redis_host.is_none()
            && self.redis_port.is_none()
            && self.redis_password.is_none()
        {
            self.redis_url = other.redis_url;
            self.redis_host = other.redis_host;
            self.redis_port = other.redis_port;
            self.redis_password = other.redis_password;
        }
        self.redis_key_prefix = self.redis_key_prefix.or(other.redis_key_prefix);
        self
    }

    /// The validated settings; `groups` are the configured model names (fallback targets
    /// must be among them).
    pub fn settings(self, prefix: &str, groups: &[&str], report: &mut Report) -> RouterSettings {
        let mut settings = RouterSettings::default();
        if let Some(name) = self.routing_strategy {
            match Strategy::parse(&name) {
                Some(strategy) => settings.strategy = strategy,
                None => report.error(
                    join(prefix, "routing_strategy"),
                    format!(
                        "unknown strategy `{name}`; one of: {}",
                        Strategy::NAMES.join(", ")
                    ),
                ),
            }
        }
        if let Some(n) = self.num_retries {
            settings.num_retries = n;
        }
        for (key, retries) in self.retry_policy {
            if !settings.retry_policy.set(&key, retries) {
                report.error(
                    join(prefix, &format!("retry_policy.{key}")),
                    format!(
                        "unknown error class; one of: {}",
                        RetryPolicy::KEYS.join(", ")
                    ),
                );
            }
        }
        let lists = [
            ("fallbacks", self.fallbacks, &mut settings.fallbacks),
            (
                "context_window_fallbacks",
                self.context_window_fallbacks,
                &mut settings.context_window_fallbacks,
            ),
            (
                "content_policy_fallbacks",
                self.content_policy_fallbacks,
                &mut settings.content_policy_fallbacks,
            ),
        ];
        for (key, entries, target) in lists {
            *target = fallbacks(
                report,
                &join(prefix, key),
                entries.unwrap_or_default(),
                groups,
            );
        }
        if let Some(defaults) = self.default_fallbacks {
            check_groups(
                report,
                &join(prefix, "default_fallbacks"),
                &defaults,
                groups,
            );
            settings.default_fallbacks = defaults;
        }
        if let Some(max) = self.max_fallbacks {
            settings.max_fallbacks = max;
        }
        let defaults = BreakerPolicy::default();
        settings.breaker = BreakerPolicy {
            allowed_fails: self.allowed_fails.unwrap_or(defaults.allowed_fails),
            cooldown: seconds(report, &join(prefix, "cooldown_time"), self.cooldown_time)
                .unwrap_or(defaults.cooldown),
        };
        settings.timeout = seconds(report, &join(prefix, "timeout"), self.timeout);
        let url = match (self.redis_url, self.redis_host) {
            (Some(url), Some(_)) => {
                report.error(
                    join(prefix, "redis_url"),
                    "set either `redis_url` or `redis_host`/`redis_port`/`redis_password`, not both",
                );
                Some(url)
            }
            (Some(url), None) => Some(url),
            (None, Some(host)) => Some(RedisSettings::from_parts(
                &host,
                self.redis_port,
                self.redis_password.as_deref(),
            )),
            (None, None) => {
                if self.redis_port.is_some() || self.redis_password.is_some() {
                    report.error(
                        join(prefix, "redis_host"),
                        "`redis_port` and `redis_password` need `redis_host`",
                    );
                }
                None
            }
        };
        let own = url
            .filter(|u| !u.trim().is_empty())
            .map(|url| (join(prefix, "redis_url"), url));
        if let Some((own_path, own_url)) = &own {
            for (path, url) in &self.outer_redis {
                // The environment may be set machine-wide; only the file's own keys conflict.
                if path == "redis_url" && url != own_url {
                    report.error(
                        path,
                        format!("names a different Redis than `{own_path}`; configure one server"),
                    );
                }
            }
        }
        settings.redis = own
            .or_else(|| self.outer_redis.into_iter().next())
            .and_then(|(path, url)| redis_settings(report, &path, &url));
        if let Some(key_prefix) = self.redis_key_prefix {
            match &mut settings.redis {
                Some(redis) => redis.key_prefix = key_prefix,
                None => report.notice(
                    join(prefix, "redis_key_prefix"),
                    "no Redis is configured; the prefix is not used",
                ),
            }
        }
        settings
    }
}

/// Checks a Redis URL (no IO), reporting an unusable one at `path`.
pub fn redis_settings(report: &mut Report, path: &str, url: &str) -> Option<RedisSettings> {
    match RedisSettings::new(url) {
        Ok(settings) => Some(settings),
        Err(message) => {
            report.error(path, message);
            None
        }
    }
}

/// Redis URLs given outside the router section, by precedence: the native top-level
/// `redis_url`, then `REDIS_URL` from the environment.
pub fn outer_redis(top_level: Option<String>) -> Vec<(String, String)> {
    let mut urls = Vec::new();
    if let Some(url) = top_level.filter(|u| !u.trim().is_empty()) {
        urls.push(("redis_url".to_owned(), url));
    }
    if let Ok(url) = std::env::var("REDIS_URL")
        && !url.trim().is_empty()
    {
        urls.push(("(environment REDIS_URL)".to_owned(), url));
    }
    urls
}

fn fallbacks(
    report: &mut Report,
    path: &str,
    entries: FallbackList,
    groups: &[&str],
) -> HashMap<String, Vec<String>> {
    let mut map = HashMap::new();
    for (group, targets) in entries {
        if !groups.contains(&group.as_str()) {
            report.error(
                format!("{path}.{group}"),
                format!("`{group}` is not a configured model"),
            );
        }
        check_groups(report, &format!("{path}.{group}"), &targets, groups);
        map.insert(group, targets);
    }
    map
}

fn check_groups(report: &mut Report, path: &str, names: &[String], groups: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        if !groups.contains(&name.as_str()) {
            report.error(
                format!("{path}[{i}]"),
                format!("fallback `{name}` is not a configured model"),
            );
        }
    }
}

/// Fallbacks as LiteLLM writes them (`[{"gpt-4": ["gpt-3.5"]}, ...]`) or as a plain map
/// (`{"gpt-4": ["gpt-3.5"]}`), in order.
fn fallback_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FallbackList>, D::Error> {
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "a list of {model: [fallbacks]} entries, or a map of model to fallbacks"
    )]
    enum Shape {
        List(Vec<BTreeMap<String, Vec<String>>>),
        Map(BTreeMap<String, Vec<String>>),
    }
    Ok(
        Option::<Shape>::deserialize(deserializer)?.map(|shape| match shape {
            Shape::List(items) => items.into_iter().flatten().collect(),
            Shape::Map(map) => map.into_iter().collect(),
        }),
    )
}
