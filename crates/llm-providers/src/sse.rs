//! Server-sent events decoding (the framing of OpenAI-style streams).
//!
//! Incremental: bytes are pushed as they arrive and complete events are taken out, so a stream
//! is translated chunk by chunk without buffering the whole response. Follows the WHATWG
//! event-stream rules: lines end in `\n`, `\r\n` or `\r`; `data:` lines of one event join with
//! `\n`; a blank line ends the event; `:` lines are comments.

use bytes::{Buf, BytesMut};

/// One complete event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any (Anthropic names its events; OpenAI does not).
    pub event: Option<String>,
    pub data: String,
}

/// An event (or a line) grew beyond the decoder's bound: the upstream is misbehaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge;

/// Incremental SSE decoder with a bound on the size of one event.
#[derive(Debug)]
pub struct SseDecoder {
    buffer: BytesMut,
    event: Option<String>,
    data: String,
    has_data: bool,
    max_event_bytes: usize,
    /// A `\r` ended the previous chunk: a `\n` starting the next one belongs to it.
    pending_cr: bool,
}

impl SseDecoder {
    /// A decoder refusing events larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseDecoder {
            buffer: BytesMut::new(),
            event: None,
            data: String::new(),
            has_data: false,
            max_event_bytes,
            pending_cr: false,
        }
    }

    /// Appends bytes received from the network.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, EventTooLarge> {
        loop {
            if self.pending_cr && !self.buffer.is_empty() {
                if self.buffer[0] == b'\n' {
                    self.buffer.advance(1);
                }
                self.pending_cr = false;
            }
            let Some(end) = self.buffer.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if self.buffer.len() + self.data.len() > self.max_event_bytes {
                    return Err(EventTooLarge);
                }
                return Ok(None);
            };
            let line = self.buffer.split_to(end);
            let terminator = self.buffer[0];
            self.buffer.advance(1);
            if terminator == b'\r' {
                if self.buffer.is_empty() {
                    self.pending_cr = true;
                } else if self.buffer[0] == b'\n' {
                    self.buffer.advance(1);
                }
            }
            if let Some(event) = self.take_line(&line)? {
                return Ok(Some(event));
            }
        }
    }

    /// Handles one line; returns an event when the line was the blank line ending one.
    fn take_line(&mut self, line: &[u8]) -> Result<Option<SseEvent>, EventTooLarge> {
        if line.is_empty() {
            if !self.has_data {
                self.event = None;
                return Ok(None);
            }
            self.has_data = false;
            return Ok(Some(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            }));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() > self.max_event_bytes {
                    return Err(EventTooLarge);
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {} // `id:`, `retry:` and unknown fields do not matter to us.
        }
        Ok(None)
    }

    /// The event left when the stream ended without its closing blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buffer.is_empty() {
            let rest = self.buffer.split();
            let _ = self.take_line(&rest);
        }
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(pieces: &[&str]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = Vec::new();
        for piece in pieces {
            decoder.push(piece.as_bytes());
            while let Some(event) = decoder.next_event().unwrap() {
                events.push(event);
            }
        }
        events.extend(decoder.finish());
        events
    }

    fn data(s: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: s.to_owned(),
        }
    }

    #[test]
    fn decodes_events_however_the_bytes_are_split() {
        let cases: Vec<(Vec<&str>, Vec<SseEvent>)> = vec![
            (vec!["data: {\"a\":1}\n\n"], vec![data("{\"a\":1}")]),
            (vec!["data: {\"a\"", ":1}\n", "\n"], vec![data("{\"a\":1}")]),
            (
                vec!["data: a\r\n\r\ndata: b\r\n\r\n"],
                vec![data("a"), data("b")],
            ),
            (vec!["data: a\r", "\n\r", "\n"], vec![data("a")]),
            (vec!["data: a\rdata: b\r\r"], vec![data("a\nb")]),
            (vec![": keep-alive\n\ndata: x\n\n"], vec![data("x")]),
            (vec!["data:no-space\n\n"], vec![data("no-space")]),
            (vec!["data: 1\ndata: 2\n\n"], vec![data("1\n2")]),
            (
                vec!["event: ping\ndata: {}\n\n"],
                vec![SseEvent {
                    event: Some("ping".into()),
                    data: "{}".into(),
                }],
            ),
            (vec!["data: [DONE]"], vec![data("[DONE]")]),
            (vec!["id: 3\nretry: 10\n\n"], vec![]),
        ];
        for (pieces, expected) in cases {
            assert_eq!(decode(&pieces), expected, "{pieces:?}");
        }
    }

    #[test]
    fn refuses_events_over_the_bound() {
        let mut decoder = SseDecoder::new(8);
        decoder.push(b"data: 0123456789\n\n");
        assert_eq!(decoder.next_event(), Err(EventTooLarge));
        let mut decoder = SseDecoder::new(8);
        decoder.push(b"data: 0123456789");
        assert_eq!(decoder.next_event(), Err(EventTooLarge));
    }
}
