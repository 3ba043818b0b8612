//! Google OAuth2 access tokens for Vertex AI, minted from a service-account key with the JWT
//! bearer grant (RFC 7523), as google-auth does.
//!
//! The JWT (`RS256`, signed with ring) names the account (`iss`), the cloud-platform scope and
//! the token endpoint (`aud`); it is POSTed to the `token_uri` of the credentials file, which is
//! how tests point the exchange at a mock. The access token is cached until a minute before it
//! expires. Refreshes are single-flight: the cache sits behind a `tokio::sync::Mutex`, so
//! concurrent requests wait for the one refresh instead of each minting a token, and no
//! `std` lock is held across an `.await`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use llm_types::{Error, ErrorKind};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::redact::redact_secrets;
use crate::target::Secret;
use crate::upstream::transport_error;

/// The scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's token endpoint, when the credentials file names none.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// How long a minted JWT (and so the exchange) is valid.
const JWT_LIFETIME: Duration = Duration::from_secs(3600);
/// A token this close to its expiry is refreshed before use.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Bound of one token exchange.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The fields of a service-account JSON key file we use.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub token_uri: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Reads credentials given as JSON text or as the path of a JSON file.
    pub fn load(credentials: &str) -> Result<Self, Error> {
        let text = if credentials.trim_start().starts_with('{') {
            credentials.to_owned()
        } else {
            std::fs::read_to_string(credentials.trim()).map_err(|e| {
                Error::invalid_param(
                    "vertex_credentials",
                    format!("cannot read the credentials file `{credentials}`: {e}"),
                )
            })?
        };
        serde_json::from_str(&text).map_err(|e| {
            Error::invalid_param(
                "vertex_credentials",
                format!("the Vertex credentials are not a service-account JSON key: {e}"),
            )
        })
    }
}

/// Where a Vertex deployment's bearer tokens come from.
#[derive(Clone)]
pub struct TokenSource(Arc<Kind>);

enum Kind {
    /// A token the deployment gave as is (`api_key`).
    Static(Secret),
    ServiceAccount(Box<Minter>),
    /// Nothing configured: every call fails with a 401 saying what to set.
    Missing,
}

struct Minter {
    account: ServiceAccount,
    key: RsaKeyPair,
    token_uri: String,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Kind::Static(_) => f.write_str("TokenSource::Static([REDACTED])"),
            Kind::ServiceAccount(m) => write!(f, "TokenSource::ServiceAccount({:?})", m.account),
            Kind::Missing => f.write_str("TokenSource::Missing"),
        }
    }
}

impl TokenSource {
    pub fn fixed(token: Secret) -> Self {
        TokenSource(Arc::new(Kind::Static(token)))
    }

    pub fn missing() -> Self {
        TokenSource(Arc::new(Kind::Missing))
    }

    /// A minter for `account`, checking its private key now (configuration time).
    pub fn service_account(account: ServiceAccount, http: reqwest::Client) -> Result<Self, Error> {
        let key = parse_private_key(&account.private_key)?;
        let token_uri = account
            .token_uri
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        Ok(TokenSource(Arc::new(Kind::ServiceAccount(Box::new(
            Minter {
                account,
                key,
                token_uri,
                http,
                cache: tokio::sync::Mutex::new(None),
            },
        )))))
    }

    /// A valid access token: the cached one, or a fresh one.
    pub async fn token(&self) -> Result<Secret, Error> {
        match &*self.0 {
            Kind::Static(token) => Ok(token.clone()),
            Kind::Missing => Err(Error::upstream(
                ErrorKind::Authentication,
                None,
                "Vertex AI needs credentials: set `vertex_credentials` (a service-account JSON \
                 key or its path) or GOOGLE_APPLICATION_CREDENTIALS",
            )),
            Kind::ServiceAccount(minter) => minter.token().await,
        }
    }
}

impl Minter {
    async fn token(&self) -> Result<Secret, Error> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = self.mint().await?;
        *cache = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN),
        });
        Ok(token)
    }

    /// The signed JWT assertion for now.
    pub(crate) fn assertion(&self, now: u64) -> Result<String, Error> {
        let header = match &self.account.private_key_id {
            Some(kid) => serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            None => serde_json::json!({"alg": "RS256", "typ": "JWT"}),
        };
        let claims = Claims {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + JWT_LIFETIME.as_secs(),
        };
        let signing_input = format!("{}.{}", b64_json(&header)?, b64_json(&claims)?);
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::internal("cannot sign the Vertex token request"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    async fn mint(&self) -> Result<(Secret, Duration), Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let assertion = self.assertion(now)?;
        // Both values are URL-safe except the grant type's colons, written encoded here.
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let exchange = async {
            let response = self
                .http
                .post(&self.token_uri)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
                .send()
                .await
                .map_err(transport_error)?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(transport_error)?;
            Ok::<_, Error>((status, bytes))
        };
        let (status, bytes) = crate::upstream::within(TOKEN_TIMEOUT, exchange).await?;
        if !(200..300).contains(&status) {
            let detail = serde_json::from_slice::<TokenError>(&bytes)
                .map(|e| match e.error_description {
                    Some(d) => format!("{}: {d}", e.error),
                    None => e.error,
                })
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
            let kind = if status >= 500 {
                ErrorKind::UpstreamUnavailable
            } else {
                ErrorKind::Authentication
            };
            return Err(Error::upstream(
                kind,
                Some(status),
                format!(
                    "the Google token endpoint refused the service account: {}",
                    redact_secrets(&detail)
                ),
            ));
        }
        let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
            Error::upstream(
                ErrorKind::UpstreamBadResponse,
                Some(status),
                format!("the Google token endpoint sent an invalid answer: {e}"),
            )
        })?;
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
        Ok((Secret::new(token.access_token), lifetime))
    }
}

/// Base64url of a value's JSON (a JWT segment).
fn b64_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_vec(value)
        .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
        .map_err(|e| Error::internal(format!("cannot encode the token request: {e}")))
}

/// The RSA key of a service account: PEM, PKCS#8 (`BEGIN PRIVATE KEY`, what Google issues) or
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
fn parse_private_key(pem: &str) -> Result<RsaKeyPair, Error> {
    let invalid = |what: &str| {
        Error::invalid_param(
            "vertex_credentials",
            format!("the service account's private_key is not a usable RSA key ({what})"),
        )
    };
    let pkcs1 = pem.contains("BEGIN RSA PRIVATE KEY");
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----") && !line.is_empty())
        .collect();
    let der = STANDARD.decode(body).map_err(|_| invalid("bad base64"))?;
    let parsed = if pkcs1 {
        RsaKeyPair::from_der(&der)
    } else {
        RsaKeyPair::from_pkcs8(&der)
    };
    parsed.map_err(|e| invalid(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/mock-upstream/fixtures/google/test-service-account.json"
    ));

    #[test]
    fn signs_a_jwt_with_the_account_key() {
        let account = ServiceAccount::load(FIXTURE).unwrap();
        let http = crate::http_client::build_http_client().unwrap();
        let source = TokenSource::service_account(account, http).unwrap();
        let Kind::ServiceAccount(minter) = &*source.0 else {
            panic!("not a service account");
        };
        let jwt = minter.assertion(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({
                "iss": "gateway-test@mock-project.iam.gserviceaccount.com",
                "scope": SCOPE,
                "aud": "https://oauth2.googleapis.com/token",
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64,
            })
        );
        assert!(!format!("{source:?}").contains("PRIVATE"));
    }

    #[test]
    fn refuses_bad_credentials() {
        let cases = [
            "{}",
            r#"{"client_email":"a","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}"#,
            "/nonexistent/credentials.json",
        ];
        let http = crate::http_client::build_http_client().unwrap();
        for case in cases {
            let built = ServiceAccount::load(case)
                .and_then(|account| TokenSource::service_account(account, http.clone()));
            assert_eq!(built.map(|_| ()).unwrap_err().status(), 400, "{case}");
        }
    }
}
