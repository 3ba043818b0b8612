//! Families read at scrape time from counters the lower crates keep (the spend journal's
//! backlog, the limiter's Redis errors, the cache's misses and errors, guardrail decisions,
//! the router state's Redis errors): nothing on the request path writes them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Mutex;

/// Labels of guardrail decisions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GuardrailLabels {
    pub guardrail: String,
    /// `allow`, `mask`, `block`, `modify` or `error`.
    pub action: &'static str,
}

/// Labels of a per-group gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupGaugeLabels {
    pub model_group: String,
}

/// Labels of a request-log sink's counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    pub sink: String,
}

/// Labels of a request-log sink's records by fate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkRecordLabels {
    pub sink: String,
    /// `delivered` or `dropped`.
    pub outcome: &'static str,
}

/// What a scrape reads from the rest of the gateway.
#[derive(Debug, Default)]
pub struct Readings {
    pub journal_backlog: u64,
    pub limiter_redis_errors: u64,
    pub router_redis_errors: u64,
    pub cache_misses: u64,
    pub cache_errors: u64,
    pub guardrail_decisions: Vec<(String, &'static str, u64)>,
    /// Deployments cooling down, per configured model group (zeros included).
    pub cooling_down: Vec<(String, u64)>,
    pub sinks: Vec<crate::sinks::SinkStats>,
}

/// The scrape-time families.
pub struct Scraped {
    journal_backlog: Gauge,
    limiter_redis_errors: Counter,
    router_redis_errors: Counter,
    cache_misses: Counter,
    cache_errors: Counter,
    guardrail_decisions: Family<GuardrailLabels, Counter>,
    cooling_down: Family<GroupGaugeLabels, Gauge>,
    sink_records: Family<SinkRecordLabels, Counter>,
    sink_failed_attempts: Family<SinkLabels, Counter>,
    sink_queued: Family<SinkLabels, Gauge>,
    /// Two scrapes at once must not both add the same difference.
    syncing: Mutex<()>,
}

impl Scraped {
    pub fn register(registry: &mut Registry) -> Scraped {
        let scraped = Scraped {
            journal_backlog: Gauge::default(),
            limiter_redis_errors: Counter::default(),
            router_redis_errors: Counter::default(),
            cache_misses: Counter::default(),
            cache_errors: Counter::default(),
            guardrail_decisions: Family::default(),
            cooling_down: Family::default(),
            sink_records: Family::default(),
            sink_failed_attempts: Family::default(),
            sink_queued: Family::default(),
            syncing: Mutex::new(()),
        };
        registry.register(
            "spend_journal_backlog",
            "Spend rows journaled but not yet in SQL",
            scraped.journal_backlog.clone(),
        );
        registry.register(
            "rate_limit_redis_errors",
            "Redis failures of the rate limiter (served on local limits, or refused)",
            scraped.limiter_redis_errors.clone(),
        );
        registry.register(
            "router_state_redis_errors",
            "Redis failures of the router's shared state",
            scraped.router_redis_errors.clone(),
        );
        registry.register(
            "cache_misses",
            "Cache lookups that found nothing",
            scraped.cache_misses.clone(),
        );
        registry.register(
            "cache_errors",
            "Cache backend failures (served uncached)",
            scraped.cache_errors.clone(),
        );
        registry.register(
            "guardrail_decisions",
            "Guardrail decisions by guardrail and action",
            scraped.guardrail_decisions.clone(),
        );
        registry.register(
            "deployments_cooling_down",
            "Deployments of a model group in cooldown (circuit open) as this instance sees it",
            scraped.cooling_down.clone(),
        );
        registry.register(
            "log_sink_records",
            "Request-log records by sink: delivered, or dropped (queue full or retries exhausted)",
            scraped.sink_records.clone(),
        );
        registry.register(
            "log_sink_failed_attempts",
            "Failed deliveries of a request-log sink (retried with backoff)",
            scraped.sink_failed_attempts.clone(),
        );
        registry.register(
            "log_sink_queued",
            "Request-log records waiting in a sink's queue",
            scraped.sink_queued.clone(),
        );
        scraped
    }

    /// Brings the families up to `readings` (counters only ever grow).
    pub fn update(&self, readings: Readings) {
        let _one_at_a_time = self.syncing.lock();
        self.journal_backlog
            .set(i64::try_from(readings.journal_backlog).unwrap_or(i64::MAX));
        catch_up(&self.limiter_redis_errors, readings.limiter_redis_errors);
        catch_up(&self.router_redis_errors, readings.router_redis_errors);
        catch_up(&self.cache_misses, readings.cache_misses);
        catch_up(&self.cache_errors, readings.cache_errors);
        for (guardrail, action, count) in readings.guardrail_decisions {
            let counter = self
                .guardrail_decisions
                .get_or_create(&GuardrailLabels { guardrail, action });
            catch_up(&counter, count);
        }
        for (model_group, count) in readings.cooling_down {
            self.cooling_down
                .get_or_create(&GroupGaugeLabels { model_group })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        for stats in readings.sinks {
            for (outcome, count) in [("delivered", stats.delivered), ("dropped", stats.dropped)] {
                let counter = self.sink_records.get_or_create(&SinkRecordLabels {
                    sink: stats.name.clone(),
                    outcome,
                });
                catch_up(&counter, count);
            }
            let sink = SinkLabels { sink: stats.name };
            catch_up(
                &self.sink_failed_attempts.get_or_create(&sink),
                stats.failed_attempts,
            );
            self.sink_queued
                .get_or_create(&sink)
                .set(i64::try_from(stats.queued).unwrap_or(i64::MAX));
        }
    }
}

fn catch_up(counter: &Counter, value: u64) {
    let current = counter.get();
    if value > current {
        counter.inc_by(value - current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_catch_up_and_never_go_back() {
        let mut registry = Registry::with_prefix("llmgw");
        let scraped = Scraped::register(&mut registry);
        for (errors, expected) in [(3, 3), (3, 3), (5, 5), (2, 5)] {
            scraped.update(Readings {
                cache_errors: errors,
                journal_backlog: errors,
                ..Readings::default()
            });
            assert_eq!(scraped.cache_errors.get(), expected);
            assert_eq!(scraped.journal_backlog.get(), errors as i64);
        }
    }
}
