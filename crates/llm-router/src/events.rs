//! What the router tells an observer about the way to an answer: failed attempts, retries
//! and fallbacks, as they happen, whether or not the request is finally answered (the
//! gateway counts them in its metrics).

/// Receives the router's events. Called on the request path: implementations only bump
/// counters. `group` is `None` for a wildcard group (its names are unbounded).
pub trait RouterEvents: Send + Sync {
    /// An attempt on `deployment` failed with the error of metric label `error`.
    fn attempt_failed(&self, group: Option<&str>, deployment: &str, error: &'static str);
    /// Another attempt follows in the same group.
    fn retried(&self, group: Option<&str>);
    /// The request moves from group `from` to group `to` after `error`.
    fn fell_back(&self, from: Option<&str>, to: Option<&str>, error: &'static str);
}
