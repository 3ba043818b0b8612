//! Detector tables of the `pii` guardrail: for every entity, true positives (with the exact
//! text that must be found) and near-miss negatives (dates, version numbers, a 16-digit
//! number failing Luhn, an IBAN with a wrong check digit...). Each table's precision and
//! recall are computed and printed; every case must come out as the table says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_policy::guardrails::{Entity, PiiDetector};

/// `(text, Some(exact match) | None)`.
type Table = &'static [(&'static str, Option<&'static str>)];

const EMAIL: Table = &[
    (
        "mail jane.doe@example.com today",
        Some("jane.doe@example.com"),
    ),
    ("j+tag@sub.example.co.uk", Some("j+tag@sub.example.co.uk")),
    ("<USER_1@Example.ORG>", Some("USER_1@Example.ORG")),
    ("x@y.io.", Some("x@y.io")),
    ("user@localhost", None),
    ("ping @handle on chat", None),
    ("foo@bar", None),
    ("name at example dot com", None),
    ("a@b.c", None),
    ("user@@example.com", None),
    ("john..doe@example.com", None),
    ("v1.2@3.4", None),
];

const PHONE: Table = &[
    ("call +14155552671 now", Some("+14155552671")),
    ("tel: +1 415 555 2671", Some("+1 415 555 2671")),
    ("London +44 20 7946 0958", Some("+44 20 7946 0958")),
    ("Berlin +49 30 1234567.", Some("+49 30 1234567")),
    ("Paris +33 6 12 34 56 78", Some("+33 6 12 34 56 78")),
    ("(415) 555-2671", Some("(415) 555-2671")),
    ("office 415-555-2671", Some("415-555-2671")),
    ("415.555.2671", Some("415.555.2671")),
    ("dial 1-415-555-2671", Some("1-415-555-2671")),
    ("UK 020 7946 0958", Some("020 7946 0958")),
    ("FR 06 12 34 56 78", Some("06 12 34 56 78")),
    ("DE 030 1234567", Some("030 1234567")),
    ("released 2024-01-15", None),
    ("am 15.01.2024 um", None),
    ("due 01/15/2024", None),
    ("version 1.2.3", None),
    ("Windows 10.0.19045.2364", None),
    ("at 12:30:45", None),
    ("host 192.168.1.1", None),
    ("ISBN 978-3-16-148410-0", None),
    ("pi is 3.14159265", None),
    ("sold 1,234,567,890 units", None),
    ("2024-01-15T10:30:00Z", None),
    ("+1", None),
];

const CREDIT_CARD: Table = &[
    ("card 4111 1111 1111 1111 exp", Some("4111 1111 1111 1111")),
    ("4111-1111-1111-1111", Some("4111-1111-1111-1111")),
    ("4111111111111111", Some("4111111111111111")),
    ("mc 5500 0000 0000 0004", Some("5500 0000 0000 0004")),
    ("amex 3782 822463 10005", Some("3782 822463 10005")),
    ("6011 1111 1111 1117.", Some("6011 1111 1111 1117")),
    ("visa13 4222222222222", Some("4222222222222")),
    ("2223 0031 2200 3222", Some("2223 0031 2200 3222")),
    ("4111 1111 1111 1112", None),
    ("1234 5678 9012 3456", None),
    ("4111 1111-1111 1111", None),
    ("order 12345678", None),
    ("tracking 9400111899223344556677", None),
    ("ts 1700000000000", None),
    ("ip 10.0.0.1 and 2024-01-15", None),
];

const IBAN: Table = &[
    (
        "DE89 3704 0044 0532 0130 00",
        Some("DE89 3704 0044 0532 0130 00"),
    ),
    (
        "iban: GB82 WEST 1234 5698 7654 32 thanks",
        Some("GB82 WEST 1234 5698 7654 32"),
    ),
    (
        "FR14 2004 1010 0505 0001 3M02 606",
        Some("FR14 2004 1010 0505 0001 3M02 606"),
    ),
    ("NL91ABNA0417164300", Some("NL91ABNA0417164300")),
    (
        "ES91 2100 0418 4502 0005 1332 OK",
        Some("ES91 2100 0418 4502 0005 1332"),
    ),
    (
        "CH93 0076 2011 6238 5295 7",
        Some("CH93 0076 2011 6238 5295 7"),
    ),
    ("DE89 3704 0044 0532 0130 01", None),
    ("GB82 WEST 1234 5698 7654 3", None),
    ("ZZ12 3456 7890 1234 5678", None),
    ("ISO 8601 and DE12", None),
    ("the AB12CDEF product", None),
];

const SSN: Table = &[
    ("ssn 123-45-6789", Some("123-45-6789")),
    ("078-05-1120", Some("078-05-1120")),
    ("id 123 45 6789.", Some("123 45 6789")),
    ("000-12-3456", None),
    ("666-12-3456", None),
    ("912-34-5678", None),
    ("123-00-4567", None),
    ("123-45-0000", None),
    ("123-45-67890", None),
    ("1123-45-6789", None),
    ("2024-01-15", None),
];

const IP: Table = &[
    ("from 192.168.1.1 at", Some("192.168.1.1")),
    ("10.0.0.1", Some("10.0.0.1")),
    ("dns 8.8.8.8.", Some("8.8.8.8")),
    ("255.255.255.255", Some("255.255.255.255")),
    ("net 10.0.0.0/8", Some("10.0.0.0")),
    ("v6 2001:db8::1 ok", Some("2001:db8::1")),
    ("fe80::1ff:fe23:4567:890a", Some("fe80::1ff:fe23:4567:890a")),
    ("loopback ::1", Some("::1")),
    (
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        Some("2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ),
    ("mapped ::ffff:192.0.2.128", Some("::ffff:192.0.2.128")),
    ("256.1.1.1", None),
    ("1.2.3", None),
    ("192.168.01.1", None),
    ("1.2.3.4.5", None),
    ("at 12:30:45", None),
    ("std::vec::Vec", None),
    ("mac 00:1A:2B:3C:4D:5E", None),
    ("Windows 10.0.19045.2364", None),
    ("a::b::c", None),
    ("C++ has :: too", None),
];

const SECRET: Table = &[
    (
        "key sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL end",
        Some("sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
    ),
    (
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab-Cd7Ef0Gh",
        Some("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab-Cd7Ef0Gh"),
    ),
    (
        "ANTHROPIC_API_KEY=sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe",
        Some("sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"),
    ),
    ("aws AKIAIOSFODNN7EXAMPLE", Some("AKIAIOSFODNN7EXAMPLE")),
    ("ASIAY34FZKBOKMUTVV7A", Some("ASIAY34FZKBOKMUTVV7A")),
    (
        "token ghp_1234567890abcdefghijklmnopqrstuvwxyz",
        Some("ghp_1234567890abcdefghijklmnopqrstuvwxyz"),
    ),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        Some("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ),
    (
        "x -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY----- y",
        Some("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"),
    ),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        Some(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        ),
    ),
    ("sk-short1", None),
    ("sketch-artist", None),
    ("risk-assessment-2024-framework-document", None),
    ("pip install sk-learn-is-a-python-library", None),
    ("AKIA123", None),
    ("AKIAIOSFODNN7EXAMPL", None),
    ("akiaiosfodnn7example", None),
    ("ghp_short", None),
    (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----",
        None,
    ),
    (
        "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
        None,
    ),
    ("task-1234567890abcdefghijklmnop", None),
];

/// Runs a table; answers (true positives, false positives, false negatives, misclassified).
fn score(entity: Entity, table: Table) -> (usize, usize, usize, Vec<String>) {
    let detector = PiiDetector::new(&[entity]).unwrap();
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    let mut wrong = Vec::new();
    for (text, expected) in table {
        let found: Vec<&str> = detector
            .find(text)
            .iter()
            .map(|f| &text[f.start..f.end])
            .collect();
        match expected {
            Some(want) => {
                if found.contains(want) {
                    tp += 1;
                } else {
                    fneg += 1;
                    wrong.push(format!("missed in {text:?}: found {found:?}"));
                }
                let extra = found.iter().filter(|f| *f != want).count();
                if extra > 0 {
                    fp += extra;
                    wrong.push(format!("extra match in {text:?}: {found:?}"));
                }
            }
            None => {
                if !found.is_empty() {
                    fp += found.len();
                    wrong.push(format!("false positive in {text:?}: {found:?}"));
                }
            }
        }
    }
    (tp, fp, fneg, wrong)
}

#[test]
fn guardrail_detector_tables_precision_and_recall() {
    let tables: [(Entity, Table); 7] = [
        (Entity::Email, EMAIL),
        (Entity::Phone, PHONE),
        (Entity::CreditCard, CREDIT_CARD),
        (Entity::Iban, IBAN),
        (Entity::Ssn, SSN),
        (Entity::Ip, IP),
        (Entity::Secret, SECRET),
    ];
    let mut failures = Vec::new();
    eprintln!("detector     cases  positives  negatives  precision  recall");
    for (entity, table) in tables {
        let (tp, fp, fneg, wrong) = score(entity, table);
        let positives = table.iter().filter(|(_, e)| e.is_some()).count();
        let precision = if tp + fp == 0 {
            1.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let recall = tp as f64 / (tp + fneg).max(1) as f64;
        eprintln!(
            "{:<12} {:>5}  {:>9}  {:>9}  {:>8.1}%  {:>5.1}%",
            entity.as_str(),
            table.len(),
            positives,
            table.len() - positives,
            precision * 100.0,
            recall * 100.0
        );
        failures.extend(
            wrong
                .into_iter()
                .map(|w| format!("{}: {w}", entity.as_str())),
        );
    }
    assert!(
        failures.is_empty(),
        "misclassified:\n{}",
        failures.join("\n")
    );
}

#[test]
fn guardrail_all_entities_together_pick_the_right_label() {
    let detector = PiiDetector::new(&Entity::ALL).unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "mail a@x.io, card 4111 1111 1111 1111, ssn 123-45-6789",
            &["EMAIL", "CREDIT_CARD", "SSN"],
        ),
        ("call +1 415 555 2671 from 10.0.0.1", &["PHONE", "IP"]),
        (
            "DE89 3704 0044 0532 0130 00 and AKIAIOSFODNN7EXAMPLE",
            &["IBAN", "SECRET"],
        ),
        ("nothing to see: 2024-01-15, v1.2.3, 3.14", &[]),
    ];
    for (text, labels) in cases {
        let found: Vec<&str> = detector.find(text).iter().map(|f| f.label).collect();
        assert_eq!(&found, labels, "{text}");
    }
}

/// The same tables with every detector on at once (the `pii` default): a negative of one
/// table must not be found by another detector either, unless it holds another entity.
#[test]
fn guardrail_detector_tables_with_every_entity_on() {
    // Negatives of one table that are positives of another.
    let other_entity = ["host 192.168.1.1", "ip 10.0.0.1 and 2024-01-15"];
    let detector = PiiDetector::new(&Entity::ALL).unwrap();
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    let mut wrong = Vec::new();
    for table in [EMAIL, PHONE, CREDIT_CARD, IBAN, SSN, IP, SECRET] {
        for (text, expected) in table {
            let found: Vec<&str> = detector
                .find(text)
                .iter()
                .map(|f| &text[f.start..f.end])
                .collect();
            match expected {
                Some(want) if found.contains(want) => tp += 1,
                Some(_) => {
                    fneg += 1;
                    wrong.push(format!("missed in {text:?}: {found:?}"));
                }
                None if found.is_empty() || other_entity.contains(text) => {}
                None => {
                    fp += found.len();
                    wrong.push(format!("false positive in {text:?}: {found:?}"));
                }
            }
        }
    }
    eprintln!(
        "all entities on: precision {:.1}% recall {:.1}% ({tp} tp, {fp} fp, {fneg} fn)",
        100.0 * tp as f64 / (tp + fp).max(1) as f64,
        100.0 * tp as f64 / (tp + fneg).max(1) as f64
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
