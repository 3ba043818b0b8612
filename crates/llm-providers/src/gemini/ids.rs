//! Tool-call ids: Gemini numbers no function calls, OpenAI clients need an id per call.
//!
//! Ids are synthesized from what the call is (its position and content), so the same answer
//! always gets the same ids. A call's `thoughtSignature` (which Gemini wants back with the
//! call on the next turn, or it forgets its reasoning) rides inside the id, as LiteLLM does:
//! `call_<hash>__thought__<signature>`. The client echoes the id with the call, and
//! [`signature_of`] recovers it when the call goes back to Gemini.

use super::wire::FunctionCall;

const SIGNATURE_SEPARATOR: &str = "__thought__";

/// The OpenAI id for the `index`-th call of a candidate.
pub fn tool_call_id(call: &FunctionCall, index: usize, signature: Option<&str>) -> String {
    let base = match &call.id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => {
            let args = call
                .args
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let hash = fnv1a(&[call.name.as_bytes(), args.as_bytes(), &index.to_le_bytes()]);
            format!("call_{hash:016x}")
        }
    };
    match signature {
        Some(signature) if !signature.is_empty() => {
            format!("{base}{SIGNATURE_SEPARATOR}{signature}")
        }
        _ => base,
    }
}

/// The thought signature carried in an id we made, if any.
pub fn signature_of(id: &str) -> Option<String> {
    id.split_once(SIGNATURE_SEPARATOR)
        .map(|(_, signature)| signature.to_owned())
        .filter(|s| !s.is_empty())
}

fn fnv1a(pieces: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for piece in pieces {
        for byte in *piece {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_stable_and_carry_signatures() {
        let call = FunctionCall {
            id: None,
            name: "get_weather".into(),
            args: Some(json!({"city": "Paris"})),
        };
        let plain = tool_call_id(&call, 0, None);
        assert_eq!(plain, tool_call_id(&call, 0, None));
        assert_ne!(plain, tool_call_id(&call, 1, None));
        assert!(plain.starts_with("call_") && plain.len() == 21, "{plain}");
        let signed = tool_call_id(&call, 0, Some("c2ln"));
        let cases = [
            (plain.as_str(), None),
            (signed.as_str(), Some("c2ln")),
            ("call_x__thought__", None),
        ];
        for (id, expected) in cases {
            assert_eq!(signature_of(id).as_deref(), expected, "{id}");
        }
        let numbered = FunctionCall {
            id: Some("fc-1".into()),
            ..call
        };
        assert_eq!(tool_call_id(&numbered, 3, None), "fc-1");
    }
}
