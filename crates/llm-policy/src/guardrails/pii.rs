//! The PII and secret detectors of the `pii` guardrail.
//!
//! Each entity is a candidate regex plus a validator: a card number must pass Luhn and start
//! like an issuer's number, an IBAN must have its country's length and pass mod-97, an SSN
//! must not use the area numbers never issued (000, 666, 9xx), an IPv6 address must parse.
//! Validators are what keep precision high: a regex alone finds every 16-digit number.

use regex::Regex;
use serde::Serialize;
use std::net::Ipv6Addr;

use super::detect::{Found, accept, digits, number_bounded, sorted, word_bounded};

/// The kinds of sensitive data the `pii` guardrail finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Email,
    Phone,
    CreditCard,
    Iban,
    Ssn,
    Ip,
    Secret,
}

impl Entity {
    /// Every entity, in the order overlapping matches are decided (earlier wins).
    pub const ALL: [Entity; 7] = [
        Entity::Secret,
        Entity::CreditCard,
        Entity::Iban,
        Entity::Ssn,
        Entity::Email,
        Entity::Ip,
        Entity::Phone,
    ];

    /// The name in configuration (`credit_card`).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::CreditCard => "credit_card",
            Entity::Iban => "iban",
            Entity::Ssn => "ssn",
            Entity::Ip => "ip",
            Entity::Secret => "secret",
        }
    }

    /// The label of its mask tokens (`[CREDIT_CARD_1]`).
    pub fn label(self) -> &'static str {
        match self {
            Entity::Email => "EMAIL",
            Entity::Phone => "PHONE",
            Entity::CreditCard => "CREDIT_CARD",
            Entity::Iban => "IBAN",
            Entity::Ssn => "SSN",
            Entity::Ip => "IP",
            Entity::Secret => "SECRET",
        }
    }

    /// The entity a configuration name or a mask label names.
    pub fn parse(text: &str) -> Option<Entity> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == text || e.label() == text)
    }
}

const EMAIL: &str = r"(?i)[a-z0-9._%+-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}";
// International (+CC ...), North American (area code in parentheses or 3-3-4), and European
// national numbers with their trunk 0. Digit counts are checked after the match.
const PHONE: &str = concat!(
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}",
    r"|(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}",
    r"|0[1-9]\d{0,3}(?:[ /.-]?\d{2,8}){1,4}",
);
const CARD: &str = r"\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19}";
const IBAN_START: &str = r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}";
const SSN: &str = r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}";
const IPV4: &str = r"(?:\d{1,3}\.){3}\d{1,3}";
const IPV6: &str = r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:\.\d{1,3}){0,3}";
const SECRET: &str = concat!(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
    r"|\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b",
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}",
);

/// The compiled detectors of a `pii` guardrail's entities.
#[derive(Debug, Clone)]
pub struct PiiDetector {
    checks: Vec<(Entity, Regex)>,
    ipv6: Option<Regex>,
}

impl PiiDetector {
    /// Compiles the detectors of `entities` (the patterns are constants: this fails only on a
    /// bug, which a unit test would catch).
    pub fn new(entities: &[Entity]) -> Result<PiiDetector, regex::Error> {
        let checks = Entity::ALL
            .into_iter()
            .filter(|e| entities.contains(e))
            .map(|e| Ok((e, Regex::new(pattern(e))?)))
            .collect::<Result<Vec<_>, regex::Error>>()?;
        let ipv6 = if entities.contains(&Entity::Ip) {
            Some(Regex::new(IPV6)?)
        } else {
            None
        };
        Ok(PiiDetector { checks, ipv6 })
    }

    /// Every match in `text`, sorted by start, none overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        let has_digit = text.bytes().any(|b| b.is_ascii_digit());
        for (entity, re) in &self.checks {
            // Cheap prefilters: most prose has no `@`, and most entities need digits.
            let skip = match entity {
                Entity::Email => !text.contains('@'),
                Entity::Secret => false,
                Entity::Ip => !has_digit && !text.contains(':'),
                _ => !has_digit,
            };
            if skip {
                continue;
            }
            if *entity == Entity::Iban {
                iban_matches(re, text, &mut found);
                continue;
            }
            // IPv6 first: `::ffff:192.0.2.128` is one address, not an IPv4 inside one.
            if *entity == Entity::Ip
                && let Some(re6) = &self.ipv6
            {
                for m in re6.find_iter(text) {
                    if valid_ipv6(text, m.start(), m.end()) {
                        let (start, end) = (m.start(), m.end());
                        accept(
                            &mut found,
                            Found {
                                start,
                                end,
                                label: "IP",
                            },
                        );
                    }
                }
            }
            for m in re.find_iter(text) {
                let (start, end) = (m.start(), m.end());
                if valid(*entity, text, start, end) {
                    let label = entity.label();
                    accept(&mut found, Found { start, end, label });
                }
            }
        }
        sorted(found)
    }
}

fn pattern(entity: Entity) -> &'static str {
    match entity {
        Entity::Email => EMAIL,
        Entity::Phone => PHONE,
        Entity::CreditCard => CARD,
        Entity::Iban => IBAN_START,
        Entity::Ssn => SSN,
        Entity::Ip => IPV4,
        Entity::Secret => SECRET,
    }
}

fn valid(entity: Entity, text: &str, start: usize, end: usize) -> bool {
    let s = &text[start..end];
    match entity {
        Entity::Email => valid_email(s) && word_bounded(text, start, end),
        Entity::Phone => valid_phone(s) && number_bounded(text, start, end, ".-/:"),
        Entity::CreditCard => valid_card(s) && number_bounded(text, start, end, ".-/,"),
        Entity::Ssn => valid_ssn(s) && number_bounded(text, start, end, ".-/"),
        Entity::Ip => valid_ipv4(s) && number_bounded(text, start, end, "."),
        Entity::Secret => valid_secret(s),
        Entity::Iban => false,
    }
}

fn valid_email(s: &str) -> bool {
    let local = s.split('@').next().unwrap_or_default();
    !local.starts_with('.') && !local.ends_with('.') && !local.contains("..")
}

fn valid_phone(s: &str) -> bool {
    let n = digits(s).len();
    if s.starts_with('+') {
        return (8..=15).contains(&n);
    }
    if s.starts_with('0') {
        return (9..=12).contains(&n);
    }
    // North American: the area code never starts with 0 or 1.
    let area = s.trim_start_matches("1 ").trim_start_matches("1-");
    let area = area.trim_start_matches("1.").trim_start_matches('(');
    n >= 10
        && area
            .bytes()
            .next()
            .is_some_and(|b| (b'2'..=b'9').contains(&b))
}

/// The Luhn checksum over a number's digits.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn valid_card(s: &str) -> bool {
    let d = digits(s);
    // One kind of separator throughout: `4111 1111-1111 1111` is not how cards are written.
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    let one_sep = seps.windows(2).all(|w| w[0] == w[1]);
    // Issuers' numbers start with 2-6 (Mastercard 2/5, Amex/JCB/Diners 3, Visa 4, Discover 6).
    (13..=19).contains(&d.len()) && one_sep && (2..=6).contains(&d[0]) && luhn(&d)
}

fn valid_ssn(s: &str) -> bool {
    let d = digits(s);
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().any(|&x| x != 0);
    area != 0 && area != 666 && area < 900 && group != 0 && serial
}

fn valid_ipv4(s: &str) -> bool {
    s.split('.').all(|octet| {
        octet.parse::<u16>().is_ok_and(|n| n <= 255)
            && (octet.len() == 1 || !octet.starts_with('0'))
    })
}

fn valid_ipv6(text: &str, start: usize, end: usize) -> bool {
    let s = &text[start..end];
    let edges_ok = text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric() && c != ':' && c != '_')
        && text[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != ':' && c != '_');
    edges_ok
        && s.bytes().filter(|&b| b == b':').count() >= 2
        && s.bytes().any(|b| b.is_ascii_hexdigit())
        && s.parse::<Ipv6Addr>().is_ok()
}

fn valid_secret(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("sk-") {
        // Prose like `sk-learn-is-a-python-library` is not a key: keys mix digits and letters.
        return rest.bytes().any(|b| b.is_ascii_digit())
            && rest.bytes().any(|b| b.is_ascii_alphabetic());
    }
    true
}

/// IBAN lengths by country (SEPA and the other countries that use IBANs most).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BR", 29), ("CH", 21), ("CR", 22), ("CY", 28), ("CZ", 24),
    ("DE", 22), ("DK", 18), ("DO", 28), ("EE", 20), ("EG", 29), ("ES", 24), ("FI", 18),
    ("FO", 18), ("FR", 27), ("GB", 22), ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27),
    ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22), ("IL", 23), ("IS", 26), ("IT", 27),
    ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MR", 27), ("MT", 31),
    ("MU", 30), ("NL", 18), ("NO", 15), ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25),
    ("QA", 29), ("RO", 24), ("RS", 22), ("SA", 24), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("TN", 24), ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20),
];

/// IBANs are found from their start: the country code says how many characters follow, so
/// a grouped IBAN followed by another word is cut at the right place.
fn iban_matches(start_re: &Regex, text: &str, found: &mut Vec<Found>) {
    for m in start_re.find_iter(text) {
        let start = m.start();
        let Some(&(_, len)) = IBAN_LENGTHS
            .iter()
            .find(|(cc, _)| text[start..].starts_with(cc))
        else {
            continue;
        };
        let mut chars = String::with_capacity(len);
        let mut end = start;
        let mut prev_space = false;
        for (i, c) in text[start..].char_indices() {
            if chars.len() == len {
                break;
            }
            if c == ' ' && !prev_space && !chars.is_empty() {
                prev_space = true;
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                break;
            }
            prev_space = false;
            chars.push(c);
            end = start + i + 1;
        }
        if chars.len() == len && word_bounded(text, start, end) && iban_checksum(&chars) {
            accept(
                found,
                Found {
                    start,
                    end,
                    label: "IBAN",
                },
            );
        }
    }
}

/// ISO 13616 mod-97: move the first four characters to the end, letters become 10..35.
pub fn iban_checksum(iban: &str) -> bool {
    let rotated = iban.bytes().skip(4).chain(iban.bytes().take(4));
    let mut rem: u32 = 0;
    for b in rotated {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let d = PiiDetector::new(&Entity::ALL).unwrap();
        assert_eq!(d.checks.len(), 7);
    }

    #[test]
    fn checksums() {
        let cases = [
            ("4111111111111111", true),
            ("4111111111111112", false),
            ("79927398713", true),
        ];
        for (number, ok) in cases {
            assert_eq!(luhn(&digits(number)), ok, "{number}");
        }
        assert!(iban_checksum("DE89370400440532013000"));
        assert!(!iban_checksum("DE89370400440532013001"));
    }
}
