//! End-to-end tests of the mock over real HTTP: one test binary, one module per concern.

// clippy.toml allows these in tests, but clippy only recognises `#[test]` functions and
// `#[cfg(test)]` modules as tests, not the helpers of an integration-test crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed assertion or unwrap is how a test reports"
)]

mod auth_and_recording;
mod binary;
mod chat;
mod embeddings;
mod faults;
mod spec;
mod support;
