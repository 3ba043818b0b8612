//! llm-gateway: the server and CLI in front of every LLM provider.
//!
//! The request path: [`context`] (request id) → [`auth`] (master key) → [`extract`] (one parse
//! of the body) → [`routes`] → the router (`llm-router`) → a provider adapter
//! (`llm-providers`) → back, streamed by [`stream`]. Errors become responses in exactly one
//! place: `llm_types::Error`'s `IntoResponse`.

pub mod app;
pub mod auth;
pub mod cli;
pub mod cli_keys;
pub mod config;
pub mod context;
pub mod extract;
pub mod metering;
pub mod metrics;
pub mod output;
pub mod prices;
pub mod reload;
pub mod request_log;
pub mod routes;
pub mod server;
pub mod sinks;
pub mod stream;
pub mod telemetry;
pub mod webhook_client;
