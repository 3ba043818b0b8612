//! An independent SigV4 verifier: the canonical request rebuilt by hand from the request as
//! received (HMAC-SHA256 from `hmac`/`sha2`, not the `aws-sigv4` crate the gateway signs
//! with), so a bug in how the gateway drives its signer cannot hide behind the same code.
//!
//! Bedrock's rule: the canonical URI is the received (already percent-encoded) path encoded
//! once more, so `%3A` becomes `%253A`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The credentials the mock knows (the AWS documentation's example pair, which the
/// conformance kit's `sigv4_verify.py` also uses).
pub(crate) const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
pub(crate) const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Why a request is refused, as AWS names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization` header (`MissingAuthenticationTokenException`).
    Missing,
    /// A malformed header (`IncompleteSignatureException`).
    Incomplete(String),
    /// An access key the mock does not know (`UnrecognizedClientException`).
    UnknownKey,
    /// The signature does not match (`InvalidSignatureException`).
    BadSignature,
}

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: the error branch is never taken, and an empty MAC would
    // only fail the comparison.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// URI-encodes every byte but the unreserved ones (and `/` when `keep_slash`).
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The parsed `Authorization` header.
struct Authorization<'a> {
    access_key: &'a str,
    scope: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, Refusal> {
    let incomplete = |why: &str| Refusal::Incomplete(why.to_owned());
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| incomplete("Authorization must start with AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential is missing"))?;
    let (access_key, scope) = credential
        .split_once('/')
        .ok_or_else(|| incomplete("Credential has no scope"))?;
    Ok(Authorization {
        access_key,
        scope,
        signed_headers: signed
            .ok_or_else(|| incomplete("SignedHeaders is missing"))?
            .split(';')
            .collect(),
        signature: signature.ok_or_else(|| incomplete("Signature is missing"))?,
    })
}

/// The request as received, for verification.
pub(crate) struct Received<'a> {
    pub method: &'a str,
    /// The raw path, as it came on the request line.
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Header names lower case, in arrival order.
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

impl Received<'_> {
    fn header_values(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// The canonical request for `request` over `signed_headers`.
pub(crate) fn canonical_request(request: &Received<'_>, signed_headers: &[&str]) -> String {
    let mut query: Vec<(String, String)> = request
        .query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let headers: String = signed_headers
        .iter()
        .map(|name| {
            format!(
                "{name}:{}\n",
                request.header_values(name).unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{}\n{}\n{query}\n{headers}\n{}\n{}",
        request.method,
        uri_encode(request.path, true),
        signed_headers.join(";"),
        sha256_hex(request.body)
    )
}

/// Checks the request's SigV4 signature against the mock's credentials.
pub(crate) fn verify(request: &Received<'_>) -> Result<(), Refusal> {
    let value = request
        .header_values("authorization")
        .ok_or(Refusal::Missing)?;
    let auth = parse_authorization(&value)?;
    if auth.access_key != ACCESS_KEY_ID {
        return Err(Refusal::UnknownKey);
    }
    let date_time = request
        .header_values("x-amz-date")
        .ok_or_else(|| Refusal::Incomplete("X-Amz-Date is missing".into()))?;
    let scope_parts: Vec<&str> = auth.scope.split('/').collect();
    let [date, region, service, "aws4_request"] = scope_parts.as_slice() else {
        return Err(Refusal::Incomplete("malformed credential scope".into()));
    };
    for required in ["host", "x-amz-date"] {
        if !auth.signed_headers.contains(&required) {
            return Err(Refusal::Incomplete(format!("{required} is not signed")));
        }
    }
    if request.header_values("x-amz-security-token").is_some()
        && !auth.signed_headers.contains(&"x-amz-security-token")
    {
        return Err(Refusal::Incomplete(
            "x-amz-security-token is not signed".into(),
        ));
    }
    let canonical = canonical_request(request, &auth.signed_headers);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{}\n{}",
        auth.scope,
        sha256_hex(canonical.as_bytes())
    );
    let mut key = hmac(
        format!("AWS4{SECRET_ACCESS_KEY}").as_bytes(),
        date.as_bytes(),
    );
    for part in [*region, *service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if expected == auth.signature && *service == "bedrock" {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"inferenceConfig":{"maxTokens":256,"stopSequences":["END"],"temperature":0.2},"messages":[{"content":[{"text":"Hello"}],"role":"user"}],"system":[{"text":"You are terse."}]}"#;

    fn golden(path: &str, signature: &str, body: &str) -> Result<(), Refusal> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
        );
        verify(&Received {
            method: "POST",
            path,
            query: None,
            headers: vec![
                ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
                ("content-type", "application/json"),
                ("x-amz-date", "20240101T000000Z"),
                ("authorization", &auth),
            ],
            body: body.as_bytes(),
        })
    }

    /// The conformance kit's golden vector verifies; any change to it does not.
    #[test]
    fn verifies_the_golden_vector_and_refuses_tampering() {
        let good = "b364b179990f043d28f8a70e4f7359817ad0d92b39de24c772b34b6f0c7c4a2c";
        let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
        let cases = [
            (path, good, BODY, Ok(())),
            (
                path,
                good,
                &BODY.replace("Hello", "Hellp") as &str,
                Err(Refusal::BadSignature),
            ),
            (
                "/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
                good,
                BODY,
                Err(Refusal::BadSignature),
            ),
            (
                path,
                &good.replace('b', "c") as &str,
                BODY,
                Err(Refusal::BadSignature),
            ),
        ];
        for (path, signature, body, expected) in cases {
            assert_eq!(
                golden(path, signature, body),
                expected,
                "{path} {signature}"
            );
        }
    }
}
