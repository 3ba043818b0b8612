//! The models list (`GET /v1/models`).

use serde::{Deserialize, Serialize};

/// `{"object": "list", "data": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    #[serde(default = "crate::embeddings::list_object")]
    pub object: String,
    pub data: Vec<Model>,
}

/// One model the caller may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    #[serde(default = "model_object")]
    pub object: String,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub owned_by: String,
}

fn model_object() -> String {
    "model".to_owned()
}

impl ModelList {
    /// A list of the given model ids, all owned by `owned_by`.
    pub fn from_ids<'a>(
        ids: impl IntoIterator<Item = &'a str>,
        owned_by: &str,
        created: u64,
    ) -> Self {
        ModelList {
            object: "list".to_owned(),
            data: ids
                .into_iter()
                .map(|id| Model {
                    id: id.to_owned(),
                    object: "model".to_owned(),
                    created,
                    owned_by: owned_by.to_owned(),
                })
                .collect(),
        }
    }
}
