//! The metric families and how one settled request is recorded into them.

use llm_policy::policy::Outcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The labels of one request: what was asked, who answered, how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub model_group: String,
    pub deployment: String,
    /// `2xx`, `4xx` or `5xx`.
    pub status_class: &'static str,
    pub stream: &'static str,
}

/// Labels of the per-model-group families (tokens, spend, latency).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabels {
    pub model_group: String,
}

/// Labels of policy rejections.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    pub model_group: String,
    /// `rate_limit`, `budget` or `other`.
    pub reason: &'static str,
}

/// Labels of token counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub model_group: String,
    /// `input` or `output`.
    pub direction: &'static str,
}

/// Labels of requests that ended in an error, by the error's class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub model_group: String,
    /// The error's metric label (`rate_limited`, `upstream_timeout`, ...).
    pub error_class: &'static str,
}

/// Labels of failed upstream attempts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub model_group: String,
    pub deployment: String,
    pub error_class: &'static str,
}

/// Labels of fallbacks: from one configured group to another.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FallbackLabels {
    pub model_group: String,
    pub fallback_group: String,
}

fn overhead_histogram() -> Histogram {
    // 50 µs .. ~0.8 s: the gateway's own time is small; its tail is what matters.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 15))
}

fn latency_histogram() -> Histogram {
    // 5 ms .. ~82 s: covers gateway overhead and long completions alike.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// Every metric family, registered once at start-up.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<GroupLabels, Histogram>,
    pub tokens: Family<TokenLabels, Counter>,
    pub spend: Family<GroupLabels, Counter<f64, AtomicU64>>,
    pub rejections: Family<RejectionLabels, Counter>,
    pub cache_hits: Counter,
    pub in_flight: Gauge,
    /// Time spent in the gateway itself: total minus the upstream's part.
    pub overhead: Family<GroupLabels, Histogram>,
    /// Streams: request arrival to the first token the client can get.
    pub first_token: Family<GroupLabels, Histogram>,
    /// Requests that ended in an error, by class.
    pub errors: Family<ErrorLabels, Counter>,
    /// Failed upstream attempts (retried, fallen back from, or final).
    pub attempt_failures: Family<AttemptLabels, Counter>,
    pub retries: Family<GroupLabels, Counter>,
    pub fallbacks: Family<FallbackLabels, Counter>,
    scraped: super::scraped::Scraped,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("llmgw");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("requests", "LLM requests by outcome", requests.clone());
        let duration =
            Family::<GroupLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "request_duration_seconds",
            "Total time of a request, admission to settlement",
            duration.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register("tokens", "Tokens in and out", tokens.clone());
        let spend = Family::<GroupLabels, Counter<f64, AtomicU64>>::default();
        registry.register("spend_dollars", "Spend in US dollars", spend.clone());
        let rejections = Family::<RejectionLabels, Counter>::default();
        registry.register(
            "policy_rejections",
            "Requests refused by rate limits or budgets",
            rejections.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "cache_hits",
            "Answers served from the response cache",
            cache_hits.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_requests",
            "Requests being served",
            in_flight.clone(),
        );
        let overhead =
            Family::<GroupLabels, Histogram>::new_with_constructor(overhead_histogram as fn() -> _);
        registry.register(
            "gateway_overhead_seconds",
            "Time spent in the gateway: total minus the upstream call (to its first token for streams)",
            overhead.clone(),
        );
        let first_token =
            Family::<GroupLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "time_to_first_token_seconds",
            "Streams: arrival of the request to its first token",
            first_token.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "request_errors",
            "Admitted requests that ended in an error, by error class",
            errors.clone(),
        );
        let attempt_failures = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "upstream_attempt_failures",
            "Failed upstream attempts by deployment and error class",
            attempt_failures.clone(),
        );
        let retries = Family::<GroupLabels, Counter>::default();
        registry.register("retries", "Retries within a model group", retries.clone());
        let fallbacks = Family::<FallbackLabels, Counter>::default();
        registry.register(
            "fallbacks",
            "Moves from a model group to one of its fallbacks",
            fallbacks.clone(),
        );
        let scraped = super::scraped::Scraped::register(&mut registry);
        Metrics {
            errors,
            attempt_failures,
            retries,
            fallbacks,
            overhead,
            first_token,
            scraped,
            registry,
            requests,
            duration,
            tokens,
            spend,
            rejections,
            cache_hits,
            in_flight,
        }
    }

    /// The text exposition of every family, the scrape-time ones brought up to `readings`.
    pub fn encode_with(&self, readings: super::Readings) -> Result<String, std::fmt::Error> {
        self.scraped.update(readings);
        self.encode()
    }

    /// The text exposition of every family.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Metrics {
    /// Records one settled request (called exactly once per admitted request).
    /// `known_group` false: the model is not configured, its label is `other`.
    /// `error_class` is the class of the error the request ended with, if any.
    pub fn observe(
        &self,
        outcome: &Outcome,
        known_group: bool,
        stream: bool,
        error_class: Option<&'static str>,
        elapsed: Duration,
    ) {
        self.in_flight.dec();
        let model_group = group_label(known_group.then_some(outcome.model_group.as_str()));
        if let Some(error_class) = error_class {
            self.errors
                .get_or_create(&ErrorLabels {
                    model_group: model_group.clone(),
                    error_class,
                })
                .inc();
        }
        let group = GroupLabels {
            model_group: model_group.clone(),
        };
        self.requests
            .get_or_create(&RequestLabels {
                model_group: model_group.clone(),
                // A wildcard group's deployments are named after the model asked for:
                // unbounded, so they share the `other` label with unknown models.
                deployment: match (&outcome.deployment, known_group) {
                    (_, false) => "other".into(),
                    (Some(id), true) => id.clone(),
                    (None, true) => "none".into(),
                },
                status_class: status_class(outcome.status),
                stream: if stream { "true" } else { "false" },
            })
            .inc();
        self.duration
            .get_or_create(&group)
            .observe(elapsed.as_secs_f64());
        if outcome.cache_hit {
            self.cache_hits.inc();
            return;
        }
        for (direction, count) in [
            ("input", outcome.prompt_tokens),
            ("output", outcome.completion_tokens),
        ] {
            if count > 0 {
                self.tokens
                    .get_or_create(&TokenLabels {
                        model_group: model_group.clone(),
                        direction,
                    })
                    .inc_by(count);
            }
        }
        let nanos = outcome.cost.0;
        if nanos > 0 {
            // Exposition only: the stored sums stay integer nano-dollars.
            self.spend.get_or_create(&group).inc_by(nanos as f64 / 1e9);
        }
    }

    /// Records where a request's time went: `overhead` is the gateway's own part, and
    /// `first_token` the time to a stream's first token.
    pub fn timing(
        &self,
        model_group: Option<&str>,
        overhead: Duration,
        first_token: Option<Duration>,
    ) {
        let group = GroupLabels {
            model_group: group_label(model_group),
        };
        self.overhead
            .get_or_create(&group)
            .observe(overhead.as_secs_f64());
        if let Some(first_token) = first_token {
            self.first_token
                .get_or_create(&group)
                .observe(first_token.as_secs_f64());
        }
    }

    /// Records a request the policy refused before admission, by the refusal's code.
    /// `model_group` is `None` when the model is not configured.
    pub fn refused(&self, model_group: Option<&str>, code: &str) {
        let reason = match code {
            "rate_limit_exceeded" => "rate_limit",
            "budget_exceeded" => "budget",
            _ => "other",
        };
        self.rejections
            .get_or_create(&RejectionLabels {
                model_group: group_label(model_group),
                reason,
            })
            .inc();
    }
}

/// The router's events, counted: failed attempts, retries, fallbacks.
impl llm_router::RouterEvents for Metrics {
    fn attempt_failed(&self, group: Option<&str>, deployment: &str, error: &'static str) {
        self.attempt_failures
            .get_or_create(&AttemptLabels {
                model_group: group_label(group),
                // A wildcard group's deployments are unbounded, like its name.
                deployment: group.map_or("other", |_| deployment).to_owned(),
                error_class: error,
            })
            .inc();
    }

    fn retried(&self, group: Option<&str>) {
        self.retries
            .get_or_create(&GroupLabels {
                model_group: group_label(group),
            })
            .inc();
    }

    fn fell_back(&self, from: Option<&str>, to: Option<&str>, _error: &'static str) {
        self.fallbacks
            .get_or_create(&FallbackLabels {
                model_group: group_label(from),
                fallback_group: group_label(to),
            })
            .inc();
    }
}

fn group_label(group: Option<&str>) -> String {
    group.unwrap_or("other").to_owned()
}

/// `2xx`, `4xx`, `5xx` (499, a client that went away, is a `4xx`).
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::money::NanoDollars;

    #[test]
    fn status_classes() {
        for (status, class) in [
            (200, "2xx"),
            (299, "2xx"),
            (429, "4xx"),
            (499, "4xx"),
            (500, "5xx"),
            (503, "5xx"),
            (101, "other"),
        ] {
            assert_eq!(status_class(status), class, "{status}");
        }
    }

    /// Metrics after one request of each kind (every family has a sample).
    fn populated() -> Metrics {
        let metrics = Metrics::new();
        let answered = Outcome {
            model_group: "gpt".into(),
            deployment: Some("d1".into()),
            prompt_tokens: 7,
            completion_tokens: 3,
            cost: NanoDollars(1_500_000_000),
            status: 200,
            ..Outcome::default()
        };
        metrics.in_flight.inc();
        metrics.observe(&answered, true, false, None, Duration::from_millis(20));
        metrics.in_flight.inc();
        metrics.observe(
            &Outcome {
                cache_hit: true,
                ..answered.clone()
            },
            true,
            true,
            None,
            Duration::from_millis(1),
        );
        metrics.in_flight.inc();
        metrics.observe(
            &Outcome {
                model_group: "no-such-model".into(),
                deployment: None,
                status: 404,
                ..Outcome::default()
            },
            false,
            false,
            Some("not_found"),
            Duration::from_millis(1),
        );
        use llm_router::RouterEvents;
        metrics.attempt_failed(Some("gpt"), "d1", "rate_limited");
        metrics.retried(Some("gpt"));
        metrics.fell_back(Some("gpt"), Some("backup"), "rate_limited");
        metrics.refused(Some("gpt"), "rate_limit_exceeded");
        metrics.refused(None, "budget_exceeded");
        metrics.timing(
            Some("gpt"),
            Duration::from_millis(1),
            Some(Duration::from_millis(2)),
        );
        metrics
    }

    /// The exposition of [`populated`], with one reading of each scrape-time family.
    fn populated_text() -> String {
        populated()
            .encode_with(crate::metrics::Readings {
                journal_backlog: 3,
                cooling_down: vec![("gpt".into(), 1)],
                sinks: vec![crate::sinks::SinkStats {
                    name: "audit".into(),
                    delivered: 5,
                    dropped: 2,
                    failed_attempts: 1,
                    queued: 4,
                }],
                ..Default::default()
            })
            .unwrap()
    }

    #[test]
    fn one_request_of_each_kind_is_exposed() {
        let text = populated_text();
        for line in [
            "llmgw_requests_total{model_group=\"gpt\",deployment=\"d1\",status_class=\"2xx\",stream=\"false\"} 1",
            "llmgw_requests_total{model_group=\"gpt\",deployment=\"d1\",status_class=\"2xx\",stream=\"true\"} 1",
            "llmgw_request_duration_seconds_count{model_group=\"gpt\"} 2",
            "llmgw_requests_total{model_group=\"other\",deployment=\"other\",status_class=\"4xx\",stream=\"false\"} 1",
            "llmgw_policy_rejections_total{model_group=\"other\",reason=\"budget\"} 1",
            "llmgw_tokens_total{model_group=\"gpt\",direction=\"input\"} 7",
            "llmgw_tokens_total{model_group=\"gpt\",direction=\"output\"} 3",
            "llmgw_spend_dollars_total{model_group=\"gpt\"} 1.5",
            "llmgw_policy_rejections_total{model_group=\"gpt\",reason=\"rate_limit\"} 1",
            "llmgw_cache_hits_total 1",
            "llmgw_deployments_cooling_down{model_group=\"gpt\"} 1",
            "llmgw_log_sink_records_total{sink=\"audit\",outcome=\"delivered\"} 5",
            "llmgw_log_sink_records_total{sink=\"audit\",outcome=\"dropped\"} 2",
            "llmgw_log_sink_failed_attempts_total{sink=\"audit\"} 1",
            "llmgw_log_sink_queued{sink=\"audit\"} 4",
            "llmgw_spend_journal_backlog 3",
            "llmgw_request_errors_total{model_group=\"other\",error_class=\"not_found\"} 1",
            "llmgw_upstream_attempt_failures_total{model_group=\"gpt\",deployment=\"d1\",error_class=\"rate_limited\"} 1",
            "llmgw_retries_total{model_group=\"gpt\"} 1",
            "llmgw_fallbacks_total{model_group=\"gpt\",fallback_group=\"backup\"} 1",
            "llmgw_in_flight_requests 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
    }

    /// Every metric the Grafana dashboard queries is one the gateway exports.
    #[test]
    fn dashboard_uses_only_exported_metrics() {
        let text = populated_text();
        let exported: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let dashboard = include_str!("../../../../deploy/grafana/llm-gateway.json");
        let used: Vec<&str> = dashboard
            .match_indices("llmgw_")
            .map(|(at, _)| {
                let rest = &dashboard[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        assert!(used.len() >= 8, "{used:?}");
        for name in used {
            assert!(
                exported.contains(name),
                "dashboard uses `{name}`, not exported"
            );
        }
    }
}
