//! The identity of a SIP request, as the reportError document needs it.

/// What identifies the request a transaction carried: MS-OCER §2.2.2 reports
/// these fields for the request that failed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestIdentity {
    /// The From URI (addr-spec only, no display name, no parameters).
    pub from_uri: String,
    /// The From tag, if any.
    pub from_tag: Option<String>,
    /// The To URI (addr-spec only).
    pub to_uri: String,
    /// The To tag: absent on an initial request; the collector fills it from the
    /// responses (the 4.1 report carries the 504's To tag).
    pub to_tag: Option<String>,
    /// The Call-ID.
    pub call_id: String,
    /// The CSeq sequence number.
    pub cseq: u32,
    /// The CSeq method (the report's `requestType`), e.g. `INVITE`, `SERVICE`.
    pub method: String,
    /// The Content-Type header value, verbatim, if the request had one.
    pub content_type: Option<String>,
}
