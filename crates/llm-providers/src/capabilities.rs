//! What each wire family supports: one table backed by code (`docs/providers.md` is checked
//! against it by a test).

/// Features a wire family translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub tools: bool,
    pub json_mode: bool,
    pub vision: bool,
    pub streaming_usage: bool,
    pub reasoning: bool,
    pub prompt_caching: bool,
    pub embeddings: bool,
}

impl Capabilities {
    /// The table's columns, in order, with their values.
    pub fn columns(&self) -> [(&'static str, bool); 7] {
        [
            ("tools", self.tools),
            ("JSON mode", self.json_mode),
            ("vision", self.vision),
            ("streaming usage", self.streaming_usage),
            ("reasoning", self.reasoning),
            ("prompt caching", self.prompt_caching),
            ("embeddings", self.embeddings),
        ]
    }
}
