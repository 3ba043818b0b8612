//! `GET /v1/models` and `GET /v1/models/{id}`: a fixed catalogue.

use serde_json::{Value, json};

/// The models the mock lists; it answers for any model name regardless.
const MODELS: &[&str] = &[
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1-mini",
    "o3-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
];

/// A fixed date, so listings are byte-for-byte stable across runs.
const CREATED: u64 = 1_700_000_000;

fn model(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": CREATED, "owned_by": "mock"})
}

/// The `ListModelsResponse` body.
pub(crate) fn list() -> Value {
    json!({"object": "list", "data": MODELS.iter().map(|id| model(id)).collect::<Vec<_>>()})
}

/// One listed model, or `None` when the mock does not list it.
pub(crate) fn get(id: &str) -> Option<Value> {
    MODELS.contains(&id).then(|| model(id))
}
