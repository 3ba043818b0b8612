//! llm-types
