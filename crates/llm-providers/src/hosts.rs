//! The table of OpenAI-compatible hosts: adding one is adding a row, not a file.
//!
//! Each row says where the host lives, how it wants its key and which quirks the one
//! OpenAI-compatible adapter must apply. Names are LiteLLM's provider prefixes, so
//! `groq/llama-3.1-8b-instant` means the same here as there.

/// How a host expects its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key in a named header, e.g. `api-key`.
    Header(&'static str),
}

/// Behaviour that differs between OpenAI-compatible hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// The host understands `stream_options.include_usage` (others report usage unasked, or
    /// reject the unknown field).
    pub stream_usage_option: bool,
    /// The host knows only `max_tokens`: `max_completion_tokens` is renamed.
    pub max_tokens_only: bool,
    /// A user-given `api_base` lacks the `/v1` suffix LiteLLM users write without
    /// (Ollama: `http://localhost:11434`): append it when missing.
    pub append_v1: bool,
}

const STANDARD: Quirks = Quirks {
    stream_usage_option: true,
    max_tokens_only: false,
    append_v1: false,
};

/// One OpenAI-compatible host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// The provider prefix users write (`groq` in `groq/llama-3.1-8b-instant`).
    pub name: &'static str,
    /// Default endpoint (up to and including `/v1` or its equivalent). `None`: the user must give
    /// `api_base` (self-hosted servers).
    pub default_base_url: Option<&'static str>,
    /// Environment variable holding the key when the config gives none.
    pub api_key_env: Option<&'static str>,
    /// Environment variable overriding the default endpoint.
    pub api_base_env: Option<&'static str>,
    pub auth: AuthStyle,
    /// Whether requests without a key make sense (local servers).
    pub key_optional: bool,
    pub quirks: Quirks,
}

const fn host(name: &'static str, base: &'static str, key_env: &'static str) -> Host {
    Host {
        name,
        default_base_url: Some(base),
        api_key_env: Some(key_env),
        api_base_env: None,
        auth: AuthStyle::Bearer,
        key_optional: false,
        quirks: STANDARD,
    }
}

const fn local(name: &'static str, base: Option<&'static str>, key_env: &'static str) -> Host {
    Host {
        name,
        default_base_url: base,
        api_key_env: Some(key_env),
        api_base_env: None,
        auth: AuthStyle::Bearer,
        key_optional: true,
        quirks: STANDARD,
    }
}

const fn max_tokens_only(mut host: Host) -> Host {
    host.quirks.max_tokens_only = true;
    host
}

const fn no_stream_usage_option(mut host: Host) -> Host {
    host.quirks.stream_usage_option = false;
    host
}

const fn with_base_env(mut host: Host, env: &'static str) -> Host {
    host.api_base_env = Some(env);
    host
}

/// Every OpenAI-compatible host we know, by provider prefix.
pub static HOSTS: &[Host] = &[
    with_base_env(
        host("openai", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        "OPENAI_API_BASE",
    ),
    // LiteLLM's names for "an OpenAI-compatible server at api_base".
    with_base_env(
        host(
            "custom_openai",
            "https://api.openai.com/v1",
            "OPENAI_API_KEY",
        ),
        "OPENAI_API_BASE",
    ),
    local("openai_like", None, "OPENAI_LIKE_API_KEY"),
    host("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    max_tokens_only(no_stream_usage_option(host(
        "mistral",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
    ))),
    max_tokens_only(host(
        "deepseek",
        "https://api.deepseek.com/v1",
        "DEEPSEEK_API_KEY",
    )),
    host("xai", "https://api.x.ai/v1", "XAI_API_KEY"),
    host(
        "together_ai",
        "https://api.together.xyz/v1",
        "TOGETHERAI_API_KEY",
    ),
    host(
        "fireworks_ai",
        "https://api.fireworks.ai/inference/v1",
        "FIREWORKS_AI_API_KEY",
    ),
    host(
        "openrouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
    ),
    max_tokens_only(no_stream_usage_option(host(
        "perplexity",
        "https://api.perplexity.ai",
        "PERPLEXITYAI_API_KEY",
    ))),
    host("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    host(
        "nvidia_nim",
        "https://integrate.api.nvidia.com/v1",
        "NVIDIA_NIM_API_KEY",
    ),
    with_base_env(
        local("hosted_vllm", None, "HOSTED_VLLM_API_KEY"),
        "HOSTED_VLLM_API_BASE",
    ),
    with_base_env(
        local("vllm", Some("http://localhost:8000/v1"), "VLLM_API_KEY"),
        "VLLM_API_BASE",
    ),
    with_base_env(
        local(
            "lm_studio",
            Some("http://localhost:1234/v1"),
            "LM_STUDIO_API_KEY",
        ),
        "LM_STUDIO_API_BASE",
    ),
    // Ollama's OpenAI-compatible `/v1` endpoint (the native `/api/chat` is `ollama_chat`).
    Host {
        quirks: Quirks {
            append_v1: true,
            ..STANDARD
        },
        ..with_base_env(
            local(
                "ollama",
                Some("http://localhost:11434/v1"),
                "OLLAMA_API_KEY",
            ),
            "OLLAMA_API_BASE",
        )
    },
];

/// The host for a provider prefix.
pub fn find_host(name: &str) -> Option<&'static Host> {
    HOSTS.iter().find(|h| h.name == name)
}

/// Every provider prefix the OpenAI-compatible adapter serves, for error messages.
pub fn host_names() -> impl Iterator<Item = &'static str> {
    HOSTS.iter().map(|h| h.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_defaults_are_https_or_local() {
        for (i, a) in HOSTS.iter().enumerate() {
            assert!(
                HOSTS[i + 1..].iter().all(|b| b.name != a.name),
                "duplicate {}",
                a.name
            );
            if let Some(base) = a.default_base_url {
                assert!(
                    base.starts_with("https://")
                        || (a.key_optional && base.starts_with("http://localhost")),
                    "{}: {base}",
                    a.name
                );
                assert!(
                    !base.ends_with('/'),
                    "{}: base URL must not end with /",
                    a.name
                );
            }
        }
    }

    #[test]
    fn the_issue_s_hosts_are_all_rows() {
        for name in [
            "openai",
            "groq",
            "mistral",
            "deepseek",
            "xai",
            "together_ai",
            "fireworks_ai",
            "openrouter",
            "perplexity",
            "cerebras",
            "vllm",
            "lm_studio",
            "ollama",
            "nvidia_nim",
            "hosted_vllm",
        ] {
            assert!(find_host(name).is_some(), "{name} missing");
        }
    }
}
