//! Who a virtual key belongs to, and what it may do: its record with its user's and team's,
//! resolved once per cache load so the request path only reads memory.

use llm_types::{Error, ErrorKind, ErrorOrigin};
use std::sync::Arc;

use crate::records::{KeyRecord, TeamRecord, UserRecord};

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No master key is configured: the gateway is open (the offline demo, a private network).
    Anonymous,
    /// The caller presented the master key.
    Master,
    /// A virtual key, with its user and team.
    Key(Arc<Principal>),
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Key(principal) => Some(principal),
            _ => None,
        }
    }
}

/// A virtual key with the user and team it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub key: KeyRecord,
    pub user: Option<UserRecord>,
    pub team: Option<TeamRecord>,
}

impl Principal {
    /// Refuses an expired key or a blocked key or team (401 `key_expired` / `key_blocked`).
    pub fn check_usable(&self, now_ms: i64) -> Result<(), Error> {
        if self.key.blocked || self.team.as_ref().is_some_and(|t| t.blocked) {
            let whose = if self.key.blocked {
                "key"
            } else {
                "key's team"
            };
            return Err(Error::new(
                ErrorKind::Authentication,
                ErrorOrigin::Client,
                format!("this {whose} is blocked; an administrator can unblock it"),
            )
            .with_code("key_blocked"));
        }
        if let Some(expires_at) = self.key.expires_at
            && expires_at <= now_ms
        {
            return Err(Error::new(
                ErrorKind::Authentication,
                ErrorOrigin::Client,
                "this key has expired; ask for a new one",
            )
            .with_code("key_expired"));
        }
        Ok(())
    }

    /// The model group a request for `requested` goes to: the key's `aliases` rewrite it.
    pub fn resolve_model<'a>(&'a self, requested: &'a str) -> &'a str {
        self.key
            .aliases
            .get(requested)
            .map(String::as_str)
            .unwrap_or(requested)
    }

    /// Refuses a model the key, or its team, may not call (403 `model_not_allowed`).
    pub fn check_model(&self, model: &str) -> Result<(), Error> {
        let denied_by = if !list_allows(&self.key.models, model) {
            "key"
        } else if let Some(team) = &self.team
            && !list_allows(&team.models, model)
        {
            "team"
        } else if let Some(user) = &self.user
            && !list_allows(&user.models, model)
        {
            "user"
        } else {
            return Ok(());
        };
        Err(Error::new(
            ErrorKind::PermissionDenied,
            ErrorOrigin::Client,
            format!("this {denied_by} may not call model `{model}`"),
        )
        .with_param("model")
        .with_code("model_not_allowed"))
    }
}

/// LiteLLM's model lists: empty, `*` or `all-proxy-models` allow everything; an entry ending
/// in `*` allows a prefix (`openai/*`); anything else must match exactly.
pub fn list_allows(models: &[String], model: &str) -> bool {
    models.is_empty()
        || models.iter().any(|allowed| {
            allowed == model
                || allowed == "*"
                || allowed == "all-proxy-models"
                || allowed
                    .strip_suffix('*')
                    .is_some_and(|prefix| model.starts_with(prefix))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_lists_allow_like_litellm() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&[], "gpt-4o", true),
            (&["gpt-4o"], "gpt-4o", true),
            (&["gpt-4o"], "gpt-4o-mini", false),
            (&["*"], "anything", true),
            (&["all-proxy-models"], "anything", true),
            (&["openai/*"], "openai/gpt-4o", true),
            (&["openai/*"], "anthropic/claude", false),
            (&["a", "b"], "b", true),
        ];
        for (list, model, expected) in cases {
            let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            assert_eq!(list_allows(&list, model), *expected, "{list:?} {model}");
        }
    }
}
