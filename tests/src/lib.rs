//! Support code for the interop tests of `ocer` against a real third-party SIP
//! peer, [SIPp](https://sipp.sourceforge.net/), on loopback.
//!
//! - [`sipp`] runs SIPp as a user agent server in a child process that is always
//!   killed and reaped, and reports how it ended.
//! - [`stunnel`] puts TLS in front of SIPp (which has none in Debian), with a
//!   test CA made at test time.
//! - [`dnsmasq`] serves a test zone on loopback, for pool discovery.
//! - [`lync_peer`] runs the pyspnego Lync-like registrar.
//! - [`message_log`] reads SIPp's message log back: what it received and
//!   sent, and when.
//! - [`wire`] builds the requests a test client sends (from the MS-OCER 4.1
//!   fixture) and the ACK for a non-2xx final response.
//!
//! The harness deliberately does not use `ocer` itself, so that it cannot share
//! the bugs the tests look for. It is Linux-only: it finds SIPp's listening socket
//! through `/proc`.
//!
//! SIPp comes from the Debian package `sip-tester`, stunnel from `stunnel4`;
//! `scripts/install-test-deps` installs both.

pub mod dnsmasq;
pub mod lync_peer;
pub mod message_log;
pub mod sipp;
pub mod stunnel;
pub mod wire;

/// The transport a test runs SIP over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// One TCP connection carries every call, so messages are framed out of a
    /// byte stream.
    Tcp,
    /// One UDP socket: each datagram is one message.
    Udp,
}

impl Transport {
    /// The transport token of a `Via` header (RFC 3261 §20.42).
    pub fn via_token(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}
