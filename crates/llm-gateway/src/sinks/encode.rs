//! JSON encodings of a batch: an array (webhook) or one object per line (JSON lines). Each
//! record is its `RequestRecord` serialization plus `cost_usd`; a redacting sink leaves the
//! message content out.

use bytes::Bytes;
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::request_log::RequestRecord;

/// The fields that carry message content.
const CONTENT_FIELDS: [&str; 2] = ["request_content", "response_content"];

/// One record as a sink sees it.
pub(super) fn record_json(record: &RequestRecord, redact: bool) -> Value {
    let mut object = match serde_json::to_value(record) {
        Ok(Value::Object(object)) => object,
        // A struct of plain fields always serializes to an object; keep the id regardless.
        _ => Map::from_iter([(
            "request_id".to_owned(),
            Value::String(record.request_id.to_string()),
        )]),
    };
    if redact {
        for field in CONTENT_FIELDS {
            object.remove(field);
        }
    }
    object.insert("cost_usd".to_owned(), Value::from(record.cost_usd()));
    Value::Object(object)
}

/// `[record, ...]`.
pub(super) fn json_array(batch: &[Arc<RequestRecord>], redact: bool) -> Bytes {
    let items: Vec<Value> = batch.iter().map(|r| record_json(r, redact)).collect();
    Bytes::from(serde_json::to_vec(&items).unwrap_or_default())
}

/// `record\n` per record.
pub(super) fn json_lines(batch: &[Arc<RequestRecord>], redact: bool) -> Bytes {
    let mut out = Vec::with_capacity(batch.len() * 512);
    for record in batch {
        if serde_json::to_writer(&mut out, &record_json(record, redact)).is_ok() {
            out.push(b'\n');
        }
    }
    Bytes::from(out)
}
