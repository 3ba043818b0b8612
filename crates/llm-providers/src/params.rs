//! Request parameters a provider cannot express: refuse with a 400 naming them, or drop them
//! when the user allows it (`drop_params`, globally, per deployment or per request, and
//! `additional_drop_params`), as LiteLLM does.

use llm_types::{ChatCompletionRequest, Error};

/// Whether unsupported parameters may be dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamPolicy {
    drop_all: bool,
    always_drop: Vec<String>,
}

impl ParamPolicy {
    pub fn new(drop_all: bool, always_drop: &[String]) -> Self {
        ParamPolicy {
            drop_all,
            always_drop: always_drop.to_vec(),
        }
    }

    /// The deployment's policy, widened by the request's own `drop_params` /
    /// `additional_drop_params`.
    pub fn for_request(&self, request: &ChatCompletionRequest) -> ParamPolicy {
        let mut policy = self.clone();
        policy.drop_all |= request.drop_params.unwrap_or(false);
        policy
            .always_drop
            .extend(request.additional_drop_params.iter().flatten().cloned());
        policy
    }

    /// Whether `param` is to be dropped whatever the provider supports.
    pub fn always_drops(&self, param: &str) -> bool {
        self.always_drop.iter().any(|p| p == param)
    }

    /// Decides about a parameter `provider` cannot express: `Ok` means drop it silently,
    /// `Err` is the 400 telling the user what to do.
    pub fn unsupported(&self, provider: &str, param: &str) -> Result<(), Error> {
        if self.drop_all || self.always_drops(param) {
            tracing::debug!(
                provider,
                param,
                "dropping a parameter the provider does not support"
            );
            return Ok(());
        }
        Err(Error::invalid_param(
            param,
            format!(
                "`{param}` is not supported by {provider}; remove it, or set `drop_params: true` \
                 (in the request or the deployment's litellm_params) to drop it"
            ),
        )
        .with_code("unsupported_parameter"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm_types::{ChatMessage, Role};

    #[test]
    fn refuses_or_drops() {
        let mut request = ChatCompletionRequest::new("m", vec![ChatMessage::text(Role::User, "x")]);
        let strict = ParamPolicy::default();
        let error = strict.unsupported("anthropic", "logit_bias").unwrap_err();
        assert_eq!(
            (error.status(), error.param.as_deref()),
            (400, Some("logit_bias"))
        );
        assert!(error.message.contains("anthropic") && error.message.contains("drop_params"));
        assert!(
            ParamPolicy::new(true, &[])
                .unsupported("anthropic", "logit_bias")
                .is_ok()
        );
        assert!(
            ParamPolicy::new(false, &["seed".into()])
                .unsupported("anthropic", "seed")
                .is_ok()
        );
        request.drop_params = Some(true);
        assert!(
            strict
                .for_request(&request)
                .unsupported("anthropic", "logit_bias")
                .is_ok()
        );
        request.drop_params = None;
        request.additional_drop_params = Some(vec!["n".into()]);
        let policy = strict.for_request(&request);
        assert!(policy.unsupported("x", "n").is_ok());
        assert!(policy.unsupported("x", "seed").is_err());
    }
}
