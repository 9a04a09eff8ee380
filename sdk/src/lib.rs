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
//! ## Example: embedding the user agent
//!
//! An app builds a [`UserAgent`](ua::UserAgent), registers, and places a call;
//! the call fails the way the spec's example (MS-OCER §4.1) does — `100`, a
//! `101 Progress Report` with ErrorId 12006, then `504` with 1007 — and the app
//! gets the string a Lync 2010 client shows, while the user agent reports the
//! failure to the server by SERVICE on its own. The server here is a stand-in
//! on loopback, scripted that way (its code is hidden; expand the example to
//! see it).
//!
//! ```
//! use ocer::display::{Action, Mode};
//! use ocer::ua::transport::{Target, TransportKind};
//! use ocer::ua::{UaEvent, UserAgent};
//!
//! # async fn stand_in_server(listener: tokio::net::TcpListener) -> std::io::Result<()> {
//! #     use ocer::sip::{frame_stream, Framed, FramingLimits};
//! #     use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! #     let (mut tcp, _) = listener.accept().await?;
//! #     let mut buf = Vec::new();
//! #     loop {
//! #         let request = match frame_stream(&buf, &FramingLimits::default()) {
//! #             Framed::Message { message, consumed } => { buf.drain(..consumed); message }
//! #             Framed::KeepAlive { consumed } => { buf.drain(..consumed); continue; }
//! #             Framed::Incomplete => {
//! #                 let mut chunk = [0u8; 4096];
//! #                 let n = tcp.read(&mut chunk).await?;
//! #                 if n == 0 { return Ok(()); }
//! #                 buf.extend_from_slice(&chunk[..n]);
//! #                 continue;
//! #             }
//! #             Framed::Error { .. } => return Ok(()),
//! #         };
//! #         let reply = |status: &str, extra: &str| {
//! #             let h = |n: &str| request.header_value(&ocer::sip::Name::from(n)).unwrap_or_default().to_owned();
//! #             format!("SIP/2.0 {status}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=srv\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
//! #                 h("Via"), h("From"), h("To"), h("Call-ID"), h("CSeq"))
//! #         };
//! #         match request.method().map(|m| m.to_string()).as_deref() {
//! #             Some("INVITE") => {
//! #                 tcp.write_all(reply("100 Trying", "").as_bytes()).await?;
//! #                 tcp.write_all(reply("101 Progress Report",
//! #                     "ms-diagnostics: 12006;reason=\"Trying next hop\";appName=\"OutboundRouting\"\r\n").as_bytes()).await?;
//! #                 tcp.write_all(reply("504 Server time-out",
//! #                     "ms-diagnostics: 1007;reason=\"Temporarily cannot route\";source=\"server.contoso.com\"\r\n").as_bytes()).await?;
//! #             }
//! #             Some("ACK") => {}
//! #             _ => tcp.write_all(reply("200 OK", "").as_bytes()).await?,
//! #         }
//! #     }
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let server_addr = listener.local_addr()?;
//! # let server = tokio::spawn(stand_in_server(listener));
//! let target = Target::new(TransportKind::Tcp, server_addr);
//! let (ua, mut events) = UserAgent::builder("sip:alice@contoso.com", target)
//!     .credentials("alice", "secret") // answers a digest challenge, if one comes
//!     .build()
//!     .await?;
//! ua.register().await?;
//!
//! let failure = ua
//!     .call("sip:bob@contoso.com;user=phone", None, Mode::Voice, Action::Call)
//!     .await
//!     .expect_err("the stand-in server cannot route calls");
//! // What the user sees (MS-OCER Appendix D: 504 in a voice call)...
//! let shown = failure.display.as_ref().expect("a string for 504 in a voice call");
//! assert_eq!(shown.headline(), "Operation was unsuccessful.");
//! // ...while a log line leads with the technical cause.
//! assert!(failure.to_string().starts_with(r#"504 Server time-out, ms-diagnostics 1007 "Temporarily cannot route""#));
//! // ...and everything the server said about it, in order of priority.
//! let record = failure.record.as_ref().expect("a transaction ran");
//! let ids: Vec<u32> = record.diagnostics_by_priority().filter_map(|d| d.error_id()).map(|id| id.0).collect();
//! assert_eq!(ids, [1007, 12006]);
//!
//! // The events tell the story: each provisional response, the failure, and
//! // the report the user agent queued and sent by SERVICE.
//! loop {
//!     match events.recv().await.expect("the user agent is running") {
//!         UaEvent::Progress { status, diagnostics, .. } => {
//!             println!("progress {}: {} diagnostics", status.0, diagnostics.len())
//!         }
//!         UaEvent::Failed { failure, .. } => println!("failed: {failure}"),
//!         UaEvent::ReportSent { report_id } => {
//!             println!("report {report_id} delivered");
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! ua.shutdown().await; // unregisters first
//! # server.await??;
//! # Ok(())
//! # })
//! # }
//! ```
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
//! - [`ua`] (feature `ua`, on by default): the IO side — the async
//!   [`UserAgent`](ua::UserAgent) (register, call, IM, conference join,
//!   sharing, automatic error reporting), the driver and its UDP, TCP and TLS
//!   transports, the durable report outbox, loading extra locales from a
//!   directory.
//!
//! Nothing in `sip`, `diag`, `display` or `report` reads a clock, a socket or a
//! file: time comes in as an argument. `cargo check -p ocer --no-default-features`
//! builds them alone.
//!
//! ## Example: what did the server say? (sans-IO)
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

pub mod auth;
pub mod diag;
pub mod display;
pub mod report;
pub mod sip;

#[cfg(feature = "ua")]
pub mod ua;
