//! Prometheus metrics of the gateway (`GET /metrics`, text exposition, served without auth
//! like LiteLLM's). Label sets are small structs with bounded values: model groups and
//! deployments only from the configuration, never request ids or keys.

mod families;
mod scraped;

pub use families::{Metrics, RequestLabels};
pub use scraped::Readings;
