//! What ocer's tests share: scripted SIP peers on loopback, the messages they
//! send, readers of what the SDK reports back, and SIPp-backed servers. One
//! crate, so that the SDK's own `ua_*` tests, the hostile-server suite and the
//! SIPp interop tests script their peers the same way (as h2's tests share
//! `h2-support`).
//!
//! - [`peer`]: the in-process peer, over UDP, TCP or TLS. [`peer::StreamPeer`]
//!   yields connections ([`peer::PeerConn`]) for driver tests that open
//!   several; [`peer::UdpPeer`] is a bare socket; [`peer::Server`] is one
//!   connection or socket read request by request, with retransmissions
//!   skipped and every message the SDK sends checked for diagnostics headers
//!   (a client never sends them: MS-OCER §3.1, §5.1).
//! - [`message`]: requests as an app builds them, the one response builder,
//!   and readers of a message's branch, headers and start line.
//! - [`events`]: transaction events (driver level) and user-agent events,
//!   read with time limits.
//! - [`driver`]: a `Driver` started for a test.
//! - [`tls`]: a test CA for in-process TLS peers, and client configurations
//!   that trust one.
//! - [`timers`]: the SIP timers and retry policy the tests run with.
//! - [`sipp`]: SIPp (with stunnel for TLS) as the server, for the interop
//!   tests of the driver and of the user agent. The process runners are
//!   ocer-interop's, which does not use `ocer` so that it cannot share the
//!   bugs it looks for.
//!
//! Every wait is bounded ([`LIMIT`] unless a module says otherwise), so a
//! broken SDK fails a test instead of hanging it.

// Test support: a failed step panics, which fails the test that took it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

pub mod driver;
pub mod events;
pub mod message;
pub mod peer;
pub mod sipp;
pub mod timers;
pub mod tls;

/// The longest any single step of an in-process test may take.
pub const LIMIT: Duration = Duration::from_secs(10);

/// What most in-process tests use, for one `use ocer_test_support::prelude::*`.
pub mod prelude {
    pub use crate::driver::driver;
    pub use crate::events::{
        collect, collect_until_final, event, responses, statuses, until, Events,
    };
    pub use crate::message::{
        branch, header, progress_and_final, request, response, start_line, CHALLENGE,
    };
    pub use crate::peer::{PeerConn, Server, StreamPeer, UdpPeer};
    pub use crate::timers::fast_timers;
    pub use crate::tls::TestCa;
    pub use crate::LIMIT;
    pub use ocer::ua::transport::TransportKind;
}
