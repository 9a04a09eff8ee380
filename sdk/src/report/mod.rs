//! MS-OCER client error reporting (§2.2.2, §3.1.4, §3.1.5, Appendix A), sans-IO.
//!
//! When a request fails, the client may tell its server: it sends a SERVICE
//! request whose body is an `application/msrtc-reporterror+xml` document naming
//! the failed request and carrying the diagnostics headers the server sent for
//! it. This module does every step that needs no I/O:
//!
//! | step | item |
//! |---|---|
//! | the document, from a [`TransactionRecord`](crate::diag::TransactionRecord) | [`ErrorReport::from_record`] (any ending: final response, timeout, transport failure) |
//! | the app's redaction (§5.1) | [`ErrorReport::strip_diag_param`], [`redact`] |
//! | the §2.2.2 size limits, and writing | [`encode`], [`fit`], [`ReportLimits`], [`Cuts`] |
//! | reading a document | [`ErrorReport::parse`] |
//! | the SERVICE request | [`service_request`], [`ServiceParts`] |
//! | the one exit of every outgoing request | [`finalize_request`] |
//! | what to do after each attempt | [`ReportRetry`], [`RetryPolicy`], [`Verdict`], [`SessionGate`] |
//! | ErrorIds for errors the client detects itself (§7.26) | [`client_errors`] |
//!
//! Storing reports until they are delivered is I/O, and lives in the UA:
//! `ua::outbox` (feature `ua`).
//!
//! Nothing here reads a clock, a file or a socket, or draws random numbers:
//! `now` and seeds come in as arguments.
//!
//! # Example: the §4.1 report, from the 504 to the bytes on the wire
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ocer::diag::{Collector, CollectorLimits};
//! use ocer::report::{
//!     call_id_from, encode, finalize_request, service_request, tag_from, ErrorReport, Outcome,
//!     ReportLimits, ReportRetry, RetryPolicy, ServiceParts, SessionGate, Verdict,
//! };
//! use ocer::sip::{FramingLimits, RequestIdentity, SipMessage};
//!
//! let limits = FramingLimits::default();
//! let invite = SipMessage::parse(b"INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n\
//!     Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bK41\r\n\
//!     From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
//!     To: <sip:bob@contoso.com;user=phone>\r\n\
//!     Call-ID: f5290007af32443f8a82daa76c934880\r\n\
//!     CSeq: 1 INVITE\r\n\
//!     Content-Type: application/sdp;call-type=audiovideo\r\n\
//!     Content-Length: 0\r\n\r\n", &limits)?;
//! let start = Instant::now();
//! let mut collector = Collector::new(RequestIdentity::from_request(&invite)?, start, CollectorLimits::default());
//! for response in [
//!     &b"SIP/2.0 101 Progress Report\r\n"[..],
//!     &b"SIP/2.0 504 Server time-out\r\n"[..],
//! ] {
//!     let diagnostics = if response.starts_with(b"SIP/2.0 101") {
//!         "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n"
//!     } else {
//!         "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n"
//!     };
//!     let text = [
//!         std::str::from_utf8(response)?,
//!         "Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bK41\r\n",
//!         "From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n",
//!         "To: <sip:bob@contoso.com;user=phone>;tag=66643C5C12E2A03D937F1045F8E8484F\r\n",
//!         "Call-ID: f5290007af32443f8a82daa76c934880\r\nCSeq: 1 INVITE\r\n",
//!         diagnostics,
//!         "Content-Length: 0\r\n\r\n",
//!     ]
//!     .concat();
//!     collector.observe_response(&SipMessage::parse(text.as_bytes(), &limits)?, start + Duration::from_secs(1))?;
//! }
//! let record = collector.finish();
//!
//! // The document, within the §2.2.2 limits.
//! let aor = "sip:alice@contoso.com";
//! let report = ErrorReport::from_record(&record, aor)?;
//! let encoded = encode(report, &ReportLimits::default(), aor)?;
//! assert!(encoded.cuts.is_empty());
//! assert!(encoded.body.contains(r#"callId="f5290007af32443f8a82daa76c934880""#));
//! assert!(encoded.body.contains(r#"responseCode="504""#));
//! assert!(encoded.body.contains("<progressReports><progressReport><diagHeader>12006;"));
//!
//! // The SERVICE request: the transport adds its Via, then the one way out.
//! let (call_id, tag) = (call_id_from(0x110a_4476_7649_4d15_8ed6_6cee_1de7_3f61), tag_from(0x22b9_d812_81));
//! let parts = ServiceParts { aor, call_id: &call_id, from_tag: &tag, cseq: 1, epid: None, contact: None, user_agent: None };
//! let mut service = service_request(&parts, encoded.body)?;
//! service.headers.insert_front(ocer::sip::Name::VIA, "SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKr1");
//! let wire = finalize_request(&service)?;
//! assert!(wire.starts_with(b"SERVICE sip:alice@contoso.com SIP/2.0\r\n"));
//!
//! // The server is busy: wait as long as it asks, for every report.
//! let busy = SipMessage::parse(b"SIP/2.0 503 Service Unavailable\r\n\
//!     Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bKr1\r\n\
//!     From: <sip:alice@contoso.com>;tag=22b9d81281\r\nTo: <sip:alice@contoso.com>;tag=s\r\n\
//!     Call-ID: 110a447676494d158ed66cee1de73f61\r\nCSeq: 1 SERVICE\r\n\
//!     ms-diagnostics: 1000;reason=\"busy\";source=\"fe\"\r\nRetry-After: 30\r\n\
//!     Content-Length: 0\r\n\r\n", &limits)?;
//! let now = Instant::now();
//! let mut service_collector = Collector::new(RequestIdentity::from_request(&service)?, now, CollectorLimits::default());
//! service_collector.observe_response(&busy, now)?;
//! let service_record = service_collector.finish();
//! let mut retry = ReportRetry::new(7);
//! let mut gate = SessionGate::new();
//! let verdict = retry.on_outcome(&RetryPolicy::default(), Outcome::from(&service_record.ending), now);
//! gate.observe(&verdict);
//! assert!(matches!(verdict, Verdict::RetryAt { at, .. } if at == now + Duration::from_secs(30)));
//! assert!(!gate.may_send(now));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client_errors;
mod document;
mod limits;
mod outgoing;
pub mod redact;
mod retry;
mod service;
mod xml;

pub use document::{DocumentError, ErrorReport, NotReportable, Xml, CONTENT_TYPE, NAMESPACE};
pub use limits::{
    encode, fit, Cuts, EncodedReport, Field, LimitError, ReportLimits, MAX_CONTENT_TYPE_CHARS,
    MAX_DIAG_HEADER_CHARS, MAX_IDENTITY_CHARS, MAX_REQUEST_TYPE_CHARS,
};
pub use outgoing::{
    check_request, finalize_request, finalize_response, OutgoingError, MANDATORY_REQUEST_HEADERS,
};
pub use retry::{
    DiscardReason, Outcome, ReportRetry, RetryCause, RetryPolicy, ServiceResponse, SessionGate,
    SuspendReason, Verdict,
};
pub use service::{call_id_from, service_request, tag_from, ServiceError, ServiceParts, SERVICE};
