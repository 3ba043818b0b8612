//! Guardrails on a streamed response, chunk by chunk.
//!
//! Each choice's text is released as soon as no match can still change it: the last
//! [`STREAM_WINDOW`] bytes are held back (they could be the start of an email or a card
//! number whose end has not arrived), and so is any match that reaches into that tail (it may
//! still grow). Everything before is masked (or blocks the stream), unmasked and released. So
//! a card number split over three chunks is masked whole, and text without matches passes
//! through delayed by at most the window. An unterminated private-key block is the one match
//! that can be longer than the window: it is held from its `-----BEGIN` line to its end.

use llm_types::ChatCompletionChunk;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::Blocked;
use super::config::{Action, Stage};
use super::counters::Decision;
use super::detect::Found;
use super::engine::{Inner, block_reason, find};
use super::masks::Masks;

/// How many bytes of each choice's text a stream guard holds back.
pub const STREAM_WINDOW: usize = 64;

/// The guardrails of one streamed response.
pub struct StreamGuard {
    inner: Arc<Inner>,
    rules: Vec<usize>,
    masks: Masks,
    pending: BTreeMap<u32, String>,
    found: Vec<Vec<Found>>,
    template: Option<ChatCompletionChunk>,
    blocked: Option<Blocked>,
    counted: bool,
    request_id: String,
}

impl StreamGuard {
    pub(super) fn new(inner: Arc<Inner>, rules: Vec<usize>, masks: Masks) -> StreamGuard {
        let found = vec![Vec::new(); rules.len()];
        StreamGuard {
            inner,
            rules,
            masks,
            pending: BTreeMap::new(),
            found,
            template: None,
            blocked: None,
            counted: false,
            request_id: String::new(),
        }
    }

    /// Names the request in the guard's log lines.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> StreamGuard {
        self.request_id = request_id.into();
        self
    }

    /// Whether the guard changes nothing (no post-call detector, nothing to unmask): the
    /// gateway may then skip it.
    pub fn is_passthrough(&self) -> bool {
        self.rules.is_empty() && !self.masks.has_unmask()
    }

    /// Takes the next upstream chunk; answers the chunks to send now (possibly none, when
    /// all of its text is held back). After a block, every call answers the same block.
    pub fn push(
        &mut self,
        mut chunk: ChatCompletionChunk,
    ) -> Result<Vec<ChatCompletionChunk>, Blocked> {
        if let Some(blocked) = &self.blocked {
            return Err(blocked.clone());
        }
        if self.is_passthrough() {
            return Ok(vec![chunk]);
        }
        if self.template.is_none() && !chunk.choices.is_empty() {
            let mut template = chunk.clone();
            template.choices.clear();
            template.usage = None;
            self.template = Some(template);
        }
        let had_choices = !chunk.choices.is_empty();
        let mut kept = Vec::with_capacity(chunk.choices.len());
        for mut choice in std::mem::take(&mut chunk.choices) {
            let had_content = choice.delta.content.is_some();
            if let Some(text) = choice.delta.content.take() {
                self.pending
                    .entry(choice.index)
                    .or_default()
                    .push_str(&text);
            }
            let finished = choice.finish_reason.is_some();
            let text = self.release(choice.index, finished)?;
            if !text.is_empty() || (had_content && choice.delta.role.is_some()) {
                choice.delta.content = Some(text);
            }
            let empty = choice.delta == Default::default()
                && choice.finish_reason.is_none()
                && choice.logprobs.is_none();
            if !empty {
                kept.push(choice);
            }
        }
        chunk.choices = kept;
        if had_choices && chunk.choices.is_empty() && chunk.usage.is_none() {
            return Ok(Vec::new());
        }
        Ok(vec![chunk])
    }

    /// The end of the stream: releases what is still held (one chunk per choice with text
    /// left) and counts the stream's decisions.
    pub fn finish(&mut self) -> Result<Vec<ChatCompletionChunk>, Blocked> {
        if let Some(blocked) = &self.blocked {
            return Err(blocked.clone());
        }
        let mut out = Vec::new();
        let indices: Vec<u32> = self.pending.keys().copied().collect();
        for index in indices {
            let text = self.release(index, true)?;
            if text.is_empty() {
                continue;
            }
            if let Some(template) = &self.template {
                let mut chunk = template.clone();
                chunk.choices.push(llm_types::ChunkChoice {
                    index,
                    delta: llm_types::Delta {
                        content: Some(text),
                        ..Default::default()
                    },
                    finish_reason: None,
                    logprobs: None,
                });
                out.push(chunk);
            }
        }
        self.count(None);
        Ok(out)
    }

    /// Masks, checks and unmasks what of choice `index`'s held text can be released.
    fn release(&mut self, index: u32, finished: bool) -> Result<String, Blocked> {
        let Some(buffer) = self.pending.get_mut(&index) else {
            return Ok(String::new());
        };
        let mut cut = if finished {
            buffer.len()
        } else {
            floor_boundary(buffer, buffer.len().saturating_sub(STREAM_WINDOW))
        };
        if !finished {
            // A match reaching into the held tail may still grow: hold it whole.
            let mut spans: Vec<(usize, usize)> = self.masks.unmask_spans(buffer);
            for &i in &self.rules {
                spans.extend(
                    find(&self.inner.rules[i], buffer)
                        .iter()
                        .map(|f| (f.start, f.end)),
                );
            }
            loop {
                let held = spans
                    .iter()
                    .filter(|(start, end)| *start < cut && *end >= cut)
                    .map(|(start, _)| *start)
                    .min();
                match held {
                    Some(start) => cut = start,
                    None => break,
                }
            }
        }
        if cut == 0 {
            return Ok(String::new());
        }
        let mut text: String = buffer.drain(..cut).collect();
        for (k, &i) in self.rules.iter().enumerate() {
            let rule = &self.inner.rules[i];
            let found = find(rule, &text);
            if found.is_empty() {
                continue;
            }
            self.found[k].extend_from_slice(&found);
            match rule.masking() {
                Some((Action::Block, _)) => {
                    let blocked = Blocked {
                        guardrail: rule.spec.name.clone(),
                        reason: block_reason(&rule.spec.kind, &found, "response"),
                    };
                    self.count(Some(k));
                    self.blocked = Some(blocked.clone());
                    return Err(blocked);
                }
                _ => text = self.masks.mask(&text, &found, false),
            }
        }
        if let Some(restored) = self.masks.unmask(&text) {
            text = restored;
        }
        Ok(text)
    }

    /// Counts and logs each rule's decision once per stream (`blocker` blocked it).
    fn count(&mut self, blocker: Option<usize>) {
        if self.counted {
            return;
        }
        self.counted = true;
        let stage = Stage::PostCall.as_str();
        for (k, &i) in self.rules.iter().enumerate() {
            let found = &self.found[k];
            let decision = if blocker == Some(k) {
                Decision::Block
            } else if found.is_empty() {
                Decision::Allow
            } else {
                Decision::Mask
            };
            self.inner
                .decide(i, stage, decision, found, &self.request_id);
            if blocker == Some(k) {
                break;
            }
        }
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_boundary(s: &str, mut at: usize) -> usize {
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}
