//! The Anthropic family's part of the kit: its key and the SDK's request schema.

use std::sync::OnceLock;

use super::Spec;

/// The key the mock expects.
pub const KEY: &str = "sk-ant-test-key-0123456789";

/// The anthropic SDK's request schema, every object closed.
pub fn anthropic_request_spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        Spec::load(
            "specs/anthropic/MessageCreateParams.closed.schema.json",
            "urn:anthropic-request",
        )
    })
}
