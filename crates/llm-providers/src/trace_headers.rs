//! A hook for outgoing trace context: every upstream request passes its headers through the
//! installed injector just before it is sent, so an application (the gateway's telemetry)
//! can add W3C `traceparent` / `tracestate` for the span the call runs in.
//!
//! This crate stays free of any tracing backend: it only knows "a function that may add
//! headers". Nothing is installed by default, and then the hook costs one atomic load.

use http::HeaderMap;
use std::sync::OnceLock;

/// Adds trace headers for the current span (or nothing) to an outgoing request's headers.
pub type Injector = fn(&mut HeaderMap);

static INJECTOR: OnceLock<Injector> = OnceLock::new();

/// Installs `injector` for the life of the process; `false` when one was installed first
/// (that one stays).
pub fn set_injector(injector: Injector) -> bool {
    INJECTOR.set(injector).is_ok()
}

/// Runs the installed injector, if any, over `headers`. Every adapter calls it where it
/// builds an upstream request (after any signing: the headers it adds are not signed).
pub fn inject(headers: &mut HeaderMap) {
    if let Some(injector) = INJECTOR.get() {
        injector(headers);
    }
}
