//! A mock of the OpenAI HTTP API for the gateway's tests, benchmarks and offline demo.
//!
//! The mock is deterministic: chat replies echo the last user message, tool calls and
//! structured outputs are built from the request's own schemas, and embeddings are derived
//! from a hash of the input. Every body it emits is meant to validate strictly against the
//! OpenAI OpenAPI spec, so the gateway is tested against the real wire shape rather than
//! against what the mock's author believed it to be.
//!
//! # Scripted faults
//!
//! Faults are selected by the request's `model` string, so a gateway deployment can be
//! pointed at one without any side channel:
//!
//! | model | behaviour |
//! |---|---|
//! | `error-<status>` | that status (400..=599) with an OpenAI error body; 429 adds `Retry-After: 7` and `x-ratelimit-remaining-requests: 0` |
//! | `slow-<ms>`, `<anything>-slow-<ms>` | wait before answering (streams: headers at once, then the wait before the first chunk); the prefix is then read as a model again, so `cut-2-slow-50` works |
//! | `garbage` | 200 `application/json` body `this is not json {{{`; streamed: one `data: this is not json` frame, then the connection closes |
//! | `cut-<k>` | streamed: the role chunk and `k` content chunks, then the body errors (no `[DONE]`); otherwise half of the JSON body, then the body errors |
//! | `hang` | never answers, until the client gives up or the server shuts down |
//! | `drip-<ms>` | streamed: every frame `ms` after the one before (a slow generator); otherwise a normal answer |
//! | `stall-after-<k>` | streamed: the role chunk and `k` content chunks, then silence with the connection open; otherwise the headers and half the body, then silence |
//!
//! Faults apply to `/v1/chat/completions` and `/v1/embeddings`.

mod anthropic;
mod azure;
mod bedrock;
mod chat;
mod cohere;
mod collector;
mod delivery;
mod embeddings;
mod error;
mod faults;
mod google;
mod ids;
mod models;
mod native;
mod ollama;
mod record;
mod routes;
mod schema;
mod server;
mod stream;

pub use collector::{Collector, Posted};
pub use record::RecordedRequest;
pub use server::{DEFAULT_RECORD_LIMIT, MockOptions, MockServer};
