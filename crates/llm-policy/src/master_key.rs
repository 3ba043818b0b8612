//! The master key and the authorization of a presented key.

use llm_types::{Error, ErrorKind, ErrorOrigin};
use std::fmt;
use subtle::ConstantTimeEq;

/// The administrator key. Never printed: `Debug` shows `[REDACTED]`.
#[derive(Clone)]
pub struct MasterKey(Box<[u8]>);

impl MasterKey {
    pub fn new(key: &str) -> Self {
        MasterKey(key.as_bytes().into())
    }

    /// Whether `presented` is this key, in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.ct_eq(presented.as_bytes()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

/// What a presented key is, before any virtual key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No master key is configured: the gateway is open (the offline demo, a private network).
    Open,
    /// The caller presented the master key.
    Master,
    /// Some other key: a virtual key, if the store knows it.
    Other(&'a str),
}

/// Sorts `presented` (the bearer token or `x-api-key`): open gateway, master key, or a key
/// to look up. A missing key is refused here.
pub fn classify<'a>(
    master: Option<&MasterKey>,
    presented: Option<&'a str>,
) -> Result<Presented<'a>, Error> {
    let Some(master) = master else {
        return Ok(Presented::Open);
    };
    match presented {
        None | Some("") => Err(unauthorized(
            "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        )),
        Some(key) if master.matches(key) => Ok(Presented::Master),
        Some(key) => Ok(Presented::Other(key)),
    }
}

pub(crate) fn unauthorized(message: &'static str) -> Error {
    Error::new(ErrorKind::Authentication, ErrorOrigin::Client, message).with_code("invalid_api_key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_keys_by_the_master_key() {
        let master = MasterKey::new("sk-master-1234");
        let cases = [
            (None, None, Ok(Presented::Open)),
            (None, Some("anything"), Ok(Presented::Open)),
            (Some(&master), Some("sk-master-1234"), Ok(Presented::Master)),
            (
                Some(&master),
                Some("sk-master-1235"),
                Ok(Presented::Other("sk-master-1235")),
            ),
            (
                Some(&master),
                Some("sk-master-12345"),
                Ok(Presented::Other("sk-master-12345")),
            ),
            (Some(&master), Some(""), Err(401)),
            (Some(&master), None, Err(401)),
        ];
        for (configured, presented, expected) in cases {
            let got = classify(configured, presented).map_err(|e| e.status());
            assert_eq!(got, expected, "{presented:?}");
        }
        assert!(!format!("{master:?}").contains("1234"));
    }
}
