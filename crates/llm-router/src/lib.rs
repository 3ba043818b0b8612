//! llm-router
