//! AWS event-stream frames for ConverseStream, encoded with `aws-smithy-eventstream` (prelude,
//! headers, payload, both CRC32s).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use super::converse::Event;

fn encode(headers: Vec<Header>, payload: Vec<u8>) -> Bytes {
    let message = Message::new_from_parts(headers, payload);
    let mut out = Vec::new();
    // Writing to a Vec fails only for headers over the format's limits, which ours are not;
    // an empty frame would then show up as a decoding failure in the client.
    let _ = write_message_to(&message, &mut out);
    Bytes::from(out)
}

fn string(name: &'static str, value: &str) -> Header {
    Header::new(name, HeaderValue::String(value.to_owned().into()))
}

/// An event message (`:message-type: event`).
pub(crate) fn event(event: &Event) -> Bytes {
    encode(
        vec![
            string(":event-type", event.kind),
            string(":content-type", "application/json"),
            string(":message-type", "event"),
        ],
        event.payload.to_string().into_bytes(),
    )
}

/// An in-stream exception (`:message-type: exception`), e.g. `throttlingException`.
pub(crate) fn exception(kind: &str, message: &str) -> Bytes {
    encode(
        vec![
            string(":exception-type", kind),
            string(":content-type", "application/json"),
            string(":message-type", "exception"),
        ],
        serde_json::json!({ "message": message })
            .to_string()
            .into_bytes(),
    )
}
