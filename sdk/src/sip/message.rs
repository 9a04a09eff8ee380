//! A whole SIP message (request or response) as it came off the wire.

use bytes::Bytes;
use ezk_sip_types::msg::MessageLine;
use ezk_sip_types::{Headers, Name};

/// One parsed SIP message: start line, headers (in wire order, raw values kept
/// byte-exact by `ezk-sip-types`) and body.
#[derive(Debug, Clone)]
pub struct SipMessage {
    /// Request line or status line.
    pub line: MessageLine,
    /// All headers, in the order they arrived; unknown headers are kept raw.
    pub headers: Headers,
    /// The body, exactly `Content-Length` bytes.
    pub body: Bytes,
}

impl SipMessage {
    /// The raw values of every header called `name`, in arrival order
    /// (compact and long forms are the same [`Name`]).
    pub fn header_values<'a>(&'a self, name: &Name) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.get_raw(name).map(|v| v.as_str())
    }
}
