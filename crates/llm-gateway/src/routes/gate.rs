//! The policy gate in front of every LLM call: a virtual key's model alias and permission,
//! then admission (rate limits, budget reservation). What passes gets a [`Meter`] that
//! settles the request's spend exactly once.

use axum::response::{IntoResponse, Response};
use llm_types::money::NanoDollars;

use super::headers::apply_rate_headers;
use crate::app::AppState;
use crate::context::RequestContext;
use crate::metering::Meter;
use crate::prices::PriceBook;

/// Rewrites `model` by the key's aliases, checks the key may call it, and admits the request
/// with the reservation `reserve` computes. A refusal is the finished error response.
pub async fn admit(
    app: &AppState,
    context: &RequestContext,
    model: &mut String,
    prompt_estimate: u64,
    call_type: &'static str,
    reserve: impl FnOnce(&PriceBook, &str) -> NanoDollars,
) -> Result<Meter, Response> {
    if let Some(principal) = context.caller.principal() {
        let resolved = principal.resolve_model(model);
        if resolved != model.as_str() {
            *model = resolved.to_owned();
        }
        principal
            .check_model(model)
            .map_err(IntoResponse::into_response)?;
    }
    // Metrics label only configured groups: an unknown model is `other` (bounded cardinality).
    let known_group = app.router.load().deployments(model).is_some();
    let prices = app.prices.load_full();
    let reservation = reserve(&prices, model);
    match app
        .policy
        .admit(&context.caller, &context.id, reservation)
        .await
    {
        Ok(admission) => Ok(Meter::new(
            app,
            context,
            prices,
            admission,
            model,
            prompt_estimate,
            known_group,
            call_type,
        )),
        Err(refused) => {
            tracing::info!(
                request_id = %context.id,
                model = %model,
                code = refused.error.code.as_deref().unwrap_or_default(),
                "request refused by policy"
            );
            app.metrics.refused(
                known_group.then_some(model.as_str()),
                refused.error.code.as_deref().unwrap_or_default(),
            );
            let mut response = refused.error.into_response();
            apply_rate_headers(response.headers_mut(), &refused.headers);
            Err(response)
        }
    }
}
