//! The bounded log of requests the mock received, for assertions in tests.
//!
//! The benchmark pushes thousands of requests a second through the mock for minutes, so the
//! log keeps only the most recent entries: memory stays flat however long the mock runs.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};

/// One request as the mock received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, upper case (`POST`).
    pub method: String,
    /// Request path without the query string (`/v1/chat/completions`).
    pub path: String,
    /// Headers in arrival order, names lower case; values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `Null` when it was empty or not JSON.
    pub body: serde_json::Value,
}

impl RecordedRequest {
    /// Builds a record from the parts axum hands a handler.
    pub(crate) fn new(
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: serde_json::Value,
    ) -> Self {
        let headers = headers
            .iter()
            // `HeaderName` is already lower case; the lossy conversion keeps odd bytes visible.
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Self {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            headers,
            body,
        }
    }

    /// The first value of a header, looked up case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A ring buffer of the last `limit` requests.
#[derive(Debug)]
pub(crate) struct RequestLog {
    limit: usize,
    entries: Mutex<VecDeque<RecordedRequest>>,
}

impl RequestLog {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            entries: Mutex::new(VecDeque::with_capacity(limit.min(1024))),
        }
    }

    /// Whether recording is on at all; callers skip building a record when it is not.
    pub(crate) fn enabled(&self) -> bool {
        self.limit > 0
    }

    pub(crate) fn push(&self, request: RecordedRequest) {
        if !self.enabled() {
            return;
        }
        // A panic elsewhere while holding the lock cannot leave a VecDeque half-updated in a
        // way that matters here, so a poisoned lock is simply taken over.
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        while entries.len() >= self.limit {
            entries.pop_front();
        }
        entries.push_back(request);
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str) -> RecordedRequest {
        RecordedRequest::new(
            &Method::POST,
            path,
            &HeaderMap::new(),
            serde_json::Value::Null,
        )
    }

    #[test]
    fn keeps_only_the_most_recent_entries() {
        let log = RequestLog::new(2);
        for path in ["/a", "/b", "/c"] {
            log.push(request(path));
        }
        let paths: Vec<String> = log.snapshot().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, ["/b", "/c"]);
        log.clear();
        assert!(log.snapshot().is_empty());
    }

    #[test]
    fn a_zero_limit_records_nothing() {
        let log = RequestLog::new(0);
        log.push(request("/a"));
        assert!(log.snapshot().is_empty());
    }
}
