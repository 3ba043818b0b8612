//! Scripted faults, read from the request's `model` string (the table is in the crate docs).

use std::time::Duration;

use axum::http::StatusCode;

/// What a request's model asks the mock to do besides answering normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Script {
    /// Wait this long before answering (streams: before the first chunk).
    pub delay: Option<Duration>,
    pub fault: Fault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Error(StatusCode),
    Garbage,
    Cut(usize),
    Hang,
    StallAfter(usize),
    /// Streamed: every frame after this many milliseconds (a slow generator).
    Drip(u64),
}

impl Script {
    pub(crate) fn parse(model: &str) -> Self {
        let (base, delay) = split_delay(model);
        Self {
            delay,
            fault: parse_fault(base),
        }
    }
}

/// Splits `slow-<ms>` or `<base>-slow-<ms>` into the base model and the delay.
fn split_delay(model: &str) -> (&str, Option<Duration>) {
    let (base, ms) = match model.rsplit_once("slow-") {
        Some(("", ms)) => ("", ms),
        Some((base, ms)) => match base.strip_suffix('-') {
            Some(base) => (base, ms),
            None => return (model, None),
        },
        None => return (model, None),
    };
    match ms.parse::<u64>() {
        Ok(ms) => (base, Some(Duration::from_millis(ms))),
        Err(_) => (model, None),
    }
}

fn parse_fault(model: &str) -> Fault {
    let count = |rest: &str| rest.parse::<usize>().ok();
    if model == "garbage" {
        Fault::Garbage
    } else if model == "hang" {
        Fault::Hang
    } else if let Some(status) = model.strip_prefix("error-") {
        status
            .parse::<u16>()
            .ok()
            .filter(|s| (400..=599).contains(s))
            .and_then(|s| StatusCode::from_u16(s).ok())
            .map_or(Fault::None, Fault::Error)
    } else if let Some(k) = model.strip_prefix("cut-").and_then(count) {
        Fault::Cut(k)
    } else if let Some(k) = model.strip_prefix("stall-after-").and_then(count) {
        Fault::StallAfter(k)
    } else if let Some(ms) = model.strip_prefix("drip-").and_then(|ms| ms.parse().ok()) {
        Fault::Drip(ms)
    } else {
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(model: &str, delay_ms: Option<u64>, fault: Fault) {
        let expected = Script {
            delay: delay_ms.map(Duration::from_millis),
            fault,
        };
        assert_eq!(Script::parse(model), expected, "model {model:?}");
    }

    #[test]
    fn parses_every_scripted_name() {
        let cases = [
            ("gpt-4o-mini", None, Fault::None),
            (
                "error-429",
                None,
                Fault::Error(StatusCode::TOO_MANY_REQUESTS),
            ),
            (
                "error-503",
                None,
                Fault::Error(StatusCode::SERVICE_UNAVAILABLE),
            ),
            ("error-200", None, Fault::None),
            ("error-abc", None, Fault::None),
            ("slow-250", Some(250), Fault::None),
            ("gpt-4o-slow-40", Some(40), Fault::None),
            ("cut-2-slow-5", Some(5), Fault::Cut(2)),
            ("notslow-5", None, Fault::None),
            ("slow-fast", None, Fault::None),
            ("garbage", None, Fault::Garbage),
            ("cut-3", None, Fault::Cut(3)),
            ("hang", None, Fault::Hang),
            ("stall-after-1", None, Fault::StallAfter(1)),
            ("drip-20", None, Fault::Drip(20)),
            ("drip-x", None, Fault::None),
            ("stall-after-x", None, Fault::None),
        ];
        for (model, delay, fault) in cases {
            check(model, delay, fault);
        }
    }
}
