//! Virtual key material: generation (`sk-` and 32 random bytes, 256 bits), the SHA-256 that
//! is stored instead of the key, and the preview shown in listings.

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// A new random virtual key, `sk-` followed by 43 URL-safe characters (256 random bits).
pub fn generate_key() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(format!("sk-{}", base64url(&bytes)))
}

/// The stored form of a key: lowercase hex SHA-256. Keys carry 256 random bits, so a fast
/// hash is enough; nothing can be learned from it without the key.
pub fn hash_key(key: &str) -> String {
    let hash = digest(&SHA256, key.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in hash.as_ref() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// `sk-...abcd`: enough to recognise a key in a list, useless to an attacker.
pub fn key_preview(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        let sextets = chunk.len() + 1;
        for i in 0..sextets {
            out.push(char::from(BASE64URL[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_long() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("sk-"));
        assert_eq!(a.len(), 3 + 43);
        assert!(
            a[3..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn hashes_are_sha256_hex() {
        // echo -n "sk-1234" | sha256sum
        assert_eq!(
            hash_key("sk-1234"),
            "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
        );
        assert_eq!(hash_key("sk-1234").len(), 64);
        assert_ne!(hash_key("sk-1234"), hash_key("sk-1235"));
    }

    #[test]
    fn previews_show_the_last_four_characters() {
        assert_eq!(key_preview("sk-abcdefgh"), "sk-...efgh");
        assert_eq!(key_preview("ab"), "sk-...ab");
    }
}
