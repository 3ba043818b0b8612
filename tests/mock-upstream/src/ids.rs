//! Deterministic identifiers, hashing and timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// 64-bit FNV-1a: tiny, dependency-free and stable across runs and platforms, which is
/// all the mock needs for ids and embeddings (not collision resistance against an adversary).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(mut self, bytes: &[u8]) -> Self {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// Seconds since the Unix epoch, as OpenAI's `created` fields carry.
pub(crate) fn now_secs() -> u64 {
    // A clock before 1970 is a broken machine; 0 keeps the field an integer anyway.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(Fnv::new().finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv::new().write(b"a").finish(), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Fnv::new().write(b"foobar").finish(), 0x8594_4171_f739_67e8);
    }
}
