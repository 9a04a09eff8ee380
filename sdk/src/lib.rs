//! # ocer
//!
//! A SIP client SDK for Lync / Skype for Business–style servers that implements
//! **[MS-OCER] Client Error Reporting**.
//!
//! A server explains why a request failed in `ms-diagnostics` (or, across an
//! enterprise boundary, `ms-diagnostics-public`) headers: on each
//! `101 Progress Report` while it works on the request, on the final response, and
//! on a BYE or CANCEL it sends later. ocer keeps every one of them per transaction,
//! decodes them against the spec's ErrorId catalogs, chooses the string the user
//! sees (Lync 2010 or Communicator 2007 wording, localized with Fluent), and builds
//! the `reportError` document to upload, with the spec's retry rules.
//!
//! ## The modules
//!
//! - [`sip`]: SIP values, sans-IO — [`sip::StatusCode`], the `Warning` and
//!   `Retry-After` headers, [`sip::RequestIdentity`], [`sip::SipMessage`], and
//!   framing of messages on streams ([`sip::frame_stream`]) and datagrams
//!   ([`sip::parse_datagram`]) with explicit [`sip::FramingLimits`].
//! - [`diag`]: MS-OCER §2.2.1, sans-IO — [`diag::ErrorId`], the
//!   [`diag::DiagnosticsHeader`] parser and printer, the ErrorId
//!   [`diag::Catalog`]s of Appendix B (Lync Server 2010) and Appendix C
//!   (OCS 2007/R2), and the per-transaction [`diag::Collector`] that produces a
//!   [`diag::TransactionRecord`].
//! - [`display`]: MS-OCER Appendix D / E, sans-IO — [`display::Mode`],
//!   [`display::Action`], [`display::StringSet`], the priority rule
//!   ([`display::resolve`]), Windows errors ([`display::WinError`]) and the
//!   [`display::Localizer`] that turns a record into a [`display::DisplayError`].
//! - [`report`]: MS-OCER §2.2.2, §3.1.4–§3.1.5, sans-IO — the reportError
//!   document ([`report::ErrorReport`]), its size limits ([`report::encode`]), the
//!   SERVICE request, the retry policy ([`report::ReportRetry`]).
//! - `ua` (feature `ua`, on by default): the IO side — the durable report outbox
//!   and loading extra locales from a directory; the async user agent grows here.
//!
//! Nothing in `sip`, `diag`, `display` or `report` reads a clock, a socket or a file: time comes in as
//! an argument. `cargo check -p ocer --no-default-features` builds them alone.
//!
//! ## Example: what did the server say?
//!
//! The final response of the spec's example call (MS-OCER §4.1) arrives after a
//! progress report; the collector keeps both, in the order the display rule
//! consults them, and the catalog says what the ErrorId means.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ocer::diag::{Catalog, Collector, CollectorLimits, ErrorId};
//! use ocer::sip::{FramingLimits, RequestIdentity, SipMessage, StatusCode};
//!
//! let limits = FramingLimits::default();
//! let invite = SipMessage::parse(
//!     b"INVITE sip:bob@contoso.com;user=phone SIP/2.0\r\n\
//!       Via: SIP/2.0/TLS 192.168.66.91:49541;branch=z9hG4bK41\r\n\
//!       From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
//!       To: <sip:bob@contoso.com;user=phone>\r\n\
//!       Call-ID: f5290007af32443f8a82daa76c934880\r\n\
//!       CSeq: 1 INVITE\r\n\
//!       Content-Length: 0\r\n\r\n",
//!     &limits,
//! )?;
//! let sent = Instant::now();
//! let mut collector =
//!     Collector::new(RequestIdentity::from_request(&invite)?, sent, CollectorLimits::default());
//!
//! let common = "From: <sip:alice@contoso.com>;tag=d1efe7a825\r\n\
//!               To: <sip:bob@contoso.com;user=phone>;tag=66643C5C\r\n\
//!               Call-ID: f5290007af32443f8a82daa76c934880\r\n\
//!               CSeq: 1 INVITE\r\n";
//! let progress = format!(
//!     "SIP/2.0 101 Progress Report\r\n{common}\
//!      ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n\
//!      Content-Length: 0\r\n\r\n"
//! );
//! let timeout = format!(
//!     "SIP/2.0 504 Server time-out\r\n{common}\
//!      ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n\
//!      Content-Length: 0\r\n\r\n"
//! );
//! collector.observe_response(&SipMessage::parse(progress.as_bytes(), &limits)?, sent + Duration::from_millis(800))?;
//! collector.observe_response(&SipMessage::parse(timeout.as_bytes(), &limits)?, sent + Duration::from_secs(20))?;
//! let record = collector.finish();
//!
//! assert_eq!(record.final_status(), Some(StatusCode(504)));
//! let ids: Vec<_> = record.diagnostics_by_priority().filter_map(|d| d.error_id()).collect();
//! assert_eq!(ids, [ErrorId(1007), ErrorId(12006)]);
//!
//! let entry = &Catalog::LyncServer2010.lookup(ErrorId(1007))[0];
//! assert_eq!((entry.component, entry.reason), ("SipStack", "Temporarily cannot route."));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [MS-OCER]: https://learn.microsoft.com/en-us/openspecs/office_protocols/ms-ocer/

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod diag;
pub mod display;
pub mod report;
pub mod sip;

#[cfg(feature = "ua")]
pub mod ua;
