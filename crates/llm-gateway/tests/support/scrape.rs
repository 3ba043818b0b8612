//! `/metrics` read back by an independent Prometheus text parser (`prometheus-parse`).

use super::{Gateway, http};

/// A live scrape of `gateway`'s `/metrics`, parsed.
pub async fn scrape(gateway: &Gateway) -> prometheus_parse::Scrape {
    let text = http()
        .get(format!("{}/metrics", gateway.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    parse(&text)
}

/// `text` in the Prometheus exposition format, parsed.
pub fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The values of the counter or gauge samples `name` whose labels include all of `labels`.
pub fn values(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{name} is not a single value"),
        })
        .collect()
}
