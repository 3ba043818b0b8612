//! Small serde helpers shared by the wire types.

/// `skip_serializing_if` helper for `extra` maps: forward nothing when the client sent nothing.
pub(crate) fn is_empty_map(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    map.is_empty()
}
