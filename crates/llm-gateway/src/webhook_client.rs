//! The HTTP client of webhook guardrails: the gateway's pooled client behind the policy's
//! [`WebhookClient`] trait (llm-policy itself has no HTTP client).

use futures_util::future::BoxFuture;
use llm_policy::guardrails::WebhookClient;
use llm_providers::http_client::HttpClient;
use std::time::Duration;

/// Posts webhook guardrail calls with the shared HTTP client.
pub struct HttpWebhook(pub HttpClient);

impl WebhookClient for HttpWebhook {
    fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(u16, Vec<u8>), String>> {
        let mut request = self
            .0
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Box::pin(async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(|e| e.to_string())?;
            Ok((status, bytes.to_vec()))
        })
    }
}
