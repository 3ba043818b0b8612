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

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No key is configured: the gateway is open (the offline demo, a private network).
    Anonymous,
    /// The caller presented the master key.
    Master,
}

/// Decides whether a request with `presented` (the bearer token or `x-api-key`) may proceed.
pub fn authorize(master: Option<&MasterKey>, presented: Option<&str>) -> Result<Caller, Error> {
    let Some(master) = master else {
        return Ok(Caller::Anonymous);
    };
    match presented {
        None | Some("") => Err(unauthorized(
            "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        )),
        Some(key) if master.matches(key) => Ok(Caller::Master),
        Some(_) => Err(unauthorized("invalid API key")),
    }
}

fn unauthorized(message: &'static str) -> Error {
    Error::new(ErrorKind::Authentication, ErrorOrigin::Client, message).with_code("invalid_api_key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorizes_by_master_key() {
        let master = MasterKey::new("sk-master-1234");
        let cases = [
            (None, None, Ok(Caller::Anonymous)),
            (None, Some("anything"), Ok(Caller::Anonymous)),
            (Some(&master), Some("sk-master-1234"), Ok(Caller::Master)),
            (Some(&master), Some("sk-master-1235"), Err(401)),
            (Some(&master), Some("sk-master-12345"), Err(401)),
            (Some(&master), Some(""), Err(401)),
            (Some(&master), None, Err(401)),
        ];
        for (configured, presented, expected) in cases {
            let got = authorize(configured, presented).map_err(|e| e.status());
            assert_eq!(got, expected, "{presented:?}");
        }
        assert!(!format!("{master:?}").contains("1234"));
    }
}
