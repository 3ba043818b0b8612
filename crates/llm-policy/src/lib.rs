//! llm-policy
