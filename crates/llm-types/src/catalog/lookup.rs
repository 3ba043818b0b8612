//! Finding a model by the id a user writes, which is not always the id the data keys it by.
//!
//! The rules only remove what is known to be routing detail (a provider prefix, a Bedrock
//! cross-region prefix) and check that what they find belongs to the same provider. They never
//! guess versions: `gpt-4o-2099-01-01` does not become `gpt-4o`, because a wrong price is worse
//! than none (a missing price is visible and can be configured per deployment).

use super::{Catalog, ModelInfo};

/// Bedrock cross-region inference profile prefixes (`us.anthropic.claude-...`).
const BEDROCK_REGIONS: [&str; 9] = [
    "us.", "us-gov.", "eu.", "apac.", "ap.", "jp.", "au.", "ca.", "global.",
];

impl Catalog {
    /// The entry for `model`, trying in order:
    ///
    /// 1. the id as written: `gpt-4o`, `gemini/gemini-2.5-flash`, `azure/gpt-4o`;
    /// 2. for `provider/rest`, `rest` alone when its provider is `provider`'s family
    ///    (`openai/gpt-4o` → `gpt-4o`; `vertex_ai/gemini-2.5-flash` →
    ///    `gemini-2.5-flash` of `vertex_ai-language-models`; `bedrock/...` → `bedrock_converse`);
    /// 3. without a Bedrock cross-region prefix (`us.`, `eu.`, `apac.`, `global.`, ...), for ids
    ///    of steps 1 and 2 with no entry of their own, when the entry found is a Bedrock model.
    pub fn lookup(&self, model: &str) -> Option<&ModelInfo> {
        let split = model
            .split_once('/')
            .filter(|(provider, rest)| !provider.is_empty() && !rest.is_empty());
        self.get(model)
            .or_else(|| {
                let (provider, rest) = split?;
                self.get(rest).filter(|m| same_family(provider, m.provider))
            })
            .or_else(|| self.without_region(model, None))
            .or_else(|| {
                let (provider, rest) = split?;
                self.without_region(rest, Some(provider))
            })
    }

    /// `id` without its Bedrock region prefix, if that is a Bedrock model (of `provider`).
    fn without_region(&self, id: &str, provider: Option<&str>) -> Option<&ModelInfo> {
        let region_free = BEDROCK_REGIONS.iter().find_map(|r| id.strip_prefix(r))?;
        self.get(region_free).filter(|m| {
            is_bedrock(m.provider) && provider.is_none_or(|p| same_family(p, m.provider))
        })
    }
}

/// Whether an entry of LiteLLM provider `entry` serves ids prefixed `prefix`: the same name,
/// or a variant of it (`vertex_ai-language-models`, `bedrock_converse`, `cohere_chat`,
/// `text-completion-openai`).
fn same_family(prefix: &str, entry: Option<&str>) -> bool {
    let Some(entry) = entry else {
        return false;
    };
    entry == prefix
        || entry
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['-', '_']))
        || entry
            .strip_suffix(prefix)
            .is_some_and(|rest| rest.ends_with('-'))
}

fn is_bedrock(provider: Option<&str>) -> bool {
    provider.is_some_and(|p| same_family("bedrock", Some(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_families() {
        let cases = [
            ("openai", Some("openai"), true),
            ("openai", Some("text-completion-openai"), true),
            ("vertex_ai", Some("vertex_ai-language-models"), true),
            ("bedrock", Some("bedrock_converse"), true),
            ("cohere", Some("cohere_chat"), true),
            ("openai", Some("anthropic"), false),
            ("open", Some("openai"), false),
            ("ai", Some("openai"), false),
            ("openai", None, false),
        ];
        for (prefix, entry, expected) in cases {
            assert_eq!(same_family(prefix, entry), expected, "{prefix} {entry:?}");
        }
    }
}
