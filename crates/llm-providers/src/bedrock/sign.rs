//! SigV4 request signing with the `aws-sigv4` crate, the way boto3 signs Bedrock calls.
//!
//! Signed headers are `content-type;host;x-amz-date` (plus `x-amz-security-token` with a
//! session token); no `x-amz-content-sha256` is sent. The path goes out single-encoded
//! (`:` as `%3A`) and is encoded once more for the canonical request (`%253A`), which is what
//! the `Double` percent-encoding mode (the crate's default, and Bedrock's rule) does. The
//! body signed is the exact body sent.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue};
use llm_types::Error;

use super::credentials::AwsCredentials;

/// The signing name of Bedrock's runtime API.
pub const SERVICE: &str = "bedrock";

/// The headers to add to a JSON POST of `body` to `url` (already percent-encoded): `x-amz-date`,
/// `authorization` and, with a session token, `x-amz-security-token`. `content-type` is
/// signed as `application/json`, so the request must carry exactly that.
pub fn sign_post(
    credentials: &AwsCredentials,
    region: &str,
    url: &str,
    body: &[u8],
    time: SystemTime,
) -> Result<HeaderMap, Error> {
    let identity: Identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.expose().to_owned(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "llm-gateway",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.session_token_mode = SessionTokenMode::Include;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| Error::internal(format!("cannot build SigV4 parameters: {e}")))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        std::iter::once(("content-type", "application/json")),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::invalid_param("api_base", format!("cannot sign the request URL: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::internal(format!("SigV4 signing failed: {e}")))?
        .into_parts();
    let mut headers = HeaderMap::new();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::internal("SigV4 produced an invalid header name"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_param(
                "aws_session_token",
                "the AWS credentials contain characters not allowed in a header",
            )
        })?;
        if name != "x-amz-date" {
            value.set_sensitive(true);
        }
        headers.insert(name, value);
    }
    Ok(headers)
}
