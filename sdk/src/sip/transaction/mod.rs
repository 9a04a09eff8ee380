//! SIP transactions (RFC 3261 §17) as sans-IO state machines.
//!
//! A transaction is fed what happened — a response, the passing of time, a
//! transport failure — with the current time as an argument, and says what it
//! wants done: messages to send ([`ClientTransaction::poll_transmit`]), when
//! to wake it next ([`ClientTransaction::poll_timeout`]), and what to tell its
//! user ([`ClientTransaction::poll_event`]). It reads no clock and touches no
//! socket; the driver in `ua` does both. So every timer of §17.1 is tested
//! here with a fake clock, and responses come out exactly in the order they
//! went in — every `101 Progress Report` included, even one that arrives in
//! the same read as the final response.
//!
//! - [`ClientTransaction`]: INVITE (§17.1.1, Timers A, B, D and the ACK for a
//!   non-2xx final) and non-INVITE (§17.1.2, Timers E, F, K), one type.
//! - [`ServerTransaction`]: the non-INVITE server transaction (§17.2.2, Timer
//!   J) for requests the server sends us; [`incoming_request_disposition`]
//!   decides the answer and [`response_for`] builds it.
//! - [`TimerConfig`] (T1, T2, T4) and [`Reliability`] (UDP or TCP/TLS)
//!   decide the timers.
//! - [`TransactionKey`] and [`top_via_branch`] route responses to their
//!   transaction.
//!
//! # Example: an INVITE over UDP with a fake clock
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ocer::sip::transaction::{
//!     ClientState, ClientTransaction, Reliability, TimerConfig, TransactionEvent,
//! };
//! use ocer::sip::{FramingLimits, SipMessage, StatusCode};
//!
//! let limits = FramingLimits::default();
//! let invite = SipMessage::parse(
//!     b"INVITE sip:bob@contoso.com SIP/2.0\r\n\
//!       Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK77;rport\r\n\
//!       From: <sip:alice@contoso.com>;tag=a1\r\n\
//!       To: <sip:bob@contoso.com>\r\n\
//!       Call-ID: c1\r\n\
//!       CSeq: 1 INVITE\r\n\
//!       Content-Length: 0\r\n\r\n",
//!     &limits,
//! )?;
//! let t0 = Instant::now(); // the only clock read: the fake clock's origin
//! let t1 = Duration::from_millis(500);
//! let mut txn = ClientTransaction::new(invite, Reliability::Unreliable, TimerConfig::default(), t0)?;
//! assert!(txn.poll_transmit().is_some()); // the INVITE goes out at once
//! assert_eq!(txn.poll_timeout(), Some(t0 + t1)); // Timer A
//!
//! // Nothing heard: Timer A fires and the INVITE goes out again.
//! txn.handle_timeout(t0 + t1);
//! assert!(txn.poll_transmit().is_some());
//! assert_eq!(txn.poll_timeout(), Some(t0 + 3 * t1)); // doubled
//!
//! // A progress report and the final response arrive back to back.
//! let response = |status: &str, tag: &str| {
//!     SipMessage::parse(
//!         format!(
//!             "SIP/2.0 {status}\r\n\
//!              Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK77;rport=5060\r\n\
//!              From: <sip:alice@contoso.com>;tag=a1\r\n\
//!              To: <sip:bob@contoso.com>{tag}\r\n\
//!              Call-ID: c1\r\n\
//!              CSeq: 1 INVITE\r\n\
//!              Content-Length: 0\r\n\r\n"
//!         )
//!         .as_bytes(),
//!         &limits,
//!     )
//! };
//! let now = t0 + Duration::from_millis(700);
//! txn.handle_response(response("101 Progress Report", "")?, now);
//! txn.handle_response(response("504 Server Time-out", ";tag=s9")?, now);
//!
//! // The ACK for the 504 carries the INVITE's branch and the 504's To tag.
//! let ack = txn.poll_transmit().expect("ACK");
//! assert!(ack.to_string().starts_with("ACK sip:bob@contoso.com SIP/2.0\r\n"));
//! assert!(ack.to_string().contains("To: <sip:bob@contoso.com>;tag=s9\r\n"));
//!
//! // Both responses, in order; the transaction waits out Timer D (32 s on UDP).
//! let statuses: Vec<_> = std::iter::from_fn(|| txn.poll_event())
//!     .filter_map(|e| match e {
//!         TransactionEvent::Response(r) => r.status(),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(statuses, [StatusCode(101), StatusCode(504)]);
//! assert_eq!(txn.state(), ClientState::Completed);
//! txn.handle_timeout(now + Duration::from_secs(32));
//! assert!(txn.is_terminated());
//! assert!(matches!(txn.poll_event(), Some(TransactionEvent::Terminated)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod answer;
mod client;
mod error;
mod invite;
mod key;
mod non_invite;
mod queue;
mod server;
mod timers;

pub use answer::{incoming_request_disposition, response_for, Disposition, ALLOWED_METHODS};
pub use client::{ClientState, ClientTransaction, TransactionEvent};
pub use error::{TransactionError, TransportFailure, TransportFailureKind};
pub use key::{cseq_of, top_via, top_via_branch, TransactionKey, BRANCH_MAGIC_COOKIE};
pub use server::{ServerState, ServerTransaction};
pub use timers::{Reliability, TimerConfig};

#[cfg(test)]
mod tests;
