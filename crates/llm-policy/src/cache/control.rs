//! Per-request cache controls, as LiteLLM clients send them: the body's `cache` object
//! (`{"no-cache": true, "no-store": true, "ttl": 600, "s-maxage": 600, "namespace": "x"}`)
//! and the `Cache-Control` request header (`no-cache`, `no-store`, `max-age=N`,
//! `s-maxage=N`). When both are given, either one's `no-cache` / `no-store` applies and the
//! shorter maximum age wins.

use llm_types::Error;
use serde_json::Value;
use std::time::Duration;

/// The longest namespace accepted: it becomes part of every key of the request.
const MAX_NAMESPACE_LEN: usize = 256;

/// What one request asks of the response cache. The default (everything off) is a request
/// that did not say anything: look up, and store with the cache's default TTL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// Do not answer from the cache (the fresh answer is still stored unless `no_store`).
    pub no_cache: bool,
    /// Do not store the answer.
    pub no_store: bool,
    /// How long to keep the answer (`None`: the cache's default).
    pub ttl: Option<Duration>,
    /// Accept only an entry younger than this (`s-maxage`, or the header's `max-age`).
    pub max_age: Option<Duration>,
    /// Keys of this request live in their own namespace (see [`super::cache_key`]).
    pub namespace: Option<String>,
}

impl CacheControl {
    /// The controls of a request: its body's `cache` field (absent or `null`: none) and its
    /// `Cache-Control` header. A malformed value is the client's error (400), not ignored,
    /// since a silently ignored `no-store` would store what the client asked not to.
    pub fn from_request(body: &Value, cache_control: Option<&str>) -> Result<Self, Error> {
        let mut control = Self::from_body(body.get("cache"))?;
        if let Some(header) = cache_control {
            control.merge_header(header)?;
        }
        Ok(control)
    }

    /// The controls of the body's `cache` object alone. Unknown members are ignored (LiteLLM
    /// has more, for its own cache modes).
    pub fn from_body(cache: Option<&Value>) -> Result<Self, Error> {
        let fields = match cache {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(fields)) => fields,
            Some(_) => {
                return Err(Error::invalid_param(
                    "cache",
                    "`cache` must be an object such as {\"no-cache\": true, \"ttl\": 600}",
                ));
            }
        };
        let flag = |name: &str| match fields.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(on)) => Ok(*on),
            Some(_) => Err(Error::invalid_param(
                format!("cache.{name}"),
                format!("`cache.{name}` must be true or false"),
            )),
        };
        let namespace = match fields.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) if name.is_empty() => None,
            Some(Value::String(name)) if name.len() <= MAX_NAMESPACE_LEN => Some(name.clone()),
            Some(_) => {
                return Err(Error::invalid_param(
                    "cache.namespace",
                    format!(
                        "`cache.namespace` must be a string of at most {MAX_NAMESPACE_LEN} bytes"
                    ),
                ));
            }
        };
        Ok(CacheControl {
            no_cache: flag("no-cache")?,
            no_store: flag("no-store")?,
            ttl: seconds(fields, "ttl")?,
            max_age: seconds(fields, "s-maxage")?,
            namespace,
        })
    }

    /// Adds the directives of a `Cache-Control` header; unknown directives are ignored, as
    /// HTTP caches ignore them.
    pub fn merge_header(&mut self, header: &str) -> Result<(), Error> {
        for directive in header.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let (name, value) = match directive.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-cache") {
                self.no_cache = true;
            } else if name.eq_ignore_ascii_case("no-store") {
                self.no_store = true;
            } else if name.eq_ignore_ascii_case("max-age") || name.eq_ignore_ascii_case("s-maxage")
            {
                let age = value
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        Error::invalid_param(
                            "Cache-Control",
                            format!(
                                "`{directive}`: the Cache-Control {name} must be whole seconds"
                            ),
                        )
                    })?;
                self.max_age = Some(self.max_age.map_or(age, |mine| mine.min(age)));
            }
        }
        Ok(())
    }

    /// Whether the request may be answered from the cache.
    pub fn may_read(&self) -> bool {
        !self.no_cache
    }

    /// Whether the answer may be stored: not with `no-store`, nor with a zero `ttl`.
    pub fn may_store(&self) -> bool {
        !self.no_store && self.ttl != Some(Duration::ZERO)
    }
}

/// A non-negative number of seconds (fractions allowed, as LiteLLM takes floats).
fn seconds(fields: &serde_json::Map<String, Value>, name: &str) -> Result<Option<Duration>, Error> {
    let invalid = || {
        Error::invalid_param(
            format!("cache.{name}"),
            format!("`cache.{name}` must be a number of seconds, 0 or more"),
        )
    };
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            let seconds = number.as_f64().ok_or_else(invalid)?;
            Duration::try_from_secs_f64(seconds)
                .map(Some)
                .map_err(|_| invalid())
        }
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn cache_control_from_body_and_header() {
        let cases: Vec<(Value, Option<&str>, CacheControl)> = vec![
            (json!({}), None, CacheControl::default()),
            (json!({"cache": null}), None, CacheControl::default()),
            (json!({"cache": {}}), Some(""), CacheControl::default()),
            (
                json!({"cache": {"no-cache": true}}),
                None,
                CacheControl {
                    no_cache: true,
                    ..Default::default()
                },
            ),
            (
                json!({"cache": {"no-store": true, "no-cache": false}}),
                None,
                CacheControl {
                    no_store: true,
                    ..Default::default()
                },
            ),
            (
                json!({"cache": {"ttl": 600, "s-maxage": 30, "namespace": "team-a"}}),
                None,
                CacheControl {
                    ttl: secs(600),
                    max_age: secs(30),
                    namespace: Some("team-a".to_owned()),
                    ..Default::default()
                },
            ),
            (
                json!({"cache": {"ttl": 1.5, "namespace": "", "use-cache": true}}),
                None,
                CacheControl {
                    ttl: Some(Duration::from_millis(1500)),
                    ..Default::default()
                },
            ),
            (
                json!({}),
                Some("no-cache"),
                CacheControl {
                    no_cache: true,
                    ..Default::default()
                },
            ),
            (
                json!({}),
                Some("No-Store, max-age=60, private, x-unknown=\"y\""),
                CacheControl {
                    no_store: true,
                    max_age: secs(60),
                    ..Default::default()
                },
            ),
            (
                json!({"cache": {"s-maxage": 120}}),
                Some("max-age=\"60\""),
                CacheControl {
                    max_age: secs(60),
                    ..Default::default()
                },
            ),
            (
                json!({"cache": {"s-maxage": 10, "no-cache": true}}),
                Some("s-maxage=60, no-store"),
                CacheControl {
                    no_cache: true,
                    no_store: true,
                    max_age: secs(10),
                    ..Default::default()
                },
            ),
        ];
        for (body, header, expected) in cases {
            assert_eq!(
                CacheControl::from_request(&body, header).unwrap(),
                expected,
                "{body} / {header:?}"
            );
        }
    }

    #[test]
    fn cache_control_refuses_malformed_values_with_a_400() {
        let cases: Vec<(Value, Option<&str>, &str)> = vec![
            (json!({"cache": true}), None, "cache"),
            (json!({"cache": "no-store"}), None, "cache"),
            (
                json!({"cache": {"no-cache": "yes"}}),
                None,
                "cache.no-cache",
            ),
            (json!({"cache": {"no-store": 1}}), None, "cache.no-store"),
            (json!({"cache": {"ttl": -1}}), None, "cache.ttl"),
            (json!({"cache": {"ttl": "600"}}), None, "cache.ttl"),
            (json!({"cache": {"ttl": 1e300}}), None, "cache.ttl"),
            (json!({"cache": {"s-maxage": -5}}), None, "cache.s-maxage"),
            (json!({"cache": {"namespace": 7}}), None, "cache.namespace"),
            (
                json!({"cache": {"namespace": "x".repeat(300)}}),
                None,
                "cache.namespace",
            ),
            (json!({}), Some("max-age=soon"), "Cache-Control"),
            (json!({}), Some("max-age"), "Cache-Control"),
            (json!({}), Some("no-cache, s-maxage=-1"), "Cache-Control"),
        ];
        for (body, header, param) in cases {
            let error = CacheControl::from_request(&body, header).unwrap_err();
            assert_eq!(error.status(), 400, "{body} / {header:?}");
            assert_eq!(error.param.as_deref(), Some(param), "{body} / {header:?}");
        }
    }

    #[test]
    fn cache_control_read_and_store_permissions() {
        let cases = [
            (CacheControl::default(), true, true),
            (
                CacheControl {
                    no_cache: true,
                    ..Default::default()
                },
                false,
                true,
            ),
            (
                CacheControl {
                    no_store: true,
                    ..Default::default()
                },
                true,
                false,
            ),
            (
                CacheControl {
                    ttl: Some(Duration::ZERO),
                    ..Default::default()
                },
                true,
                false,
            ),
        ];
        for (control, read, store) in cases {
            assert_eq!(
                (control.may_read(), control.may_store()),
                (read, store),
                "{control:?}"
            );
        }
    }
}
