//! SIP status codes (RFC 3261 §21).

/// A SIP status code. Open: any value 100–699 is kept, known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(pub u16);
