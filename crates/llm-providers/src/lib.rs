//! llm-providers
