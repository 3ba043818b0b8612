//! The response cache settings: LiteLLM's `litellm_settings.cache` + `cache_params`
//! (`type: local|redis`, `host`, `port`, `password`, `ttl`, `namespace`) and the native
//! `cache:` section (`type`, `url`, `ttl`, `namespace`, `max_size_mb`).

use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

use super::issues::Report;
use super::litellm::number_like;

/// Default bound of the in-process cache.
pub const DEFAULT_CACHE_MB: f64 = 64.0;

/// Where cached answers live.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheBackend {
    /// In this process, bounded by size.
    Local { max_bytes: u64 },
    /// Shared by every instance using this Redis (URL, never logged) and key prefix.
    Redis { url: String, prefix: String },
}

/// A usable cache configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    pub backend: CacheBackend,
    /// Default time to live of an entry (`None`: until evicted).
    pub ttl: Option<Duration>,
    /// Keys of this namespace only (several configs sharing one Redis).
    pub namespace: Option<String>,
}

/// `cache_params` as LiteLLM writes it, and the native `cache:` section (same keys, plus
/// `url` and `max_size_mb`).
#[derive(Debug, Default, Deserialize)]
pub struct RawCacheParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    host: Option<String>,
    #[serde(default, deserialize_with = "number_like")]
    port: Option<u16>,
    password: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "number_like")]
    ttl: Option<f64>,
    namespace: Option<String>,
    #[serde(default, deserialize_with = "number_like")]
    max_size_mb: Option<f64>,
    /// LiteLLM: which call types to cache; we cache chat and embeddings.
    #[serde(default)]
    supported_call_types: Option<Value>,
    /// Keys we do not know: unsupported in a LiteLLM config, errors in the native one.
    #[serde(flatten)]
    unknown: std::collections::BTreeMap<String, Value>,
}

impl RawCacheParams {
    /// Validates the section at `path`. `shared_redis` is the Redis the rest of the config
    /// names (router settings, `REDIS_URL`), used when `type: redis` gives no host or URL.
    pub fn validate(
        self,
        report: &mut Report,
        path: &str,
        shared_redis: Option<&str>,
        strict: bool,
    ) -> Option<CacheConfig> {
        if strict {
            for key in self.unknown.keys() {
                report.error(format!("{path}.{key}"), "unknown key");
            }
        } else {
            report.unsupported_keys(path, self.unknown.keys());
        }
        let ttl = match self.ttl {
            Some(seconds) if !(seconds > 0.0 && seconds.is_finite()) => {
                report.error(
                    format!("{path}.ttl"),
                    "must be a positive number of seconds",
                );
                None
            }
            Some(seconds) => Some(Duration::from_secs_f64(seconds)),
            None => None,
        };
        let backend = match self.kind.as_deref().unwrap_or("local") {
            "local" | "in-memory" => {
                let mb = self.max_size_mb.unwrap_or(DEFAULT_CACHE_MB);
                if !(mb > 0.0 && mb <= 65_536.0) {
                    report.error(format!("{path}.max_size_mb"), "must be between 0 and 65536");
                }
                CacheBackend::Local {
                    max_bytes: (mb * 1024.0 * 1024.0) as u64,
                }
            }
            "redis" => {
                let url = match (self.url, self.host) {
                    (Some(url), _) => url,
                    (None, Some(host)) => llm_router::RedisSettings::from_parts(
                        &host,
                        self.port,
                        self.password.as_deref(),
                    ),
                    (None, None) => match shared_redis {
                        Some(url) => url.to_owned(),
                        None => {
                            report.error(
                                format!("{path}.host"),
                                "`type: redis` needs `host` (or `url`), or a Redis named by \
                                 router_settings / REDIS_URL",
                            );
                            return None;
                        }
                    },
                };
                CacheBackend::Redis {
                    url,
                    prefix: "llmgw:cache:".to_owned(),
                }
            }
            other => {
                report.error(
                    format!("{path}.type"),
                    format!("`{other}` is not supported (use `local` or `redis`)"),
                );
                return None;
            }
        };
        if self.supported_call_types.is_some() {
            report.notice(
                format!("{path}.supported_call_types"),
                "chat completions and embeddings are cached; other call types do not exist here",
            );
        }
        Some(CacheConfig {
            backend,
            ttl,
            namespace: self.namespace.filter(|n| !n.is_empty()),
        })
    }
}
