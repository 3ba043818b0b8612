//! Google's OAuth2 token endpoint (`POST /token`, the JWT bearer grant) and the checks of
//! both Google auth styles.
//!
//! The endpoint verifies the assertion as Google does: RS256 signature against the public half
//! of the committed test service-account key (`fixtures/google/`), the grant type, the
//! cloud-platform scope, an `aud` naming this endpoint, and a live, at most one hour long
//! validity window. It answers with an access token it remembers; Vertex routes accept only
//! tokens it minted (or the mock's `--api-key` used as a token).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

use super::errors::GoogleError;
use crate::ids::now_secs;

/// The public half of `fixtures/google/test-service-account.json` (PKCS#1 PEM).
const TEST_PUBLIC_KEY: &str = include_str!("../../fixtures/google/test-service-account.pub.pem");
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Tokens minted by this server.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    minted: Mutex<HashSet<String>>,
    counter: AtomicU64,
}

impl Tokens {
    fn mint(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let token = format!("ya29.mock-access-token-{n:08}");
        self.minted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.clone());
        token
    }

    pub(crate) fn knows(&self, token: &str) -> bool {
        self.minted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(token)
    }
}

/// Vertex: `Authorization: Bearer <token we minted or the mock's key>`.
pub(crate) fn check_bearer(
    headers: &HeaderMap,
    tokens: &Tokens,
    api_key: Option<&str>,
) -> Result<(), GoogleError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(token) if tokens.knows(token) || api_key == Some(token) => Ok(()),
        _ => Err(GoogleError::unauthenticated()),
    }
}

/// Gemini: `x-goog-api-key` (or `?key=`). Missing is 403, wrong is Google's 400
/// `API_KEY_INVALID`; without a configured key any key passes.
pub(crate) fn check_api_key(
    headers: &HeaderMap,
    query: Option<&str>,
    api_key: Option<&str>,
) -> Result<(), GoogleError> {
    let given = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            query?
                .split('&')
                .find_map(|pair| pair.strip_prefix("key="))
                .map(str::to_owned)
        });
    match (given, api_key) {
        (None, _) => Err(GoogleError::new(
            StatusCode::FORBIDDEN,
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
        )),
        (Some(given), Some(expected)) if given != expected => Err(GoogleError::bad_key()),
        _ => Ok(()),
    }
}

fn oauth_error(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": description})),
    )
        .into_response()
}

/// `POST /token`: the form body `grant_type=...&assertion=<JWT>`.
pub(crate) fn token(body: &[u8], tokens: &Tokens) -> Response {
    let form = String::from_utf8_lossy(body);
    let field = |name: &str| {
        form.split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(|v| v.replace("%3A", ":").replace("%3a", ":"))
    };
    if field("grant_type").as_deref() != Some(GRANT_TYPE) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})),
        )
            .into_response();
    }
    let Some(assertion) = field("assertion") else {
        return oauth_error("Missing assertion");
    };
    match verify(&assertion, now_secs()) {
        Ok(()) => axum::Json(json!({
            "access_token": tokens.mint(),
            "expires_in": 3599,
            "token_type": "Bearer",
        }))
        .into_response(),
        Err(why) => oauth_error(why),
    }
}

fn public_key() -> Option<Vec<u8>> {
    let body: String = TEST_PUBLIC_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    STANDARD.decode(body).ok()
}

/// Checks a JWT assertion; the error is Google's `error_description`.
pub(crate) fn verify(jwt: &str, now: u64) -> Result<(), &'static str> {
    let mut pieces = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err("Invalid JWT: not three segments");
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    let parse = |s: &str| decode(s).and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let header = parse(header).ok_or("Invalid JWT header")?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("Invalid JWT: alg must be RS256");
    }
    let signature = decode(signature).ok_or("Invalid JWT Signature.")?;
    let key = public_key().ok_or("mock key unreadable")?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "Invalid JWT Signature.")?;
    let claims = parse(claims).ok_or("Invalid JWT claims")?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    let number = |name: &str| claims.get(name).and_then(Value::as_u64).unwrap_or(0);
    if text("iss").is_empty() {
        return Err("Invalid JWT: iss is missing");
    }
    if !text("scope").split(' ').any(|s| s == SCOPE) {
        return Err("Invalid OAuth scope or ID token audience provided.");
    }
    if !text("aud").ends_with("/token") {
        return Err("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe");
    }
    let (iat, exp) = (number("iat"), number("exp"));
    if exp <= iat || exp - iat > 3600 || exp < now || iat > now + 300 {
        return Err(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    const ACCOUNT: &str = include_str!("../../fixtures/google/test-service-account.json");

    /// A JWT signed with the committed test key, as a client would make it.
    fn jwt(claims: &Value, tamper: bool) -> String {
        let account: Value = serde_json::from_str(ACCOUNT).unwrap();
        let pem = account["private_key"].as_str().unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let key = RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let mut claims = claims.to_string();
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&claims));
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        if tamper {
            claims = claims.replace("gateway", "intruder");
        }
        format!(
            "{header}.{}.{}",
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    #[test]
    fn verifies_assertions_as_google_does() {
        let now = 1_700_000_000;
        let good = json!({"iss": "gateway@x", "scope": SCOPE, "aud": "http://127.0.0.1:1/token",
                          "iat": now, "exp": now + 3600});
        let mut wrong_scope = good.clone();
        wrong_scope["scope"] = json!("https://www.googleapis.com/auth/drive");
        let mut too_long = good.clone();
        too_long["exp"] = json!(now + 7200);
        let mut wrong_aud = good.clone();
        wrong_aud["aud"] = json!("http://127.0.0.1:1/other");
        let cases = [
            (jwt(&good, false), true),
            (jwt(&good, true), false),
            (jwt(&wrong_scope, false), false),
            (jwt(&too_long, false), false),
            (jwt(&wrong_aud, false), false),
            ("a.b".to_owned(), false),
        ];
        for (assertion, ok) in cases {
            assert_eq!(verify(&assertion, now).is_ok(), ok, "{assertion}");
        }
        assert!(verify(&jwt(&good, false), now + 4000).is_err(), "expired");
    }
}
